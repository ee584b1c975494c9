"""The translation layer (corpus/translations/): aligned, indexed, recorded in the manifest, shown only as a gloss."""
import json
import logging
import shutil

import numpy as np
import pytest

from assistant import Assistant
from assistant.corpus.sources import load_corpus
from assistant.corpus.translations import OTHER_LANGUAGE, load_translations
from assistant.errors import CorpusError, IndexMismatchError
from assistant.paths import SHIPPED_CORPUS, SHIPPED_INDEXES
from assistant.retrieval.retriever import Retriever, expected_manifest
from assistant.settings import Settings


def test_every_translation_is_aligned_to_a_quotable_sentence_of_the_shipped_corpus(assistant):
    translations = load_translations(assistant.corpus)
    sentences = {(s.source_id, s.start, s.end) for s in assistant.retriever.index.sentences}
    assert len(translations) == len(sentences) == 304 and translations.stale == 0
    assert set(translations.by_span) == sentences
    same = [text for (source_id, start, end), text in translations.by_span.items()
            if text == assistant.corpus[source_id].text[start:end]]
    assert all(len(text) <= 3 for text in same)  # only fragments cut by a gap ("Th") read the same


def test_the_index_records_the_translations_hash_and_holds_a_gloss_row_per_sentence(assistant):
    index = assistant.retriever.index
    manifest = expected_manifest(assistant.corpus, assistant.retriever.embedder, assistant.settings)
    assert index.manifest["translations"] == manifest["translations"] == load_translations(assistant.corpus).manifest()
    assert index.sentence_vectors.ntotal == 2 * len(index.sentences)
    assert index.passage_vectors.ntotal == len(index.passages) + len(index.passage_glosses) > len(index.passages)
    off = expected_manifest(assistant.corpus, assistant.retriever.embedder, Settings(translation_layer=False))
    assert off["translations"] is None  # an index without the layer is a different index


def _corpus_copy(tmp_path):
    corpus_dir = tmp_path / "corpus"
    shutil.copytree(SHIPPED_CORPUS, corpus_dir)
    return corpus_dir


def test_an_edited_translation_makes_the_index_stale(tmp_path, assistant):
    corpus_dir = _corpus_copy(tmp_path)
    path = corpus_dir / "translations" / "en_to_zh.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[1])
    first["translation"] += "(改)"
    path.write_text("\n".join([lines[0], json.dumps(first, ensure_ascii=False), *lines[2:]]) + "\n", encoding="utf-8")
    shutil.copytree(SHIPPED_INDEXES / "e5-small", tmp_path / "index")
    corpus = load_corpus(corpus_dir)
    with pytest.raises(IndexMismatchError, match="translations"):
        Retriever.open(corpus, assistant.retriever.embedder, tmp_path / "index", rebuild="never")


def test_a_stale_or_malformed_translation_line_is_reported(tmp_path, caplog):
    corpus_dir = _corpus_copy(tmp_path)
    path = corpus_dir / "translations" / "zh_to_en.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    stale = json.loads(lines[0])
    stale["text"] = stale["text"] + "x"  # the source no longer says this at those offsets
    path.write_text("\n".join([json.dumps(stale, ensure_ascii=False), *lines[1:]]) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="exoqa"):
        translations = load_translations(load_corpus(corpus_dir))
    assert translations.stale == 1 and len(translations) == 303
    assert "no longer match" in caplog.text
    path.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"zh_to_en.jsonl:1"):
        load_translations(load_corpus(corpus_dir))


@pytest.mark.parametrize("question, reader", [("FDA 批准过外泌体产品吗?", "zh"),
                                              ("What does the Guangdong regulator say about exosome cosmetics?", "en")])
def test_a_quote_in_the_other_language_carries_its_gloss_and_stays_verbatim(assistant, question, reader):
    answer = assistant.ask(question)
    translations = load_translations(assistant.corpus)
    assert answer.language == reader and answer.quotes
    other = [q for q in answer.quotes if assistant.corpus[q.source_id].language != reader]
    assert other, "the question is about a source in the other language"
    for q in answer.quotes:
        assert assistant.corpus[q.source_id].text[q.start:q.end] == q.text
        if assistant.corpus[q.source_id].language == reader:
            assert q.gloss is None
        else:
            assert q.gloss and q.gloss not in assistant.corpus[q.source_id].text
            assert q.gloss.split("\n")[0] == translations.of(q.source_id, q.start, q.start + len(q.text.split("\n")[0]))
            assert all(line in answer.text for line in q.gloss.splitlines())  # shown, under its label
            assert OTHER_LANGUAGE[assistant.corpus[q.source_id].language] == reader
    label = "exoqa 的翻译,不是来源原文" if reader == "zh" else "Translation by exoqa, not source text"
    assert label in answer.text
    assert answer.to_dict()["quotes"][0]["gloss"] == answer.quotes[0].gloss


def test_a_translation_lifts_a_cross_lingual_sentence_to_its_better_score(assistant):
    """A sentence's similarity is the better of its original's and its translation's, in the question's language."""
    retriever = assistant.retriever
    query = retriever.query("目前有没有经过FDA批准的外泌体产品?")
    retrieval = retriever.retrieve(query)
    target = next(i for i, s in enumerate(retriever.index.sentences)
                  if s.text == "There are currently no FDA-approved exosome products.")
    vectors = retriever.index.sentence_vectors.reconstruct_n(0, retriever.index.sentence_vectors.ntotal)
    rows = retriever._sentences.rows(query.language)
    own = rows.owner == target
    scores = vectors[own] @ query.vector[0]
    assert len(scores) == 2 and scores[1] > scores[0]  # the Chinese translation is closer to a Chinese question
    assert np.isclose(retrieval.sentence_similarity[target], scores.max())
    assert retrieval.sentence_lexical[target] > retriever.sentence_lexical.scores(query.expanded)[target]


def test_without_the_layer_a_corpus_falls_back_on_the_dictionary(tmp_path):
    """A corpus without translations: CC-CEDICT turns a Chinese question's words into English search terms."""
    from assistant.corpus.sources import Corpus

    corpus = Corpus.from_documents([
        {"id": "kidneys", "title": "Kidneys", "text": "Kidney stones form when minerals crystallise in urine."},
        {"id": "weather", "title": "Weather", "text": "Thunderstorms bring heavy rain in the afternoon."},
        {"id": "zh-note", "title": "说明", "language": "zh", "text": "这是一段中文说明。"},
    ])
    on = Assistant(corpus, Retriever.open(corpus, _embedder(), tmp_path / "on", settings=Settings()))
    off_settings = Settings(dictionary_translation=False)
    off = Assistant(corpus, Retriever.open(corpus, _embedder(), tmp_path / "off", settings=off_settings))
    question = "肾结石是怎么形成的"  # no word of it is in the question's own language in these documents
    kidneys = [i for i, s in enumerate(on.retriever.index.sentences) if s.source_id == "kidneys"]
    weather = [i for i, s in enumerate(on.retriever.index.sentences) if s.source_id == "weather"]
    with_dictionary = on.retriever.retrieve(on.retriever.query(question)).sentence_lexical
    without = off.retriever.retrieve(off.retriever.query(question)).sentence_lexical
    assert with_dictionary[kidneys].max() > 0 and without[kidneys].max() == 0
    assert with_dictionary[weather].max() == 0
    assert on.search(question, 1)[0].source_id == "kidneys"


def _embedder():
    from assistant.retrieval.embeddings import load_embedder

    return load_embedder()
