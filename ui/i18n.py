"""The page's words in Chinese and English. Replies come from the library in the question's language."""
from __future__ import annotations

LANGUAGES = ("zh", "en")
# The value of <html lang> for each page language.
HTML_LANG = {"zh": "zh-CN", "en": "en"}

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "exoqa — what the sources say about commercial exosome therapies",
        "tagline": "Answers only with verbatim, cited quotes from its sources. Information, not medical advice. "
                   "In an emergency, call your local emergency number.",
        "about_summary": "What exoqa is and is not",
        "about": (
            "**What this is:** a search assistant over one Chinese popular-science article on commercial "
            "“exosome” (外泌体) therapies and the sources it cites. It answers only with verbatim, cited quotes "
            "from those sources.\n\n"
            "**What it is not:** medical advice. It does not recommend treatments, doses, clinics or products, "
            "and it cannot assess symptoms. In an emergency, call your local emergency number.\n\n"
            "Your conversation is kept in this browser only (until you clear it); nothing is sent off this "
            "machine. Feedback you send is stored on this server."
        ),
        "skip_to_isev": "ISEV patient safety warnings",
        "language": "Language / 语言",
        "tab_chat": "Chat",
        "tab_sources": "Sources",
        "chat_label": "Conversation",
        "chat_empty": "Ask a question below, or pick an example. Replies quote the sources word for word.",
        "question_label": "Your question",
        "placeholder": "Ask about exosome therapies, e.g. “Did the FDA approve any exosome product?”",
        "send": "Ask",
        "clear": "Clear conversation",
        "examples": "Example questions",
        "counter": "{count} / {limit} characters",
        "counter_over": "{count} / {limit} characters: {over} too many. Shorten the question to ask it.",
        "empty_submit": "Nothing was sent: type a question first.",
        "too_long_submit": "Nothing was sent: the question has {count} characters, the limit is {limit}. "
                           "Your text is kept so you can shorten it.",
        "invalid_submit": "Nothing was sent: {message}. Your text is kept.",
        "wait_submit": "Please wait: exoqa is still answering your previous question.",
        "you": "You",
        "exoqa": "exoqa",
        "pending": "Searching the sources…",
        "status_waiting": "Question sent. Searching the sources…",
        "status_received": "Reply received: {badge}.",
        "stale_reply": "This question got no reply (the page was closed or reloaded while waiting). Please ask it "
                       "again.",
        "pin_heading": "Emergency: read this first",
        "dismiss": "Dismiss",
        "isev_heading": "ISEV patient safety warnings",
        "isev_note": "",
        "isev_link": "ISEV 2020 patient information and safety notice",
        "isev_from_article": "As reported in the article “{title}”",
        "badge_answer": "From the sources",
        "badge_no_answer": "Not covered by the sources",
        "badge_refuse": "Not medical advice",
        "badge_emergency": "Emergency",
        "badge_notice": "Notice",
        "reply_label": "exoqa's reply: {badge}",
        "question_turn_label": "Your question",
        "open_quote": "open in context",
        "read_in_source": "Read in the source",
        "gloss_label": "Translation by exoqa, not source text:",
        "cite_label": "Open quote {n}",
        "sources_line": "Sources:",
        "copy_md": "Copy as Markdown",
        "copied": "Copied to the clipboard.",
        "copy_failed": "Could not copy: select the text and copy it by hand.",
        "download_md": "Download .md",
        "rate_up": "Helpful",
        "rate_down": "Not helpful",
        "feedback_legend": "Your feedback on this reply",
        "feedback_note": "Optional note: what was right or wrong?",
        "feedback_send": "Send feedback",
        "feedback_saved": "Thank you: your feedback was saved on this server.",
        "feedback_failed": "Feedback could not be saved: {message}",
        "role": "Role",
        "year": "Year",
        "licence": "Licence",
        "link": "Link",
        "completeness": "Completeness",
        "language_col": "Language",
        "ref": "Ref.",
        "source_title": "Title",
        "text_col": "Text",
        "sources_intro": (
            "Every source of the corpus. Sources marked “metadata only” are listed by the article but their text "
            "is not in the corpus, so they are never quoted."
        ),
        "read_source": "Read the text",
        "no_text": "Not in the corpus",
        "passages_nav": "Passages of this source",
        "passage_label": "Passage {k} of {n} (characters {start}–{end})",
        "prev_passage": "Previous passage",
        "next_passage": "Next passage",
        "editorial": "Editorial note, not quoted:",
        "warnings_in_reply": "ISEV patient safety warnings",
        "status_loading": "Loading the model and the index…",
        "status_building": "Building the search index… {done} of {total} texts embedded ({percent}%).",
        "status_building_count": "Building the search index… {done} texts embedded.",
        "status_error": "exoqa could not start: {message}",
        "not_ready_reply": "exoqa is still starting ({status}). Please ask again in a moment.",
        "invalid_reply": "That question cannot be asked: {message}.",
        "busy_reply": "exoqa is busy answering other questions. Please try again in a moment.",
        "error_reply": "exoqa could not answer: {message}",
        "empty_reply": "Please type a question first.",
        "md_question": "Question",
        "md_reply": "exoqa's reply",
        "md_sources": "Sources",
        "md_characters": "characters {start}–{end}",
        "md_footer": "Quoted verbatim by exoqa; offsets are character positions in the source text of its corpus.",
    },
    "zh": {
        "title": "exoqa —— 关于商业“外泌体”疗法,来源怎么说",
        "tagline": "只用来源中逐字引用、注明出处的原文回答。仅供参考,不是医疗建议。紧急情况请拨打当地急救电话。",
        "about_summary": "exoqa 是什么、不是什么",
        "about": (
            "**这是什么:** 一个检索助手,资料范围是一篇关于商业“外泌体”疗法的中文科普文章及其引用的来源。"
            "它只用这些来源中逐字引用、注明出处的原文来回答。\n\n"
            "**这不是什么:** 医疗建议。它不推荐疗法、剂量、诊所或产品,也无法评估症状。紧急情况请拨打当地急救电话。\n\n"
            "对话只保存在本浏览器中(直到您清除),不会发送到本机以外。您提交的反馈保存在本服务器上。"
        ),
        "skip_to_isev": "ISEV 患者安全提醒",
        "language": "语言 / Language",
        "tab_chat": "对话",
        "tab_sources": "来源",
        "chat_label": "对话",
        "chat_empty": "请在下方输入问题,或选择一个示例问题。回答逐字引用来源原文。",
        "question_label": "您的问题",
        "placeholder": "请输入问题,例如:外泌体是怎么提取分离的?",
        "send": "提问",
        "clear": "清除对话",
        "examples": "示例问题",
        "counter": "{count} / {limit} 字",
        "counter_over": "{count} / {limit} 字:超出 {over} 字,请缩短后再提问。",
        "empty_submit": "未发送:请先输入问题。",
        "too_long_submit": "未发送:问题共 {count} 字,上限为 {limit} 字。您的文字已保留,可缩短后再提问。",
        "invalid_submit": "未发送:{message}。您的文字已保留。",
        "wait_submit": "请稍候:exoqa 仍在回答您上一个问题。",
        "you": "您",
        "exoqa": "exoqa",
        "pending": "正在检索来源…",
        "status_waiting": "问题已发送,正在检索来源…",
        "status_received": "已收到回复:{badge}。",
        "stale_reply": "这个问题没有收到回复(等待时页面被关闭或刷新)。请重新提问。",
        "pin_heading": "紧急情况:请先阅读",
        "dismiss": "关闭",
        "isev_heading": "ISEV 患者安全提醒",
        "isev_note": "以下为文章中对 ISEV 2020 年提醒的转述(原文照录)。",
        "isev_link": "ISEV 2020 患者信息与安全提醒(英文)",
        "isev_from_article": "摘自文章《{title}》",
        "badge_answer": "来源原文",
        "badge_no_answer": "来源未涉及",
        "badge_refuse": "非医疗建议",
        "badge_emergency": "紧急情况",
        "badge_notice": "提示",
        "reply_label": "exoqa 的回复:{badge}",
        "question_turn_label": "您的问题",
        "open_quote": "查看上下文",
        "read_in_source": "在来源中阅读",
        "gloss_label": "exoqa 的翻译,不是来源原文:",
        "cite_label": "打开引文 {n}",
        "sources_line": "来源:",
        "copy_md": "复制为 Markdown",
        "copied": "已复制到剪贴板。",
        "copy_failed": "无法复制:请手动选择文字并复制。",
        "download_md": "下载 .md",
        "rate_up": "有帮助",
        "rate_down": "没有帮助",
        "feedback_legend": "您对这条回复的反馈",
        "feedback_note": "可选备注:哪里对、哪里不对?",
        "feedback_send": "提交反馈",
        "feedback_saved": "谢谢:您的反馈已保存在本服务器上。",
        "feedback_failed": "反馈未能保存:{message}",
        "role": "类型",
        "year": "年份",
        "licence": "许可",
        "link": "链接",
        "completeness": "完整度",
        "language_col": "语言",
        "ref": "编号",
        "source_title": "标题",
        "text_col": "正文",
        "sources_intro": "语料库中的全部来源。标为“仅文献信息”的来源只有文献信息、没有正文,因此从不被引用。",
        "read_source": "阅读正文",
        "no_text": "语料库中无正文",
        "passages_nav": "本来源的段落",
        "passage_label": "第 {k} 段,共 {n} 段(字符 {start}–{end})",
        "prev_passage": "上一段",
        "next_passage": "下一段",
        "editorial": "编者注,不被引用:",
        "warnings_in_reply": "ISEV 患者安全提醒",
        "status_loading": "正在加载模型和索引…",
        "status_building": "正在建立检索索引… 已嵌入 {done}/{total} 段文本({percent}%)。",
        "status_building_count": "正在建立检索索引… 已嵌入 {done} 段文本。",
        "status_error": "exoqa 无法启动:{message}",
        "not_ready_reply": "exoqa 仍在启动({status}),请稍后再问。",
        "invalid_reply": "无法提问:{message}。",
        "busy_reply": "exoqa 正忙于回答其他问题,请稍后再试。",
        "error_reply": "exoqa 无法回答:{message}",
        "empty_reply": "请先输入问题。",
        "md_question": "问题",
        "md_reply": "exoqa 的回复",
        "md_sources": "来源",
        "md_characters": "字符 {start}–{end}",
        "md_footer": "exoqa 逐字引用;偏移量是引文在其语料库来源正文中的字符位置。",
    },
}

# Label for a quote whose source is in another language than the question: keyed by the source's language.
OTHER_LANGUAGE_LABEL = {
    "en": {"zh": "quoted from a Chinese source", "en": "quoted from an English source"},
    "zh": {"zh": "中文原文", "en": "英文原文"},
}

ROLE_NAMES = {
    "zh": {"article": "文章", "regulator": "监管机构", "study": "研究", "review": "综述", "news": "新闻",
           "profile": "人物介绍", "statement": "声明", "document": "文档"},
    "en": {},
}

LANGUAGE_NAMES = {"zh": {"zh": "中文", "en": "英文"}, "en": {"zh": "Chinese", "en": "English"}}

COMPLETENESS_NAMES = {
    "zh": {"full": "全文", "partial": "部分正文", "abstract": "摘要", "metadata-only": "仅文献信息"},
    "en": {"full": "full text", "partial": "partial text", "abstract": "abstract", "metadata-only": "metadata only"},
}

# The corpus's licence lines, in Chinese; a licence not listed here (e.g. of an ingested document) is shown as is.
LICENCE_NAMES = {
    "zh": {
        "CC BY 4.0": "CC BY 4.0(知识共享署名 4.0)",
        "Public domain (U.S. government work)": "公有领域(美国政府作品)",
        "not redistributed (metadata only)": "不转载(仅文献信息)",
        "Copyright of its author; used as the project's given source material": "版权归作者所有;作为本项目给定的资料使用",
        "Chinese government notice (quoted with attribution; copyright status not verified)":
            "中国政府公告(注明出处引用;版权状况未核实)",
        "unknown": "未知",
    },
    "en": {},
}

EXAMPLES = {
    # Questions the sources answer (the article raises isolation only as rhetorical questions, so "外泌体是怎么
    # 提取分离的?" is not an example: its best quote is one of them). tests/test_quote_choice.py checks each.
    "zh": ["外泌体是什么?", "FDA 批准过外泌体产品吗?", "市售外泌体产品有哪些风险?", "我该不该去打外泌体?"],
    "en": ["What is an exosome?", "Did the FDA approve any exosome product?",
           "What risks do unapproved exosome products carry?", "Should I get exosome injections for my knee?"],
}


def language_of(value: object) -> str:
    """'zh' for any Chinese locale or label, else 'en' (the page's fallback language)."""
    return "zh" if str(value or "").lower().startswith("zh") else "en"


def t(language: str, key: str, **values: object) -> str:
    text = STRINGS[language_of(language)][key]
    return text.format(**values) if values else text


def role_name(language: str, role: str) -> str:
    return ROLE_NAMES[language_of(language)].get(role, role)


def language_name(language: str, code: str) -> str:
    return LANGUAGE_NAMES[language_of(language)].get(code, code)


def completeness_name(language: str, completeness: str) -> str:
    return COMPLETENESS_NAMES[language_of(language)].get(completeness, completeness)


def licence_name(language: str, licence: str) -> str:
    return LICENCE_NAMES[language_of(language)].get(licence, licence)
