"""Reranker: scores (query, passage) pairs jointly and puts the best-scored hits first.

A cross-encoder reads the question and the passage together, so it sees what a bag of words
(BM25) or one vector per text (dense) cannot: whether this passage answers this question.
It costs a model run per pair, so it only reorders the few candidates retrieval found.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace

from noticebot.domain.models import SearchHit


class Reranker(ABC):
    model_id: str

    @abstractmethod
    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage, higher is more relevant (any scale)."""

    def rerank(self, query: str, hits: Sequence[SearchHit]) -> list[SearchHit]:
        """``hits`` best first by score, each carrying it as ``rerank_score``; ties keep the
        order they came in (the fused order)."""
        if not hits:
            return []
        scores = self.score(query, [h.chunk.text for h in hits])
        if len(scores) != len(hits):
            raise ValueError(f"reranker returned {len(scores)} scores for {len(hits)} passages")
        order = sorted(range(len(hits)), key=lambda i: -scores[i])
        return [replace(hits[i], rerank_score=float(scores[i])) for i in order]
