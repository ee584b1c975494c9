"""The source documents: parsing corpus files, ingest of new documents, sentences and passages, context headers."""
from assistant.corpus.sources import Corpus, Region, Source, load_corpus

__all__ = ["Corpus", "Region", "Source", "load_corpus"]
