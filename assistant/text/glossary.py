"""A small bilingual domain glossary: expands a query with the other language's terms,
so BM25 can match an English question to the Chinese article and the reverse."""
from __future__ import annotations

import re
from collections.abc import Collection

# (English, Chinese) pairs of domain terms; general vocabulary of the field, not questions.
PAIRS = [
    ("exosome", "外泌体"), ("extracellular vesicle", "细胞外囊泡"), ("ultracentrifugation", "超速离心"),
    ("polymer precipitation", "聚合物沉淀"), ("size-based filtration", "基于尺寸的过滤"), ("isolat", "分离"),
    ("extract", "提取"), ("characteriz", "鉴定"), ("quality control", "质量控制"), ("pathogen", "致病因子"),
    ("steril", "无菌"), ("endotoxin", "内毒素"), ("cold chain", "冷藏"), ("refrigerat", "冷藏"),
    ("degrad", "降解"), ("storage", "保存"), ("transport", "运输"), ("safety", "安全性"), ("efficacy", "有效性"),
    ("mesenchymal stem cell", "间充质干细胞"), ("stem cell", "干细胞"), ("cell line", "细胞系"),
    ("plant", "植物"), ("animal", "动物"), ("marketing", "营销"), ("hype", "炒作"), ("covid", "新冠"),
    ("adverse event", "不良事件"), ("nebraska", "内布拉斯加"), ("fda", "FDA"), ("approved", "批准"),
    ("cosmetic", "化妆品"), ("guangdong", "广东"), ("regulat", "监管"), ("label", "标签"),
    ("pseudo-concept", "伪概念"), ("clinical trial", "临床试验"), ("clinicaltrials.gov", "clinicaltrials.gov"),
    ("registry", "注册中心"), ("japan", "日本"), ("lung cancer", "肺癌"), ("cancer", "癌症"),
    ("growth factor", "生长因子"), ("contaminat", "污染"), ("impurit", "杂质"), ("infection", "感染"),
    ("bacteria", "细菌"), ("virus", "病毒"), ("expensive", "价格昂贵"), ("red flag", "警讯"),
    ("cure-all", "万灵药"), ("testimonial", "证言"), ("informed consent", "知情同意"), ("isev", "ISEV"),
    ("drug deliver", "递送药物"), ("deliver", "递送"), ("diagnos", "诊断"), ("treat", "治疗"),
    ("anti-aging", "抗衰"), ("aging", "衰老"), ("mitochondri", "线粒体"), ("mice", "小鼠"), ("mouse", "小鼠"),
    ("fibroblast", "成纤维细胞"), ("doxorubicin", "多柔比星"), ("melanoma", "黑色素瘤"), ("mrna", "mRNA"),
    ("inhal", "吸入"), ("liposome", "脂质体"), ("blood-brain barrier", "血脑屏障"), ("oral", "口服"),
    ("immunogenic", "免疫原性"), ("immune", "免疫"), ("target", "靶向"), ("metasta", "转移"),
    ("breast cancer", "乳腺癌"), ("prostate", "前列腺癌"), ("tumor", "肿瘤"), ("tumour", "肿瘤"),
    ("biomarker", "线索"), ("blood", "血液"), ("ethic", "伦理"), ("bioethic", "伦理学家"),
    ("neurodegenerat", "神经退行性"), ("brain", "脑细胞"), ("double-edged", "双刃剑"), ("risk", "风险"),
    ("pros", "优点"), ("cons", "缺点"), ("advantage", "优势"), ("disadvantage", "缺点"), ("batch", "批次"),
    ("standard", "标准"), ("plastic surgeon", "整形外科医生"), ("cambridge", "剑桥大学"),
    ("reading", "雷丁大学"), ("karolinska", "卡罗林斯卡学院"), ("columbia", "哥伦比亚大学"),
    ("md anderson", "安德森癌症中心"), ("heart", "心脏"), ("skin", "皮肤"), ("hair loss", "秃头"),
    ("price", "价格"), ("money", "钱"), ("cost", "价格"), ("scien", "科学"), ("evidence", "证据"),
    ("embryonic", "胚胎"), ("induced pluripotent", "诱导多能"), ("hematopoietic", "造血"), ("neural", "神经"),
    ("endothelial", "内皮"), ("vesicle", "囊泡"), ("nanometer", "纳米"), ("protein", "蛋白质"),
]
# English entries are word prefixes ("isolat" matches "isolation"), except these short words.
_WHOLE_WORDS = {"pros", "cons", "oral", "mice", "cost", "reading"}
_EN = [(re.compile(r"\b" + re.escape(en) + (r"\b" if en in _WHOLE_WORDS else ""), re.IGNORECASE), zh)
       for en, zh in PAIRS]


def expand(query: str, languages: Collection[str] = ("zh", "en")) -> str:
    """The query followed by the glossary terms of the other language it mentions.

    Terms are added only in `languages`, the languages the corpus is written in: Chinese terms cannot help
    find an all-English corpus, and they blur the query's embedding.
    """
    extra = [zh for pattern, zh in _EN if pattern.search(query) and zh not in query] if "zh" in languages else []
    if "en" in languages:
        extra += [en for en, zh in PAIRS if zh in query and en.lower() not in query.lower()]
    return " ".join([query, *dict.fromkeys(extra)])
