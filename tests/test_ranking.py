"""Candidate-limited ranking gives exactly the full-sort answer where it matters."""
import faiss
import numpy as np

from assistant.retrieval import fusion as ranking


def _full_sort_rrf(scores, rrf_k, zero_is_unranked=False):
    ranks = np.empty(len(scores), np.float32)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    out = 1.0 / (rrf_k + ranks)
    if zero_is_unranked:
        out[scores <= 0] = 0.0
    return out


def test_small_rankings_are_exactly_the_full_sort():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, 300).astype(np.float32)  # many ties
    np.testing.assert_array_equal(ranking.rrf(scores, 3.0), _full_sort_rrf(scores, 3.0))
    np.testing.assert_array_equal(ranking.rrf(scores, 3.0, zero_is_unranked=True),
                                  _full_sort_rrf(scores, 3.0, zero_is_unranked=True))


def test_large_rankings_keep_the_top_exact_and_drop_the_tail():
    rng = np.random.default_rng(1)
    scores = np.round(rng.random(50_000), 3).astype(np.float32)  # ties across the cut too
    full = _full_sort_rrf(scores, 5.0)
    limited = ranking.rrf(scores, 5.0, depth=1_000)
    top = np.argsort(-scores, kind="stable")[:1_000]
    np.testing.assert_array_equal(limited[top], full[top])
    assert np.count_nonzero(limited) == 1_000
    np.testing.assert_array_equal(ranking.top_ids(scores, 10), top[:10])


def test_hybrid_scores_are_the_full_computation_on_the_shipped_index(assistant):
    """Real vectors, real BM25: with every item in reach, fusion equals a full sort of every ranking."""
    r = assistant.retriever
    passages, sentences = r.index.passage_vectors, r.index.sentence_vectors
    n_passages, n_sentences = len(r.index.passages), len(r.index.sentences)
    assert passages.ntotal > n_passages and sentences.ntotal > n_sentences  # the shipped index has glosses
    owner = np.zeros(n_sentences, dtype=np.int64)
    for p, members in enumerate(r.index.passage_sentences):
        owner[members.start:members.stop] = p
    for question in ("外泌体是怎么提取分离的?", "Did the FDA approve any exosome product?", "endotoxin"):
        language = r.query(question).language
        passage_rows, sentence_rows = r._passages.rows(language), r._sentences.rows(language)
        vector = r.embedder.embed_queries([question])
        lexical = r.lexical.scores(question)

        def best_row(matrix, rows):  # an item's similarity: the best of its rows that count for the language
            out = np.full(rows.items, -1.0, np.float32)
            np.maximum.at(out, rows.owner[rows.usable], (matrix @ vector[0])[rows.usable])
            return out

        passage_dense = best_row(passages.reconstruct_n(0, passages.ntotal), passage_rows)
        sentence_dense = best_row(sentences.reconstruct_n(0, sentences.ntotal), sentence_rows)
        best = np.full(n_passages, -1.0, np.float32)
        np.maximum.at(best, owner, sentence_dense)
        expected = (_full_sort_rrf(passage_dense, 3.0) + 2.0 * _full_sort_rrf(best, 3.0)
                    + 1.5 * _full_sort_rrf(lexical, 3.0, zero_is_unranked=True))
        fused, sentence_sim = ranking.hybrid_scores(passages, sentences, owner, lexical, vector, (1.0, 2.0, 1.5), 3.0,
                                                    passage_rows=passage_rows, sentence_rows=sentence_rows)
        np.testing.assert_allclose(sentence_sim, sentence_dense, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(ranking.top_ids(fused, 10), ranking.top_ids(expected, 10))
        np.testing.assert_allclose(fused, expected, rtol=1e-5)


def _synthetic_hybrid_args() -> tuple:
    """hybrid_scores arguments over 2,000 random passages of 3 sentences each; the query sits near passage 0."""
    rng = np.random.default_rng(3)
    sentences = rng.standard_normal((6_000, 32)).astype(np.float32)
    sentences /= np.linalg.norm(sentences, axis=1, keepdims=True)
    owner = np.repeat(np.arange(2_000), 3)
    passages = sentences.reshape(2_000, 3, 32).mean(axis=1)
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    p_index, s_index = faiss.IndexFlatIP(32), faiss.IndexFlatIP(32)
    p_index.add(passages)
    s_index.add(sentences)
    lexical = np.where(rng.random(2_000) < 0.05, rng.random(2_000) * 10, 0).astype(np.float32)
    query = passages[:1] + 0.05 * rng.standard_normal((1, 32)).astype(np.float32)
    return p_index, s_index, owner, lexical, query, (1.0, 1.0, 1.5), 3.0


def test_shortlists_find_the_same_best_passages_as_the_full_computation():
    args = _synthetic_hybrid_args()
    full, _ = ranking.hybrid_scores(*args, depth=10_000)
    limited, sentence_sim = ranking.hybrid_scores(*args, depth=200)
    np.testing.assert_array_equal(ranking.top_ids(limited, 10), ranking.top_ids(full, 10))
    assert np.count_nonzero(sentence_sim > -1) == 200


def _positive_z(scores, ranked):
    out = np.zeros(len(scores))
    values = scores[ranked].astype(np.float64)
    out[ranked] = np.maximum((values - values.mean()) / values.std(), 0.0)
    return out


def test_score_term_adds_standardised_scores_over_the_ranked_items(assistant):
    """With every item in reach, the score term is each ranking's positive z-score over the items it ranks
    (all passages for the dense rankings, the matched ones for BM25), times its weight."""
    r = assistant.retriever
    passages, sentences = r.index.passage_vectors, r.index.sentence_vectors
    owner = r._sentence_owner
    score_weights = (0.15, 0.06, 0.09)
    for question in ("外泌体是怎么提取分离的?", "Did the FDA approve any exosome product?"):
        vector = r.embedder.embed_queries([question])
        lexical = r.lexical.scores(question)
        language = r.query(question).language
        dense = ranking.dense_rankings(passages, sentences, owner, vector, passage_rows=r._passages.rows(language),
                                       sentence_rows=r._sentences.rows(language))
        plain = ranking.fuse(dense, lexical, (1.0, 1.0, 1.5), 3.0)
        with_scores = ranking.fuse(dense, lexical, (1.0, 1.0, 1.5), 3.0, score_weights=score_weights)
        everything = np.arange(len(lexical))
        expected = (plain + 0.15 * _positive_z(dense.passage_similarity, everything)
                    + 0.06 * _positive_z(dense.best_sentence, everything)
                    + 0.09 * _positive_z(lexical, np.flatnonzero(lexical > 0)))
        np.testing.assert_allclose(with_scores, expected, rtol=1e-5, atol=1e-6)
        assert np.all(with_scores >= plain)  # the term only adds: an unranked item never overtakes a ranked one


def test_standardised_is_the_positive_z_score_of_the_ranked_items():
    scores = np.array([4.0, 9.0, 1.0, 0.0, 5.0], np.float32)
    ranked = np.array([4, 0, 2])  # 9.0 is not ranked, so it does not enter the mean (3.33) or the spread
    out = ranking.standardised(scores, ranked)
    np.testing.assert_allclose(out, _positive_z(scores, ranked)[ranked], rtol=1e-6)
    assert out[0] > out[1] > 0.0 and out[2] == 0.0  # 1.0 is below the mean
    assert not ranking.standardised(np.ones(5, np.float32), np.arange(5)).any()
    assert not ranking.standardised(scores, np.array([4])).any()


def test_score_term_keeps_shortlists_on_the_full_computation_best_passages():
    args = _synthetic_hybrid_args()
    full, _ = ranking.hybrid_scores(*args, depth=10_000, score_weights=(0.15, 0.06, 0.09))
    limited, _ = ranking.hybrid_scores(*args, depth=200, score_weights=(0.15, 0.06, 0.09))
    assert ranking.top_ids(limited, 1)[0] == ranking.top_ids(full, 1)[0] == 0
    assert len(set(ranking.top_ids(limited, 10)) & set(ranking.top_ids(full, 10))) >= 8
