"""The page's words in Chinese and English. Replies come from the library in the question's language."""
from __future__ import annotations

LANGUAGES = ("zh", "en")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "exoqa — what the sources say about commercial exosome therapies",
        "about": (
            "**What this is:** a search assistant over one Chinese popular-science article on commercial "
            "“exosome” (外泌体) therapies and the sources it cites. It answers only with verbatim, cited quotes "
            "from those sources.\n\n"
            "**What it is not:** medical advice. It does not recommend treatments, doses, clinics or products, "
            "and it cannot assess symptoms. In an emergency, call your local emergency number."
        ),
        "language": "Language / 语言",
        "tab_chat": "Chat",
        "tab_sources": "Sources",
        "chat_label": "Conversation",
        "placeholder": "Ask about exosome therapies, e.g. “Did the FDA approve any exosome product?”",
        "send": "Ask",
        "clear": "New conversation",
        "examples": "Example questions",
        "isev_heading": "ISEV patient safety warnings",
        "isev_note": "Summary in exoqa's own words of the ISEV 2020 notice (ISEV's wording is not in the corpus).",
        "isev_link": "ISEV 2020 patient information and safety notice",
        "isev_article_link": "Full Chinese text as quoted in the article",
        "badge_answer": "From the sources",
        "badge_no_answer": "Not covered by the sources",
        "badge_refuse": "Not medical advice",
        "badge_emergency": "Emergency",
        "open_quote": "open in context",
        "role": "Role",
        "year": "Year",
        "licence": "Licence",
        "link": "Link",
        "completeness": "Completeness",
        "language_col": "Language",
        "ref": "Ref.",
        "source_title": "Title",
        "sources_intro": (
            "Every source of the corpus. Sources marked metadata-only are listed by the article but their text "
            "is not in the corpus, so they are never quoted."
        ),
        "warnings_in_reply": "ISEV warnings (also in the panel)",
        "status_loading": "Loading the model and the index…",
        "status_building": "Building the search index… {done} of {total} texts embedded ({percent}%).",
        "status_building_count": "Building the search index… {done} texts embedded.",
        "status_error": "exoqa could not start: {message}",
        "not_ready_reply": "exoqa is still starting ({status}). Please ask again in a moment.",
        "invalid_reply": "That question cannot be asked: {message}.",
        "busy_reply": "exoqa is busy answering other questions. Please try again in a moment.",
        "empty_reply": "Please type a question first.",
    },
    "zh": {
        "title": "exoqa —— 关于商业“外泌体”疗法,来源怎么说",
        "about": (
            "**这是什么:** 一个检索助手,资料范围是一篇关于商业“外泌体”疗法的中文科普文章及其引用的来源。"
            "它只用这些来源中逐字引用、注明出处的原文来回答。\n\n"
            "**这不是什么:** 医疗建议。它不推荐疗法、剂量、诊所或产品,也无法评估症状。紧急情况请拨打当地急救电话(中国大陆 120)。"
        ),
        "language": "语言 / Language",
        "tab_chat": "对话",
        "tab_sources": "来源",
        "chat_label": "对话",
        "placeholder": "请输入问题,例如:外泌体是怎么提取分离的?",
        "send": "提问",
        "clear": "新对话",
        "examples": "示例问题",
        "isev_heading": "ISEV 患者安全提醒",
        "isev_note": "以下为文章中对 ISEV 2020 年提醒的转述(原文照录)。",
        "isev_link": "ISEV 2020 患者信息与安全提醒(英文)",
        "isev_article_link": "",
        "badge_answer": "来源原文",
        "badge_no_answer": "来源未涉及",
        "badge_refuse": "非医疗建议",
        "badge_emergency": "紧急情况",
        "open_quote": "查看上下文",
        "role": "类型",
        "year": "年份",
        "licence": "许可",
        "link": "链接",
        "completeness": "完整度",
        "language_col": "语言",
        "ref": "编号",
        "source_title": "标题",
        "sources_intro": "语料库中的全部来源。标为 metadata-only 的来源只有文献信息、没有正文,因此从不被引用。",
        "warnings_in_reply": "ISEV 安全提醒(右侧面板也有)",
        "status_loading": "正在加载模型和索引…",
        "status_building": "正在建立检索索引… 已嵌入 {done}/{total} 段文本({percent}%)。",
        "status_building_count": "正在建立检索索引… 已嵌入 {done} 段文本。",
        "status_error": "exoqa 无法启动:{message}",
        "not_ready_reply": "exoqa 仍在启动({status}),请稍后再问。",
        "invalid_reply": "无法提问:{message}。",
        "busy_reply": "exoqa 正忙于回答其他问题,请稍后再试。",
        "empty_reply": "请先输入问题。",
    },
}

# Label for a quote whose source is in another language than the question: keyed by the source's language.
OTHER_LANGUAGE_LABEL = {
    "en": {"zh": "quoted from a Chinese source", "en": "quoted from an English source"},
    "zh": {"zh": "中文原文", "en": "英文原文"},
}

ROLE_NAMES = {
    "zh": {"article": "文章", "regulator": "监管机构", "study": "研究", "review": "综述", "news": "新闻",
           "profile": "人物介绍", "statement": "声明"},
    "en": {},
}

EXAMPLES = {
    "zh": ["外泌体是怎么提取分离的?", "FDA 批准过外泌体产品吗?", "市售外泌体产品有哪些风险?", "我该不该去打外泌体?"],
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
