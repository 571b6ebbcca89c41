"""SearchService with a reranker: the fused candidates reordered before top_k is cut."""

from __future__ import annotations

import logging

import pytest

from fakes import FakeEmbedder, FakeReranker, FakeVectorIndex
from noticebot.domain.models import Chunk, Principal
from noticebot.services.search import SearchService

WS = "riverside"
PRINCIPAL = Principal(user_id="sam", workspace_id=WS)
QUERY = "What date is the summer party at the boathouse?"
# The fake index ranks by shared words (plus a dot product): the long minutes that mention
# every word of the question come first fused; the short notice about the party is what a
# reader wants, and what the fake reranker (share of a passage's words that are the
# question's) puts first.
PASSAGES = {
    "minutes": "Minutes of the committee: date of the summer party, boathouse roof, oar repairs, locker "
               "rent, coaching rota, regatta entries, kit orders, membership fees and the bar.",
    "party": "The summer party is at the boathouse.",
    "lockers": "Locker rent is due in March for the boathouse lockers.",
    "rota": "Coaching rota for the spring term.",
}


@pytest.fixture
def index():
    embedder = FakeEmbedder()
    idx = FakeVectorIndex()
    idx.upsert(WS, [Chunk(chunk_id=f"{doc}-0", document_id=doc, ordinal=0, text=text,
                          vector=embedder.embed_query(text))
                    for doc, text in PASSAGES.items()])
    return idx


def _service(index, reranker, candidates=3):
    return SearchService(index, FakeEmbedder(), reranker=reranker, rerank_candidates=candidates)


def test_fused_order_puts_the_long_minutes_first(index):
    fused = SearchService(index, FakeEmbedder()).search(PRINCIPAL, QUERY, top_k=3)
    assert [p.document_id for p in fused][:2] == ["minutes", "party"]
    assert all(p.rerank_score is None for p in fused)


def test_reranker_reorders_the_candidates(index):
    reranker = FakeReranker()
    passages = _service(index, reranker).search(PRINCIPAL, QUERY, top_k=3)
    assert [p.document_id for p in passages][0] == "party"
    assert [p.rerank_score for p in passages] == sorted((p.rerank_score for p in passages), reverse=True)
    # The fused score stays what it was: clients and the chat's relevance checks read it.
    assert passages[0].score < max(p.score for p in passages)
    assert reranker.calls == [(QUERY, 3)]


def test_top_k_is_cut_after_reranking(index):
    reranker = FakeReranker()
    passages = _service(index, reranker, candidates=4).search(PRINCIPAL, QUERY, top_k=1)
    assert [p.document_id for p in passages] == ["party"]
    assert reranker.calls == [(QUERY, 4)]  # the candidates, not top_k, were scored


def test_candidates_beyond_the_reranked_ones_follow_in_fused_order(index):
    fused = SearchService(index, FakeEmbedder()).search(PRINCIPAL, QUERY, top_k=4)
    reranker = FakeReranker()
    passages = _service(index, reranker, candidates=2).search(PRINCIPAL, QUERY, top_k=4)
    assert reranker.calls == [(QUERY, 2)]
    assert [p.document_id for p in passages] == [fused[1].document_id, fused[0].document_id,
                                                 fused[2].document_id, fused[3].document_id]
    assert passages[2].rerank_score is None


def test_a_failing_reranker_falls_back_to_the_fused_order_with_a_log_line(index, caplog):
    fused = SearchService(index, FakeEmbedder()).search(PRINCIPAL, QUERY, top_k=3)
    reranker = FakeReranker(failure=RuntimeError("onnx session died"))
    with caplog.at_level(logging.WARNING, logger="noticebot.services.search"):
        passages = _service(index, reranker).search(PRINCIPAL, QUERY, top_k=3)
    assert [p.document_id for p in passages] == [p.document_id for p in fused]
    assert reranker.calls == [(QUERY, 3)]
    assert any("fake-reranker failed" in r.getMessage() for r in caplog.records)


def test_bm25_and_dense_modes_are_not_reranked(index):
    reranker = FakeReranker()
    service = _service(index, reranker)
    for mode in ("bm25", "dense"):
        service.search(PRINCIPAL, QUERY, top_k=3, mode=mode)
    assert reranker.calls == []


def test_rerank_candidates_must_be_positive(index):
    with pytest.raises(ValueError):
        _service(index, FakeReranker(), candidates=0)
