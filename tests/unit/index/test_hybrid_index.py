"""Behaviour of EmbeddedHybridIndex through the VectorIndex port."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex
from noticebot.domain.models import Chunk
from noticebot.ports.vector_index import SEARCH_MODES, SearchQuery

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def ids(hits):
    return [h.chunk.chunk_id for h in hits]


def q(text, vector=None, **kw):
    return SearchQuery(text=text, vector=vector, **kw)


def test_empty_workspace_returns_nothing(index, embed):
    for mode in SEARCH_MODES:
        assert index.search("nobody", q("anything", embed("anything"), mode=mode)) == []
    assert index.count("nobody") == 0
    assert index.delete_document("nobody", "doc") == 0


def test_workspace_b_never_sees_workspace_a(index, index_dir, make_chunk, embed):
    index.upsert("ws-a", [
        make_chunk("a1", "doc-a", "secret acme merger plans"),
        make_chunk("same-id", "doc-a", "acme quarterly budget"),
    ])
    index.upsert("ws-b", [
        make_chunk("b1", "doc-b", "office holiday rota"),
        make_chunk("same-id", "doc-b2", "canteen menu for friday"),
    ])
    text = "secret acme merger budget"
    for idx in (index, EmbeddedHybridIndex(index_dir)):  # live segments and a cold rebuild
        for mode in SEARCH_MODES:
            hits = idx.search("ws-b", q(text, embed(text), mode=mode, top_k=10))
            assert {h.chunk.document_id for h in hits} <= {"doc-b", "doc-b2"}
            assert all("acme" not in h.chunk.text for h in hits)
        only_a = frozenset({"doc-a"})
        assert idx.search("ws-b", q(text, embed(text), document_ids=only_a)) == []
        a_hits = idx.search("ws-a", q("acme budget", mode="bm25", top_k=10))
        assert {h.chunk.chunk_id: h.chunk.text for h in a_hits}["same-id"] == "acme quarterly budget"
    assert index.delete_document("ws-b", "doc-a") == 0
    assert (index.count("ws-a"), index.count("ws-b")) == (2, 2)
    assert index.delete_document("ws-a", "doc-a") == 2
    assert (index.count("ws-a"), index.count("ws-b")) == (0, 2)


def test_upsert_is_idempotent_and_replaces_by_chunk_id(index, make_chunk, embed):
    chunks = [make_chunk(f"c{i}", "doc", f"apples pears number{i}", ordinal=i) for i in range(3)]
    index.upsert("ws", chunks)
    index.upsert("ws", chunks)  # before the segment exists: SQLite only
    assert index.count("ws") == 3
    assert sorted(ids(index.search("ws", q("apples", embed("apples"), top_k=10)))) == ["c0", "c1", "c2"]
    index.upsert("ws", chunks)  # segment loaded: tombstone + append
    index.upsert("ws", [make_chunk("c1", "doc", "oranges only", ordinal=1)])
    assert index.count("ws") == 3
    for mode in SEARCH_MODES:
        hits = index.search("ws", q("apples", embed("apples"), mode=mode, top_k=10))
        assert len(ids(hits)) == len(set(ids(hits)))
    assert "c1" not in ids(index.search("ws", q("apples", mode="bm25", top_k=10)))
    assert ids(index.search("ws", q("oranges", mode="bm25"))) == ["c1"]


def test_duplicate_chunk_ids_in_one_batch_keep_the_last(index, make_chunk):
    index.search("ws", q("warm", mode="bm25"))
    index.upsert("ws", [make_chunk("c", "d", "first version"), make_chunk("c", "d", "second version")])
    assert index.count("ws") == 1
    assert [h.chunk.text for h in index.search("ws", q("version", mode="bm25"))] == ["second version"]


def test_delete_document_removes_all_its_chunks(index, make_chunk, embed):
    index.upsert("ws", [make_chunk(f"x{i}", "doc-x", f"tax return part{i}") for i in range(3)]
                 + [make_chunk("y0", "doc-y", "tax office opening hours")])
    index.search("ws", q("tax", mode="bm25"))  # load the segment first: both paths matter
    assert index.delete_document("ws", "doc-x") == 3
    assert index.delete_document("ws", "doc-x") == 0
    assert index.count("ws") == 1
    for mode in SEARCH_MODES:
        assert ids(index.search("ws", q("tax return", embed("tax return"), mode=mode, top_k=10))) == ["y0"]
    index.upsert("ws", [make_chunk("x0", "doc-x", "tax return again")])
    assert index.count("ws") == 2


def test_expired_chunks_are_excluded_before_top_k(index, make_chunk, axis):
    past, future = NOW - timedelta(hours=1), NOW + timedelta(days=1)
    expired = [make_chunk(f"old{i}", f"n{i}", "budget budget budget", axis(0), expires_at=past)
               for i in range(30)]
    index.upsert("ws", expired + [
        make_chunk("fresh", "nf", "budget meeting minutes and other notes", axis(0, lean={1: 1.0}),
                   expires_at=future),
        make_chunk("permanent", "np", "budget archive with many more words", axis(0, lean={2: 1.0})),
        make_chunk("at-now", "nn", "budget budget", axis(0), expires_at=NOW),  # <= now: gone
    ])
    for mode in SEARCH_MODES:
        hits = index.search("ws", q("budget", axis(0), mode=mode, top_k=2, now=NOW))
        assert sorted(ids(hits)) == ["fresh", "permanent"]
    later = index.search("ws", q("budget", axis(0), mode="bm25", top_k=5, now=future + timedelta(1)))
    assert ids(later) == ["permanent"]
    # now=None means the current time: a chunk that expired in 2000 never comes back.
    index.upsert("ws", [make_chunk("ancient", "na", "budget", axis(0),
                                   expires_at=datetime(2000, 1, 1, tzinfo=timezone.utc))])
    assert "ancient" not in ids(index.search("ws", q("budget", axis(0), mode="bm25", top_k=50)))


def test_document_ids_filter_applies_before_top_k(index, make_chunk, axis):
    big = [make_chunk(f"big{i}", "big", "invoice invoice invoice", axis(0)) for i in range(40)]
    small = [make_chunk(f"small{i}", "small", f"invoice footnote extra words part{i}",
                        axis(0, lean={i + 1: 2.0})) for i in range(3)]
    index.upsert("ws", big + small + [make_chunk("other", "other", "invoice", axis(0))])
    for mode in SEARCH_MODES:
        hits = index.search("ws", q("invoice", axis(0), mode=mode, top_k=3,
                                    document_ids=frozenset({"small"})))
        assert sorted(ids(hits)) == ["small0", "small1", "small2"]
        two = index.search("ws", q("invoice", axis(0), mode=mode, top_k=10,
                                   document_ids=frozenset({"small", "other"})))
        assert {h.chunk.document_id for h in two} == {"small", "other"} and len(two) == 4
        assert index.search("ws", q("invoice", axis(0), mode=mode,
                                    document_ids=frozenset({"missing"}))) == []


def test_persists_across_instances(index, index_dir, make_chunk, embed):
    index.upsert("ws", [make_chunk(f"c{i}", f"d{i % 4}", f"garden shed tools item{i}") for i in range(12)])
    index.search("ws", q("shed", mode="bm25"))
    index.upsert("ws", [make_chunk("late", "d9", "garden hose")])  # incremental path
    index.delete_document("ws", "d0")
    text = "garden hose tools"
    before = {m: index.search("ws", q(text, embed(text), mode=m, top_k=5)) for m in SEARCH_MODES}
    index.close()
    reopened = EmbeddedHybridIndex(index_dir)
    assert reopened.count("ws") == 10
    for mode, hits in before.items():
        again = reopened.search("ws", q(text, embed(text), mode=mode, top_k=5))
        assert ids(again) == ids(hits)
        assert [h.score for h in again] == pytest.approx([h.score for h in hits], rel=1e-5)
    reopened.close()


def test_bm25_ranks_the_exact_term_match_first(index, make_chunk, axis):
    texts = {
        "match": "the zebra crossing near the school",
        "near1": "crossing the river by ferry",
        "near2": "school crossing patrol schedule",
        "noise": "quarterly sales figures",
    }
    index.upsert("ws", [make_chunk(k, k, t, axis(i)) for i, (k, t) in enumerate(texts.items())])
    hits = index.search("ws", q("Zebras?", mode="bm25"))  # case and plural folded
    assert ids(hits) == ["match"]
    assert hits[0].bm25_score > 0 and hits[0].dense_score is None
    hits = index.search("ws", q("zebra crossing school", mode="bm25", top_k=4))
    assert ids(hits)[0] == "match" and "noise" not in ids(hits)


def test_dense_ranks_the_nearest_vector_first(index, make_chunk, axis):
    index.upsert("ws", [
        make_chunk("far", "d", "a", axis(1)),
        make_chunk("near", "d", "b", axis(0, lean={1: 0.5})),
        make_chunk("exact", "d", "c", axis(0) * 3.0),  # not unit length: normalised on upsert
    ])
    hits = index.search("ws", q("", axis(0) * 7.0, mode="dense", top_k=3))
    assert ids(hits) == ["exact", "near", "far"]
    assert hits[0].dense_score == pytest.approx(1.0, abs=1e-5) and hits[0].bm25_score is None
    assert hits[2].score == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_hybrid_prefers_a_chunk_strong_in_both(index, make_chunk, axis, fusion):
    query, vec = "solar panel maintenance", axis(0)
    index.upsert("ws", [
        make_chunk("lexical", "d1", "solar panel maintenance solar panel maintenance guide", axis(1)),
        make_chunk("semantic", "d2", "photovoltaic upkeep instructions", axis(0)),
        make_chunk("both", "d3", "solar panel maintenance schedule", axis(0, lean={1: 0.3})),
    ] + [make_chunk(f"filler{i}", "d4", f"unrelated filler text {i}", axis(2 + i, lean={0: 0.2}))
         for i in range(5)])
    assert ids(index.search("ws", q(query, mode="bm25")))[0] == "lexical"
    assert ids(index.search("ws", q(query, vec, mode="dense")))[0] == "semantic"
    hits = index.search("ws", q(query, vec, options={"fusion": fusion}))
    assert ids(hits)[0] == "both"
    assert all(h.bm25_score is not None and h.dense_score is not None for h in hits)
    semantic = next(h for h in hits if h.chunk.chunk_id == "semantic")
    assert semantic.bm25_score == 0.0 and semantic.dense_score == pytest.approx(1.0, abs=1e-5)


def test_convex_alpha_moves_between_the_two_rankings(index, make_chunk, axis):
    query, vec = "solar panel", axis(0)
    index.upsert("ws", [
        make_chunk("lexical", "d1", "solar panel solar panel", axis(1)),
        make_chunk("semantic", "d2", "photovoltaic module", axis(0)),
    ])
    assert ids(index.search("ws", q(query, vec, options={"alpha": 1.0})))[0] == "semantic"
    assert ids(index.search("ws", q(query, vec, options={"alpha": 0.0})))[0] == "lexical"
    zhits = index.search("ws", q(query, vec, options={"alpha": 0.9, "norm": "zscore"}))
    assert ids(zhits)[0] == "semantic"


def test_top_k_is_respected(index, make_chunk, embed):
    index.upsert("ws", [make_chunk(f"c{i}", f"d{i}", f"common word variant{i}") for i in range(20)])
    for mode in SEARCH_MODES:
        for k in (1, 5, 20, 50):
            hits = index.search("ws", q("common word", embed("common word"), mode=mode, top_k=k))
            assert len(hits) == min(k, 20)
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert index.search("ws", q("common", embed("common"), mode=mode, top_k=0)) == []
    assert index.search("ws", q("absent", mode="bm25")) == []  # no term match, no BM25 hit


def test_returned_chunks_carry_their_fields(index, make_chunk):
    expires = datetime(2999, 1, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    index.upsert("ws", [make_chunk("c", "d", "pension scheme rules", ordinal=7, title="Handbook",
                                   page=12, heading="Benefits", expires_at=expires,
                                   metadata={"source": "upload", "tags": ["hr"]})])
    chunk = index.search("ws", q("pension", mode="bm25"))[0].chunk
    assert (chunk.chunk_id, chunk.document_id, chunk.ordinal) == ("c", "d", 7)
    assert (chunk.text, chunk.title, chunk.page, chunk.heading) == (
        "pension scheme rules", "Handbook", 12, "Benefits")
    assert chunk.expires_at == expires and chunk.expires_at.tzinfo is not None
    assert chunk.metadata == {"source": "upload", "tags": ["hr"]} and chunk.vector is None
    # title and heading are indexed too
    assert ids(index.search("ws", q("handbook benefit", mode="bm25"))) == ["c"]


def test_invalid_requests_raise_value_error(index, make_chunk, axis):
    index.upsert("ws", [make_chunk("c", "d", "text", axis(0))])
    bad = [
        q("text", None, mode="dense"), q("text", None, mode="hybrid"), q("text", axis(0), mode="nope"),
        q("text", np.ones(3), mode="dense"), q("text", axis(0), options={"fusion": "max"}),
        q("text", axis(0), options={"alpha": 1.5}), q("text", axis(0), options={"candidates": 0}),
        q("text", axis(0), options={"alpha": None}), q("text", axis(0), options={"norm": "l2"}),
    ]
    for query in bad:
        with pytest.raises(ValueError):
            index.search("ws", query)
    with pytest.raises(ValueError):
        index.search("", q("text", mode="bm25"))
    with pytest.raises(ValueError):
        index.upsert("ws", [make_chunk("c2", "d", "text", np.ones(5))])  # wrong dimension
    with pytest.raises(ValueError):
        index.upsert("ws", [Chunk("c3", "d", 0, "no vector")])
    assert index.count("ws") == 1


def test_compaction_keeps_results_consistent(index, make_chunk):
    vectors = np.random.default_rng(7).standard_normal((1400, 32))
    chunks = [make_chunk(f"c{i}", f"d{i // 20}", f"shared topic item{i}", vectors[i], ordinal=i)
              for i in range(1400)]
    index.upsert("ws", chunks)
    index.search("ws", q("topic", mode="bm25"))
    for doc in range(55):  # 1100 tombstones: over both compaction thresholds
        index.delete_document("ws", f"d{doc}")
    segment = index._segments["ws"]  # white-box: compaction ran and dropped the tombstones
    assert segment.n < 1400 and segment.dead < 1024
    assert index.count("ws") == 300
    for mode in SEARCH_MODES:
        hits = index.search("ws", q("item1399 topic", vectors[1399], mode=mode, top_k=3))
        assert ids(hits)[0] == "c1399"
        assert all(int(h.chunk.chunk_id[1:]) >= 1100 for h in hits)
    index.upsert("ws", [make_chunk("c1399", "d69", "replaced words", vectors[0])])
    assert ids(index.search("ws", q("replaced", mode="bm25"))) == ["c1399"]
    assert index.count("ws") == 300


def test_an_emptied_workspace_accepts_a_new_dimension(index, make_chunk, axis):
    index.upsert("ws", [make_chunk("c", "d", "old model", axis(0, dim=8))])
    assert index.preload("ws") == 1
    with pytest.raises(ValueError):
        index.upsert("ws", [make_chunk("c2", "d2", "new model", axis(0, dim=16))])
    index.delete_document("ws", "d")
    index.upsert("ws", [make_chunk("c2", "d2", "new model", axis(0, dim=16))])
    assert ids(index.search("ws", q("model", axis(0, dim=16), mode="hybrid"))) == ["c2"]


def test_writes_from_another_process_are_seen(tmp_path):
    """The CLI ingesting beside a running server: the server's index must not stay stale."""
    import numpy as np

    from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex
    from noticebot.domain.models import Chunk
    from noticebot.ports.vector_index import SearchQuery

    server = EmbeddedHybridIndex(tmp_path)
    cli = EmbeddedHybridIndex(tmp_path)  # a second connection, as another process has
    vec = np.ones(4, dtype=np.float32) / 2
    server.upsert("w", [Chunk("a:0", "a", 0, "alpha text", vector=vec)])
    assert [h.chunk.chunk_id for h in server.search("w", SearchQuery("alpha", mode="bm25"))] == ["a:0"]
    cli.upsert("w", [Chunk("b:0", "b", 0, "alpha beta", vector=vec)])
    found = {h.chunk.chunk_id for h in server.search("w", SearchQuery("alpha", mode="bm25"))}
    assert found == {"a:0", "b:0"}
