"""Domain records shared by services and ports. Plain dataclasses: no I/O, no SDKs."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Principal:
    """Who is calling, taken from the token's claims only (never from a request body)."""

    user_id: str
    workspace_id: str
    is_editor: bool = False


class DocumentStatus(str, enum.Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    INDEXED = "indexed"
    FAILED = "failed"


@dataclass
class Document:
    workspace_id: str
    document_id: str
    filename: str
    title: str
    content_type: str
    size_bytes: int
    sha256: str
    blob_key: str
    status: DocumentStatus = DocumentStatus.QUEUED
    error: str | None = None
    chunk_count: int = 0
    page_count: int | None = None
    source: str = "upload"  # "upload" or "notice"
    metadata: dict = field(default_factory=dict)
    uploaded_by: str = ""
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    # Ingest bookkeeping (see domain.ingest_budget): attempts started since the document was
    # last queued afresh; while processing, when the running attempt's time budget ends and
    # which queue message's attempt holds it.
    attempts: int = 0
    lease_until: datetime | None = None
    lease_holder: str = ""


@dataclass
class Notice:
    workspace_id: str
    notice_id: str
    title: str
    body: str
    author: str
    pinned: bool = False
    expires_at: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    # When it was last pinned (None: not pinned): a notice pinned again comes back to the
    # members' attention as if new (``domain.notifications.surfaced_at``).
    pinned_at: datetime | None = None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())


@dataclass(frozen=True)
class Chunk:
    """One indexed passage. ``vector`` is filled by the embedder before indexing."""

    chunk_id: str
    document_id: str
    ordinal: int
    text: str
    title: str = ""
    page: int | None = None
    heading: str | None = None
    expires_at: datetime | None = None  # set for notices: expired chunks are never returned
    metadata: dict = field(default_factory=dict)
    vector: Any = None  # float32 numpy array (or a sequence of floats); None when not loaded


@dataclass(frozen=True)
class SearchHit:
    chunk: Chunk
    score: float
    bm25_score: float | None = None
    dense_score: float | None = None
    rerank_score: float | None = None  # the reranker's, when one reordered the hits


@dataclass
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass
class Citation:
    document_id: str
    title: str
    page: int | None
    snippet: str
    score: float
    location: str | None = None  # where in the document: "Sheet 'Budget' rows 2-41", "slide 3"


@dataclass
class ConversationTurn:
    role: str
    content: str
    citations: list[Citation] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class Conversation:
    workspace_id: str
    conversation_id: str
    user_id: str
    title: str = ""
    turns: list[ConversationTurn] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
