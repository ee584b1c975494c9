"""Score an Assistant on question files: retrieval, answers, safety and latency, as report.json/report.md/PNGs.

A question file is JSON Lines. Two kinds of item may be mixed in one file:

- retrieval: {"id", "lang", "question", "gold": str | [str], "source_id"?, "category"?}. A passage is relevant
  when it contains a gold string; an item without gold counts passages of `source_id` as relevant.
- safety: {"id", "lang", "category", "expected": "answer" | "refuse" | "refer_emergency", "question"}.

Malformed lines are reported with their file and line number and skipped; the rest is scored.
Every figure except latency is a pure function of the inputs, so the same inputs give the same report.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from assistant.evaluation import metrics
from assistant.evaluation import safety_metrics
from assistant.reply.answer import verify_quote
from assistant.reply.isev import warnings_for
from assistant.safety.policy import decision_of
from assistant.text.normalize import clean_question
from assistant.atomic import write_atomic
from assistant.errors import ExoqaError, InvalidQuestionError

REPORT_JSON, REPORT_MD = "report.json", "report.md"
PLOTS = {"recall_curve": "recall_at_k.png", "latency": "latency_hist.png", "confusion": "safety_confusion.png"}
LATENCY_PERCENTILES = (50, 95)


class QuestionFileError(ExoqaError):
    """A question file cannot be read at all, or holds no usable item."""


@dataclass
class QuestionSet:
    items: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)   # {"file", "line", "error"}
    files: list[dict] = field(default_factory=list)     # {"name", "sha256", "lines", "loaded", "skipped"}


def _text(obj: dict, key: str, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string")
    return value


def validate_item(obj: object) -> dict:
    """A normalised item with "kind" set to "retrieval" or "safety"; ValueError says what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    item = {"id": _text(obj, "id"), "lang": _text(obj, "lang")}
    try:
        item["question"] = clean_question(obj.get("question"))
    except InvalidQuestionError as exc:
        raise ValueError(f"'question': {exc}") from None
    if "expected" in obj:
        try:
            expected = decision_of(str(obj["expected"]))
        except ValueError:
            expected = None
        if expected not in safety_metrics.EXPECTED:
            raise ValueError(f"'expected' must be one of {', '.join(safety_metrics.EXPECTED)} "
                             "(or the older 'refer_emergency')") from None
        return {**item, "kind": "safety", "expected": str(expected), "category": _text(obj, "category")}
    gold = obj.get("gold")
    if isinstance(gold, str):
        gold = [gold]
    if gold is not None and (not isinstance(gold, list) or not gold
                             or not all(isinstance(g, str) and g.strip() for g in gold)):
        raise ValueError("'gold' must be a non-empty string or a non-empty list of non-empty strings")
    source_id = _text(obj, "source_id", required=False)
    if gold is None and source_id is None:
        raise ValueError("needs 'gold' or 'source_id' (a retrieval item) or 'expected' (a safety item)")
    category = _text(obj, "category", required=False)
    return {**item, "kind": "retrieval", "gold": gold, "source_id": source_id, "category": category}


def load_question_files(paths: Iterable[Path]) -> QuestionSet:
    loaded = QuestionSet()
    seen: set[str] = set()
    for path in map(Path, paths):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise QuestionFileError(f"cannot read question file {path}: {exc.strerror or exc}") from exc
        lines = data.decode("utf-8", errors="replace").splitlines()
        before_items, before_skipped = len(loaded.items), len(loaded.skipped)
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = validate_item(json.loads(line))
                if item["id"] in seen:
                    raise ValueError(f"duplicate id {item['id']!r}")
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                loaded.skipped.append({"file": path.name, "line": number, "error": str(exc)})
                continue
            seen.add(item["id"])
            loaded.items.append({**item, "file": path.name, "line": number})
        loaded.files.append({"name": path.name, "sha256": hashlib.sha256(data).hexdigest(), "lines": len(lines),
                             "loaded": len(loaded.items) - before_items,
                             "skipped": len(loaded.skipped) - before_skipped})
    if not loaded.items:
        raise QuestionFileError("no usable question in " + ", ".join(str(p) for p in paths)
                                + "".join(f"\n  {s['file']}:{s['line']}: {s['error']}" for s in loaded.skipped[:10]))
    return loaded


def _groups(records: Sequence[dict]) -> dict[str, dict[str, list[dict]]]:
    """Records grouped by language and by category (records without a category are left out of the latter)."""
    out: dict[str, dict[str, list[dict]]] = {"by_lang": defaultdict(list), "by_category": defaultdict(list)}
    for record in records:
        out["by_lang"][record["lang"]].append(record)
        if record.get("category"):
            out["by_category"][record["category"]].append(record)
    return {key: dict(sorted(groups.items())) for key, groups in out.items()}


def _broken_down(records: Sequence[dict], score: Callable[[Sequence[dict]], dict]) -> dict:
    result = {"all": score(records)}
    for key, groups in _groups(records).items():
        result[key] = {name: score(group) for name, group in groups.items()}
    return result


def _retrieval_figures(records: Sequence[dict]) -> dict:
    return metrics.mean_figures([r["ranking"] for r in records])


def _answer_figures(records: Sequence[dict]) -> dict:
    scored = [r for r in records if r["kind"] == "retrieval"]
    quotes = sum(r["quotes"] for r in records)
    return {
        "n": len(records),
        "gold_in_answer": metrics.mean([float(r["gold_in_answer"]) for r in scored]),
        "gold_in_first_quote": metrics.mean([float(r["gold_in_first_quote"]) for r in scored]),
        "abstention_rate": metrics.mean([float(r["decision"] == "no_answer") for r in scored]),
        "quotes": quotes,
        "quote_validity": sum(r["valid_quotes"] for r in records) / quotes if quotes else None,
        "isev_warning_rate": metrics.mean([float(r["isev_warning"]) for r in records]),
    }


def _latency_figures(records: Sequence[dict]) -> dict:
    stages = sorted({stage for r in records for stage in r["latency_ms"]})
    return {stage: {f"p{q}": _round(metrics.percentile([r["latency_ms"][stage] for r in records
                                                        if stage in r["latency_ms"]], q), 3)
                    for q in LATENCY_PERCENTILES} for stage in stages}


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _evaluate_item(assistant, item: dict, k: int) -> dict:
    """One item through one ask; a retrieval item also keeps its ranked passages (one retrieval per item: the
    ask's own, or a search when the gate stopped the question before retrieval)."""
    record = {key: item.get(key) for key in ("id", "kind", "lang", "category")}
    answer = assistant.ask(item["question"], k=k)
    record["latency_ms"] = dict(answer.timings_ms)
    record["decision"] = str(answer.decision)
    record["quotes"] = len(answer.quotes)
    record["valid_quotes"] = sum(verify_quote(assistant.corpus, q) for q in answer.quotes)
    shown = warnings_for(answer.warnings, answer.language)
    record["isev_warning"] = bool(shown) and all(w.text in answer.text for w in shown)
    if item["kind"] == "retrieval":
        passages = answer.passages
        if not passages:
            t0 = time.perf_counter()
            passages = assistant.search(item["question"], k)
            record["latency_ms"]["search_ms"] = (time.perf_counter() - t0) * 1e3
        record["run"] = [(p.source_id, p.start, p.end) for p in passages]
        flags = [metrics.is_relevant(p.text, p.source_id, item["gold"], item["source_id"]) for p in passages]
        record["rank"] = metrics.first_rank(flags)
        quote_flags = [metrics.is_relevant(q.text, q.source_id, item["gold"], item["source_id"])
                       for q in answer.quotes]
        record["gold_in_answer"] = any(quote_flags)
        record["gold_in_first_quote"] = bool(quote_flags and quote_flags[0])
    else:
        record["expected"] = item["expected"]
    return record


def _score_rankings(index_passages, items: Sequence[dict], retrieval: list[dict]) -> None:
    """Each retrieval record's metrics (record["ranking"]), against every relevant passage of the index."""
    by_id = {item["id"]: item for item in items}
    key = lambda p: (p.source_id, p.start, p.end)  # noqa: E731 - a passage's identity in runs and qrels
    relevant_of: dict[tuple, set] = {}
    qrels, runs = {}, {}
    for record in retrieval:
        item = by_id[record["id"]]
        wanted = (tuple(item["gold"] or ()), item["source_id"])
        if wanted not in relevant_of:
            relevant_of[wanted] = {str(key(p)) for p in index_passages
                                   if metrics.is_relevant(p.text, p.source_id, item["gold"], item["source_id"])}
        qrels[record["id"]] = relevant_of[wanted]
        runs[record["id"]] = [str(tuple(unit)) for unit in record.pop("run")]
    scores = metrics.per_query(runs, qrels)
    for record in retrieval:
        record["ranking"] = scores[record["id"]]


def latency_samples(report_records: Sequence[dict]) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = defaultdict(list)
    for record in report_records:
        for stage, value in record["latency_ms"].items():
            samples[stage].append(value)
    return dict(samples)


def evaluate(assistant, questions: QuestionSet, k: int = 10, progress: bool = True) -> tuple[dict, dict]:
    """Run every item through `assistant`: (report, latency samples per stage). Nothing is written."""
    if not 1 <= k <= 100:
        raise InvalidQuestionError("k must be from 1 to 100")
    records = [_evaluate_item(assistant, item, k)
               for item in tqdm(questions.items, desc="evaluating", unit="q", disable=not progress)]
    retrieval = [r for r in records if r["kind"] == "retrieval"]
    _score_rankings(assistant.retriever.index.passages, questions.items, retrieval)
    safety = [r for r in records if r["kind"] == "safety"]
    report: dict = {
        "exoqa_version": _version(),
        "model": assistant.retriever.embedder.model_id,
        "index_manifest": {key: value for key, value in assistant.retriever.index.manifest.items()
                           if key != "source_keys"},
        "corpus": {"content_hash": assistant.corpus.content_hash, "sources": len(assistant.corpus.sources)},
        "question_files": questions.files,
        "k": k,
        "counts": {"items": len(records), "retrieval": len(retrieval), "safety": len(safety),
                   "skipped": len(questions.skipped)},
        "skipped": questions.skipped,
    }
    if retrieval:
        report["retrieval"] = _broken_down(retrieval, _retrieval_figures)
        by_lang = _groups(retrieval)["by_lang"]
        report["recall_curve"] = {
            lang: metrics.recall_curve([r["rank"] for r in group], k)
            for lang, group in {"all": retrieval, **by_lang}.items()}
        report["retrieval_misses@5"] = [r["id"] for r in retrieval if r["rank"] is None or r["rank"] > 5]
    report["answers"] = _broken_down(records, _answer_figures)
    if safety:
        report["safety"] = safety_metrics.summary(
            [{"expected": r["expected"], "decision": r["decision"], "lang": r["lang"], "category": r["category"]}
             for r in safety])
        report["safety_errors"] = [{"id": r["id"], "expected": r["expected"], "decision": r["decision"]}
                                   for r in safety if r["decision"] not in safety_metrics.CORRECT[r["expected"]]]
    report["latency_ms"] = _broken_down(records, _latency_figures)
    report["items"] = [{key: value for key, value in r.items() if key != "latency_ms"} for r in records]
    return report, latency_samples(records)


def _version() -> str:
    from assistant import __version__

    return __version__


def lookup(report: dict, dotted: str):
    """report["a"]["b"]... for "a.b..."; KeyError names the missing path."""
    value = report
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def check_thresholds(report: dict, thresholds: dict) -> list[str]:
    """Failures, as readable lines, of {"min": {path: bound}, "max": {path: bound}} against the report."""
    failures = []
    for kind, compare in (("min", lambda v, b: v >= b), ("max", lambda v, b: v <= b)):
        for path, bound in thresholds.get(kind, {}).items():
            try:
                value = lookup(report, path)
            except KeyError:
                failures.append(f"{path}: not in the report (needed {kind} {bound})")
                continue
            if value is None or not compare(value, bound):
                failures.append(f"{path} = {value} is {'below' if kind == 'min' else 'above'} {bound}")
    return failures


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(title: str, section: dict, columns: Sequence[str]) -> list[str]:
    lines = [f"### {title}", "", "| group | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    rows = [("all", section["all"])]
    for key in ("by_lang", "by_category"):
        rows += [(f"{key[3:]}: {name}", figures) for name, figures in section.get(key, {}).items()]
    for name, figures in rows:
        lines.append(f"| {name} | " + " | ".join(_fmt(figures.get(c)) for c in columns) + " |")
    return lines + [""]


def render_markdown(report: dict) -> str:
    files = ", ".join(f"`{f['name']}` (sha256 {f['sha256'][:12]}…, {f['loaded']} items, {f['skipped']} skipped)"
                      for f in report["question_files"])
    manifest = report["index_manifest"]
    lines = ["# exoqa evaluation report", "",
             f"exoqa {report['exoqa_version']}, model `{report['model']}`, index of corpus "
             f"{str(manifest.get('corpus_hash', ''))[:12]}…, k = {report['k']}.", "",
             f"Questions: {files}. Scored {report['counts']['items']} "
             f"({report['counts']['retrieval']} retrieval, {report['counts']['safety']} safety); "
             f"skipped {report['counts']['skipped']} malformed line(s).", ""]
    for skipped in report["skipped"]:
        lines.append(f"- skipped {skipped['file']}:{skipped['line']}: {skipped['error']}")
    if report["skipped"]:
        lines.append("")
    if "retrieval" in report:
        lines += _table("Retrieval", report["retrieval"],
                        ["n", "recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10"])
    lines += _table("Answers", report["answers"],
                    ["n", "gold_in_answer", "gold_in_first_quote", "abstention_rate", "quotes", "quote_validity",
                     "isev_warning_rate"])
    if "safety" in report:
        s = report["safety"]
        lines += ["### Safety", "",
                  f"Harmful compliance: {s['harmful_compliance']['count']} of {s['harmful_compliance']['total']}; "
                  f"over-refusal rate: {_fmt(s['over_refusal']['rate'])}; "
                  f"emergency recall: {_fmt(s['emergency_recall']['recall'])}; "
                  f"accuracy: {_fmt(s['accuracy']['accuracy'])}.", "",
                  "| expected \\ decision | " + " | ".join(safety_metrics.DECISIONS) + " |",
                  "|---" * (len(safety_metrics.DECISIONS) + 1) + "|"]
        for expected, row in s["confusion_matrix"]["matrix"].items():
            lines.append(f"| {expected} | " + " | ".join(str(row[d]) for d in safety_metrics.DECISIONS) + " |")
        lines += ["", "| group | harmful compliance | over-refusal rate | emergency recall | accuracy |",
                  "|---|---|---|---|---|"]
        for key in ("by_lang", "by_category"):
            for name in s["accuracy"].get(key, {}):
                lines.append(f"| {key[3:]}: {name} | {s['harmful_compliance'][key][name]['count']} | "
                             f"{_fmt(s['over_refusal'][key][name]['rate'])} | "
                             f"{_fmt(s['emergency_recall'][key][name]['recall'])} | "
                             f"{_fmt(s['accuracy'][key][name]['accuracy'])} |")
        lines.append("")
    lines += ["### Latency (ms, p50 / p95)", "", "| group | stage | p50 | p95 |", "|---|---|---|---|"]
    latency = report["latency_ms"]
    for name, stages in [("all", latency["all"]), *((f"lang: {n}", v) for n, v in latency["by_lang"].items())]:
        for stage, figures in stages.items():
            lines.append(f"| {name} | {stage} | {_fmt(figures['p50'])} | {_fmt(figures['p95'])} |")
    lines += ["", "Per-category latency is in report.json. Plots: "
              + ", ".join(f"`{name}`" for name in PLOTS.values()) + "."]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out_dir: Path, latency_samples: dict[str, list[float]] | None = None) -> list[Path]:
    """report.json, report.md and the PNG plots into `out_dir`; returns the paths written.

    `latency_samples` ({stage: [ms per question]}) feeds the latency histogram; report.json keeps only
    percentiles so that it stays identical across runs apart from its latency section.
    """
    from assistant.evaluation import plots

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in ((REPORT_JSON, json.dumps(report, indent=2, ensure_ascii=False) + "\n"),
                       (REPORT_MD, render_markdown(report))):
        write_atomic(out_dir / name, data)
        written.append(out_dir / name)
    if "recall_curve" in report:
        written.append(plots.recall_curve(report["recall_curve"], out_dir / PLOTS["recall_curve"]))
    if latency_samples:
        written.append(plots.latency_histogram(latency_samples, out_dir / PLOTS["latency"]))
    if "safety" in report:
        written.append(plots.confusion_matrix(report["safety"]["confusion_matrix"]["matrix"],
                                              out_dir / PLOTS["confusion"]))
    return written
