"""Retrieval for a workspace: embed the query, ask the index, shape the passages."""

from __future__ import annotations

from dataclasses import dataclass

from noticebot.domain.errors import InvalidRequest
from noticebot.domain.models import Principal, SearchHit, utcnow
from noticebot.ports import Embedder, SearchQuery, VectorIndex
from noticebot.ports.vector_index import SEARCH_MODES

MAX_TOP_K = 50


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
    )


class SearchService:
    def __init__(self, index: VectorIndex, embedder: Embedder, max_query_chars: int = 2000):
        self.index = index
        self.embedder = embedder
        self.max_query_chars = max_query_chars

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
        hits = self.index.search(
            principal.workspace_id,
            SearchQuery(text=query, vector=vector, top_k=top_k, mode=mode, now=utcnow(),
                        options=options or {}),
        )
        return [to_passage(h) for h in hits]
