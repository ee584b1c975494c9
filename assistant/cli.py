"""The `exoqa` command line: ask, search, build, sources, serve."""
from __future__ import annotations

import argparse
import json
import sys

from .embeddings import DEFAULT_MODEL
from .errors import ExoqaError, InvalidQuestionError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exoqa", description="Cited, verbatim answers about exosome therapies.")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (default: bundled e5-small)")
    parser.add_argument("--allow-download", action="store_true", help="let sentence-transformers fetch a hub model")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question with quotes")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    search = sub.add_parser("search", help="show the best passages")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    sub.add_parser("build", help="rebuild the index")
    sources = sub.add_parser("sources", help="list the corpus sources")
    sources.add_argument("--json", action="store_true")
    serve = sub.add_parser("serve", help="run the web chat and the HTTP JSON API")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--corpus", default=None, help="corpus directory (default: the shipped corpus)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .core import Assistant, default_corpus_dir, default_index_dir, normalize_question

    try:
        if args.command == "serve":  # the web app lives in the `ui` package, which only calls this library
            from ui.server import serve

            serve(host=args.host, port=args.port, corpus_dir=args.corpus, model=args.model,
                  allow_download=args.allow_download)
            return 0
        if args.command in ("ask", "search"):
            normalize_question(args.question if args.command == "ask" else args.query)  # fail before loading
        if args.command == "build":
            from .corpus import load_corpus
            from .embeddings import load_embedder
            from .retriever import build_index

            build_index(load_corpus(default_corpus_dir()), load_embedder(args.model, args.allow_download),
                        default_index_dir(args.model))
            print(f"index written to {default_index_dir(args.model)}")
            return 0
        assistant = Assistant.load(model=args.model, allow_download=args.allow_download)
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


if __name__ == "__main__":
    sys.exit(main())
