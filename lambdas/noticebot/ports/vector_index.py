"""VectorIndex: hybrid lexical + dense retrieval, always scoped to one workspace.

Every method takes ``workspace_id`` as a required argument: a search across
workspaces cannot be expressed through this port.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy costs ~0.1 s of cold start; the ports only name its type
    import numpy as np

from noticebot.domain.models import Chunk, SearchHit

SEARCH_MODES = ("hybrid", "bm25", "dense")


@dataclass(frozen=True)
class SearchQuery:
    text: str
    vector: np.ndarray | None = None  # required for "dense" and "hybrid"
    top_k: int = 5
    mode: str = "hybrid"
    now: datetime | None = None  # chunks whose expires_at <= now are excluded
    document_ids: frozenset[str] | None = None  # optional narrowing inside the workspace
    options: dict = field(default_factory=dict)  # adapter tuning (fusion weights, candidates)


class VectorIndex(ABC):
    @abstractmethod
    def upsert(self, workspace_id: str, chunks: Sequence[Chunk]) -> None:
        """Adds or replaces chunks by chunk_id. Each chunk carries its vector."""

    @abstractmethod
    def delete_document(self, workspace_id: str, document_id: str) -> int:
        """Removes every chunk of the document; returns how many."""

    @abstractmethod
    def search(self, workspace_id: str, query: SearchQuery) -> list[SearchHit]:
        """Best first, at most ``query.top_k``."""

    @abstractmethod
    def count(self, workspace_id: str) -> int: ...

    @abstractmethod
    def chunks(self, workspace_id: str, limit: int = 5000) -> list[Chunk]:
        """The workspace's chunks without vectors, by document then position, at most
        ``limit`` (expired ones included): what the fine-tune dataset builder reads."""
