"""Retrieval for a workspace: embed the query, ask the index, rerank, shape the passages."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from noticebot.domain.errors import InvalidRequest
from noticebot.domain.models import Principal, SearchHit, utcnow
from noticebot.ports import Embedder, Reranker, SearchQuery, VectorIndex
from noticebot.ports.vector_index import SEARCH_MODES

MAX_TOP_K = 50
# How many fused candidates the reranker reorders. Measured with bench/rerank.py (100
# questions per set, the cross-encoder at 256 tokens, 2 cores): nDCG@10 of fused / 5 / 12
# candidates: XQuAD 0.968 / 0.978 / 0.988, TAT-QA 0.630 / 0.651 / 0.620, PubMedQA 0.976 in
# all three; added p50 ms for 5 / 12: 88-160 / 218-384. Five gains on XQuAD and TAT-QA and
# stays far under a 300 ms budget; more candidates let the cross-encoder (trained on web
# passages) promote wrong TAT-QA tables and text, and cost more than the budget on long passages.
RERANK_CANDIDATES = 5

logger = logging.getLogger(__name__)


@dataclass
class Passage:
    document_id: str
    chunk_id: str
    title: str
    page: int | None
    heading: str | None
    snippet: str
    text: str
    score: float
    bm25_score: float | None
    dense_score: float | None
    location: str | None = None  # "Sheet 'Budget' rows 2-41", "slide 3": see Chunk.metadata
    rerank_score: float | None = None  # the order's reason when a reranker ran; score stays fused


def _location(metadata: dict | None) -> str | None:
    value = (metadata or {}).get("location")
    return value if isinstance(value, str) and value else None


def snippet_of(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def to_passage(hit: SearchHit) -> Passage:
    c = hit.chunk
    return Passage(
        document_id=c.document_id, chunk_id=c.chunk_id, title=c.title, page=c.page,
        heading=c.heading, snippet=snippet_of(c.text), text=c.text, score=round(hit.score, 6),
        bm25_score=hit.bm25_score, dense_score=hit.dense_score, location=_location(c.metadata),
        rerank_score=hit.rerank_score,
    )


class SearchService:
    """``reranker``: reorders the first ``rerank_candidates`` fused hybrid hits before the
    top_k are cut (None: the fused order as is). The "bm25" and "dense" modes are never
    reranked: they exist to compare the retrievers themselves."""

    def __init__(self, index: VectorIndex, embedder: Embedder, max_query_chars: int = 2000,
                 reranker: Reranker | None = None, rerank_candidates: int = RERANK_CANDIDATES):
        if rerank_candidates < 1:
            raise ValueError("rerank_candidates must be at least 1")
        self.index = index
        self.embedder = embedder
        self.max_query_chars = max_query_chars
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates

    def search(self, principal: Principal, query: str, top_k: int = 5,
               mode: str = "hybrid", options: dict | None = None) -> list[Passage]:
        query = (query or "").strip()
        if not query:
            raise InvalidRequest("query must not be empty")
        if len(query) > self.max_query_chars:
            raise InvalidRequest(f"query is longer than {self.max_query_chars} characters")
        if not 1 <= top_k <= MAX_TOP_K:
            raise InvalidRequest(f"top_k must be between 1 and {MAX_TOP_K}")
        if mode not in SEARCH_MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(SEARCH_MODES)}")
        vector = self.embedder.embed_query(query) if mode != "bm25" else None
        rerank = self.reranker is not None and mode == "hybrid"
        wanted = max(top_k, self.rerank_candidates) if rerank else top_k
        hits = self.index.search(
            principal.workspace_id,
            SearchQuery(text=query, vector=vector, top_k=wanted, mode=mode, now=utcnow(),
                        options=options or {}),
        )
        if rerank:
            hits = self._reranked(query, hits)
        return [to_passage(h) for h in hits[:top_k]]

    def _reranked(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        """The first candidates reordered, any beyond them after in fused order. A reranker
        that fails costs ranking quality, not the answer: the fused order is returned."""
        head, tail = hits[: self.rerank_candidates], hits[self.rerank_candidates :]
        try:
            return self.reranker.rerank(query, head) + tail
        except Exception:  # noqa: BLE001 - any model failure degrades to the fused order
            logger.warning("reranker %s failed; returning the fused order",
                           getattr(self.reranker, "model_id", type(self.reranker).__name__),
                           exc_info=True)
            return hits
