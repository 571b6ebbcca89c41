"""The analyzer, the BM25 postings and the segment's tombstone compaction."""

from __future__ import annotations

import numpy as np
import pytest

from noticebot.adapters.local.bm25 import Analyzer, Bm25Postings
from noticebot.adapters.local.hybrid_segment import SegmentEntry, WorkspaceSegment


def test_analyzer_lowercases_keeps_numbers_drops_stop_words():
    terms = Analyzer().terms("The Cats were RUNNING 3.5 km, costing $1,496.5 in 2019!")
    assert terms == ["cat", "run", "3.5", "km", "cost", "1,496.5", "2019"]
    assert Analyzer().terms("What is the and of") == []
    assert Analyzer().terms("snake_case") == Analyzer().terms("snake case")


def test_analyzer_conflates_inflections_and_handles_unicode():
    an = Analyzer()
    assert len({tuple(an.terms(w)) for w in ("hope", "hoped", "hoping", "hopes")}) == 1
    assert an.terms("studies") == an.terms("study")
    assert an.terms("boxes") == an.terms("box")
    assert an.terms("ZÜRICH Straße") == an.terms("zürich straße") != []
    assert Analyzer(stem=False).terms("Running dogs") == ["running", "dogs"]


def test_bm25_prefers_rare_terms_and_short_documents():
    postings = Bm25Postings()
    docs = [["common", "rare"], ["common"], ["common"], ["common", "filler", "filler", "filler"]]
    postings.add([0, 1, 2, 3], docs)
    alive = np.ones(4, bool)
    rare = postings.scores(["rare"], alive)
    common = postings.scores(["common"], alive)
    assert rare[0] > common[0] > 0 and rare[1:].sum() == 0
    assert common[1] > common[3]  # same tf, longer document
    assert postings.scores(["missing"], alive) is None
    alive[0] = False  # a tombstoned row no longer counts for idf
    assert postings.scores(["rare"], alive) is None


def _segment(n: int) -> WorkspaceSegment:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((n, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    an = Analyzer()
    segment = WorkspaceSegment(dim=8, capacity=4)  # small capacity: growth is exercised too
    entries = [SegmentEntry(f"c{i}", f"d{i % 5}", an.terms(f"alpha beta{i % 3} gamma{i}"), None)
               for i in range(n)]
    segment.add(entries, vectors)
    return segment


def _scores_by_chunk(segment: WorkspaceSegment, terms, vector):
    bm25 = segment.bm25_scores(terms)
    dense = segment.dense_scores(vector)
    live = np.flatnonzero(segment.alive[: segment.n])
    return {segment.chunk_ids[r]: (bm25[r], dense[r]) for r in live}


def test_compaction_preserves_every_live_score():
    segment = _segment(40)
    segment.remove_document("d1")
    segment.remove_document("d3")
    replacement = np.ones((1, 8), np.float32) / np.sqrt(8)
    segment.add([SegmentEntry("c0", "d0", ["alpha", "delta"], None)], replacement)  # replace
    query = np.linspace(-1, 1, 8).astype(np.float32)
    before = _scores_by_chunk(segment, ["alpha", "beta1", "delta"], query)
    assert segment.maybe_compact(min_dead=1, ratio=0.0)
    after = _scores_by_chunk(segment, ["alpha", "beta1", "delta"], query)
    assert segment.n == segment.live == len(after) == 40 - 16
    assert before.keys() == after.keys()
    for chunk_id, (b, d) in before.items():
        assert after[chunk_id] == pytest.approx((b, d), rel=1e-6)
    assert segment.row_of == {cid: i for i, cid in enumerate(segment.chunk_ids)}
    assert sum(len(rows) for rows in segment.doc_rows.values()) == segment.live


def test_expiry_and_document_masks():
    segment = _segment(10)
    segment.expires[:3] = 100.0
    allowed = segment.allowed(now_ts=100.0, document_ids=None)
    assert not allowed[:3].any() and allowed[3:].all()
    only = segment.allowed(now_ts=0.0, document_ids={"d2", "unknown"})
    assert [segment.chunk_ids[r] for r in np.flatnonzero(only)] == ["c2", "c7"]
