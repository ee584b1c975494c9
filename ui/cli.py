"""The `exoqa` command line: ask, search, build, sources, eval, ingest, serve, mcp, feedback (it calls the `assistant`
library)."""
from __future__ import annotations

import argparse
import json
import sys

from assistant.retrieval.embeddings import DEFAULT_MODEL
from assistant.errors import ExoqaError, InvalidQuestionError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exoqa", description="Cited, verbatim answers about exosome therapies.")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (default: bundled e5-small)")
    parser.add_argument("--allow-download", action="store_true", help="let sentence-transformers fetch a hub model")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="settings",
                        help="change a setting (repeatable), e.g. --set rrf_k=5; see assistant/settings.py")
    parser.add_argument("--backend", default=None, metavar="faiss|postgresql://...",
                        help="where the index lives (default: faiss files; a PostgreSQL URL needs exoqa[postgres])")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question with quotes")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    search = sub.add_parser("search", help="show the best passages")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    build = sub.add_parser("build", help="rebuild the index")
    build.add_argument("--ray", default=None, metavar="ADDRESS",
                       help="embed on a Ray cluster: its address, auto (the one `ray start` began) or local "
                       "(needs exoqa[ray])")
    sources = sub.add_parser("sources", help="list the corpus sources")
    sources.add_argument("--json", action="store_true")
    serve = sub.add_parser("serve", help="run the web chat and the HTTP JSON API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--corpus", default=None, help="corpus directory (default: the shipped corpus)")
    for command in (ask, search, build, sources):
        command.add_argument("--corpus", default=None, help="corpus directory (default: the shipped corpus)")
    evaluate = sub.add_parser("eval", help="score the assistant on question files (JSON Lines) or a BEIR dataset")
    evaluate.add_argument("questions", nargs="*", help="question files (retrieval and/or safety items), or one BEIR "
                          "dataset directory (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)")
    evaluate.add_argument("--corpus", default=None, help="corpus directory (default: the shipped corpus)")
    evaluate.add_argument("--k", type=int, default=10, help="passages retrieved per question (default 10)")
    evaluate.add_argument("--out", default="exoqa-eval-report", help="report directory (default ./exoqa-eval-report)")
    evaluate.add_argument("--thresholds", default=None, help="JSON {min: {path: v}, max: {path: v}}; exit 1 if missed")
    evaluate.add_argument("--no-progress", action="store_true")
    # BEIR datasets, TREC runs and paired significance (assistant/evaluation/beir.py)
    evaluate.add_argument("--split", default="test", help="BEIR: the judgments to score, qrels/<split>.tsv")
    evaluate.add_argument("--run", default=None, help="BEIR: TREC run file to write (default <out>/run.trec)")
    evaluate.add_argument("--run-tag", default="exoqa", help="BEIR: the run's name in its TREC file")
    evaluate.add_argument("--depth", type=int, default=100, help="BEIR: documents ranked per query (default 100)")
    evaluate.add_argument("--index-dir", default=None, help="BEIR: where the dataset's index is kept "
                          "(default <dataset>/.exoqa-index/)")
    evaluate.add_argument("--measures", nargs="+", default=None, metavar="MEASURE",
                          help="BEIR and --compare: ir-measures names (default nDCG@10 RR@10 R@10 R@100 Success@1 "
                          "Success@5)")
    evaluate.add_argument("--compare", nargs=2, default=None, metavar=("RUN_A", "RUN_B"),
                          help="paired t-test and randomisation test of two TREC runs over --qrels")
    evaluate.add_argument("--qrels", default=None, help="--compare: qrels (BEIR TSV or TREC) or a BEIR dataset dir")
    mcp = sub.add_parser("mcp", help="serve ask, search and sources as MCP tools on stdio (needs exoqa[mcp])")
    mcp.add_argument("--corpus", default=None, help="corpus directory (default: the shipped corpus)")
    feedback = sub.add_parser("feedback", help="the chat's 👍/👎 feedback: export it as a question file")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True)
    export = feedback_sub.add_parser("export", help="write feedback as a question file `exoqa eval` reads")
    export.add_argument("--data", default=None, help="data directory (default: $EXOQA_DATA_DIR or ~/.local/share/exoqa)")
    export.add_argument("--out", default="feedback_questions.jsonl", help="question file to write")
    export.add_argument("--review", default=None, help="where 👎 and follow-ups go for a person to label "
                        "(default: <out> with .review.jsonl)")
    export.add_argument("--corpus", default=None, help="corpus the quotes are checked against (default: shipped)")
    ingest = sub.add_parser("ingest", help="add .txt/.md/.html/.pdf documents to a corpus and update its index")
    ingest.add_argument("paths", nargs="+", help="files or folders")
    ingest.add_argument("--corpus", default=None, help="corpus directory (default: the shipped corpus)")
    ingest.add_argument("--license", default="unknown", help="licence recorded for these documents")
    ingest.add_argument("--url", default="", help="URL recorded for these documents")
    ingest.add_argument("--no-index", action="store_true", help="only write corpus files; index on first use")
    ingest.add_argument("--ray", default=None, metavar="ADDRESS", help="embed on a Ray cluster (see build --ray)")
    ingest.add_argument("--replace", action="store_true",
                        help="let a different document replace the one already under its id (else it is refused)")
    ingest.add_argument("--max-chars", type=int, default=None, metavar="N",
                        help="characters of new text one run may add to the index (default 1,000,000)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from assistant.core import Assistant
    from assistant.paths import default_corpus_dir, default_index_dir
    from assistant.settings import Settings, parse_assignments
    from assistant.text.normalize import clean_question

    try:
        args.settings = Settings.from_env(**{**parse_assignments(args.settings),
                                             **({"backend": args.backend} if args.backend else {})})
        if args.command == "serve":
            from ui.server import serve

            serve(host=args.host, port=args.port, corpus_dir=args.corpus, model=args.model,
                  allow_download=args.allow_download, settings=args.settings)
            return 0
        if args.command == "mcp":
            try:
                from ui.mcp_server import run
            except ImportError as exc:
                print(f"exoqa: the MCP server needs the mcp package: pip install 'exoqa[mcp]' ({exc})",
                      file=sys.stderr)
                return 1
            run(corpus_dir=args.corpus, model=args.model, allow_download=args.allow_download, settings=args.settings)
            return 0
        if args.command in ("ask", "search"):
            clean_question(args.question if args.command == "ask" else args.query)  # fail before loading
        if args.command == "build":
            from assistant.corpus.sources import load_corpus
            from assistant.retrieval.embeddings import load_embedder
            from assistant.retrieval.retriever import build_index

            corpus_dir = args.corpus or default_corpus_dir()
            corpus, embedder = load_corpus(corpus_dir), load_embedder(args.model, args.allow_download)
            if args.ray or args.settings.backend != "faiss":
                return _build_elsewhere(args, corpus, embedder, default_index_dir(args.model, corpus_dir))
            build_index(corpus, embedder, default_index_dir(args.model, corpus_dir), args.settings)
            print(f"index written to {default_index_dir(args.model, corpus_dir)}")
            return 0
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "feedback":
            return _feedback_export(args)
        if args.command == "eval":
            return _eval(args)
        assistant = Assistant.load(corpus_dir=args.corpus, model=args.model, allow_download=args.allow_download,
                                   settings=args.settings)
        if args.command == "ask":
            answer = assistant.ask(args.question)
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if args.json else answer.text)
        elif args.command == "search":
            passages = assistant.search(args.query, args.k)
            if args.json:
                print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
            else:
                for n, p in enumerate(passages, 1):
                    print(f"[{n}] {p.source_id} {p.start}-{p.end} score={p.score:.4f}\n{p.text}\n")
        else:
            cards = assistant.sources()
            if args.json:
                print(json.dumps(cards, ensure_ascii=False, indent=2))
            else:
                for card in cards:
                    print(f"{card['source_id']}: [{card['ref'] or '-'}] {card['title']} "
                          f"({card['role']}, {card['year']}, {card['completeness']}; {card['license']})")
        return 0
    except InvalidQuestionError as exc:
        print(f"exoqa: {exc}", file=sys.stderr)
        return 2
    except ExoqaError as exc:
        print(f"exoqa: {exc}", file=sys.stderr)
        return 1


def _ingest(args: argparse.Namespace) -> int:
    """Exit 0 when every file was ingested or unchanged, 2 when some were skipped (the rest is kept)."""
    from pathlib import Path

    from assistant.corpus.sources import load_corpus
    from assistant.paths import default_corpus_dir, default_index_dir
    from assistant.retrieval.embeddings import load_embedder
    from assistant.corpus.ingest import MAX_INGEST_CHARS, duration, ingest
    from assistant.retrieval.incremental import estimate_build, source_keys
    from assistant.retrieval.retriever import build_index, plan_index

    corpus_dir = Path(args.corpus) if args.corpus else default_corpus_dir()
    max_chars = MAX_INGEST_CHARS if args.max_chars is None else args.max_chars
    result = ingest([Path(p) for p in args.paths], corpus_dir, license=args.license, url=args.url,
                    max_chars=max_chars, replace=args.replace)
    for status in ("added", "updated", "replaced", "unchanged"):
        for source_id in getattr(result, status):
            print(f"{status}: {source_id}")
    for name, reason in result.skipped:
        print(f"skipped: {name}: {reason}", file=sys.stderr)
    print(f"{len(result.added)} added, {len(result.updated)} updated, {len(result.replaced)} replaced, "
          f"{len(result.unchanged)} unchanged, {len(result.skipped)} skipped -> {corpus_dir}")
    if not args.no_index and (result.changed or result.unchanged):
        index_dir = default_index_dir(args.model, corpus_dir)
        corpus, embedder = load_corpus(corpus_dir), load_embedder(args.model, args.allow_download)
        if args.ray or args.settings.backend != "faiss":
            return _build_elsewhere(args, corpus, embedder, index_dir) or (2 if result.skipped else 0)
        plan = plan_index(corpus, embedder, args.settings)
        estimate = estimate_build(index_dir, embedder.dim, plan.units, plan.texts,
                                  source_keys(embedder.model_id, plan.units, plan.texts), embedder.embed_passages)
        print(f"indexing: {estimate.to_embed:,} of {estimate.total:,} texts to embed "
              f"({estimate.characters:,} characters), {estimate.reused:,} reused; "
              f"estimated {duration(estimate.seconds)} on this machine now", flush=True)
        reused = build_index(corpus, embedder, index_dir, args.settings)
        print(f"index updated at {index_dir} ({reused} vectors reused from unchanged sources)")
    return 2 if result.skipped else 0


def _build_elsewhere(args: argparse.Namespace, corpus, embedder, index_dir) -> int:
    """Build (incrementally) into PostgreSQL (--backend), or embed on Ray (--ray); 0 when done, 2 for both."""
    if args.settings.backend != "faiss":
        if args.ray:
            print("exoqa: --ray builds the local index; it cannot be combined with --backend yet", file=sys.stderr)
            return 2
        from assistant.retrieval.postgres import build_postgres_index, describe

        reused = build_postgres_index(corpus, embedder, args.settings.backend, args.settings, seed_index_dir=index_dir)
        print(f"index written to PostgreSQL ({describe(args.settings.backend)}; {reused} vectors reused from "
              "unchanged sources)")
        return 0
    from assistant.retrieval.distributed import build_index_ray

    built = build_index_ray(corpus, embedder, index_dir, args.settings, address=args.ray, model=args.model,
                            allow_download=args.allow_download)
    print(f"index written to {index_dir}: {built.embedded} texts embedded on Ray by {built.actors} actors in "
          f"{built.shards} shards ({built.shards_resumed} resumed from an earlier run), {built.reused} vectors "
          f"reused from unchanged sources, {built.seconds:.1f} s")
    return 0


def _feedback_export(args: argparse.Namespace) -> int:
    """Exit 0 with the question file (and the review file) written, 2 when there is no feedback to export."""
    from pathlib import Path

    from assistant.corpus.sources import load_corpus
    from assistant.paths import default_corpus_dir
    from ui.feedback import FeedbackStore, to_items, write_jsonl

    store = FeedbackStore(Path(args.data) if args.data else None)
    export = to_items(store.records(), load_corpus(Path(args.corpus) if args.corpus else default_corpus_dir()))
    if not export.records:
        print(f"exoqa: no feedback in {store.path}", file=sys.stderr)
        return 2
    out = Path(args.out)
    review = Path(args.review) if args.review else out.with_name(out.name.removesuffix(".jsonl") + ".review.jsonl")
    write_jsonl(out, export.items)
    write_jsonl(review, export.review)
    print(f"{export.records} feedback records: {len(export.items)} questions -> {out} (for `exoqa eval`), "
          f"{len(export.review)} to label -> {review}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    """Exit 0 with a report, 1 when a figure misses its threshold (report still written), 2 for bad files."""
    from pathlib import Path

    from assistant.core import Assistant
    from assistant.evaluation import beir
    from assistant.evaluation.run import QuestionFileError, check_thresholds, evaluate, load_question_files, write_report

    if args.compare or args.qrels:
        return _compare(args)
    if not args.questions:
        print("exoqa: eval needs question files, a BEIR dataset directory, or --compare RUN_A RUN_B", file=sys.stderr)
        return 2
    if any(beir.is_dataset(Path(p)) for p in args.questions):
        return _eval_beir(args)
    try:
        questions = load_question_files([Path(p) for p in args.questions])
        thresholds = json.loads(Path(args.thresholds).read_text(encoding="utf-8")) if args.thresholds else None
    except (QuestionFileError, OSError, ValueError) as exc:
        print(f"exoqa: {exc}", file=sys.stderr)
        return 2
    for skipped in questions.skipped:
        print(f"skipped {skipped['file']}:{skipped['line']}: {skipped['error']}", file=sys.stderr)
    if questions.skipped:
        print(f"skipped {len(questions.skipped)} malformed line(s); scoring {len(questions.items)}", file=sys.stderr)
    assistant = Assistant.load(corpus_dir=args.corpus, model=args.model, allow_download=args.allow_download,
                               settings=args.settings)
    report, samples = evaluate(assistant, questions, k=args.k, progress=not args.no_progress)
    written = write_report(report, Path(args.out), samples)
    print(f"report written to {Path(args.out) / 'report.md'} ({len(written)} files)")
    failures = check_thresholds(report, thresholds) if thresholds else []
    for failure in failures:
        print(f"below threshold: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _eval_beir(args: argparse.Namespace) -> int:
    """Exit 0 with run.trec and a report, 2 for an unusable dataset or options."""
    from pathlib import Path

    from assistant.evaluation import beir
    from assistant.retrieval.embeddings import load_embedder

    if len(args.questions) != 1:
        print("exoqa: eval takes one BEIR dataset directory (question files cannot be mixed in)", file=sys.stderr)
        return 2
    try:
        dataset = beir.load_dataset(Path(args.questions[0]), args.split)
        beir.parse_measures(args.measures or beir.DEFAULT_MEASURES)
    except beir.DatasetError as exc:
        print(f"exoqa: {exc}", file=sys.stderr)
        return 2
    report = beir.evaluate_dataset(dataset, load_embedder(args.model, args.allow_download), Path(args.out),
                                   run_path=args.run, measures=args.measures or beir.DEFAULT_MEASURES,
                                   depth=args.depth, index_dir=args.index_dir, settings=args.settings,
                                   tag=args.run_tag, progress=not args.no_progress)
    print(beir.render_report(report), end="")
    print(f"run written to {report['run_file']}; report in {Path(args.out) / beir.REPORT_MD}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    """Exit 0 with the comparison printed and written to --out, 2 for unusable runs, qrels or options."""
    from pathlib import Path

    from assistant.evaluation import beir

    if not (args.compare and args.qrels) or args.questions:
        print("exoqa: --compare RUN_A RUN_B needs --qrels (and no question files)", file=sys.stderr)
        return 2
    try:
        qrels = beir.read_qrels(Path(args.qrels), args.split)
        comparison = beir.compare_runs(Path(args.compare[0]), Path(args.compare[1]), qrels,
                                       args.measures or beir.DEFAULT_MEASURES)
    except beir.DatasetError as exc:
        print(f"exoqa: {exc}", file=sys.stderr)
        return 2
    written = beir.write_comparison(comparison, Path(args.out))
    print(beir.render_comparison(comparison), end="")
    print(f"comparison written to {written[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
