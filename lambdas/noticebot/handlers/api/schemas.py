"""Request and response bodies of the HTTP API (they also make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from noticebot.domain.models import Citation, Document, Notice


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Strict(BaseModel):
    """Unknown fields are refused (422); identity fields are let through validation so
    the identity guard answers them with a 403, never a silent switch."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    workspace: str | None = Field(default=None, exclude=True)
    workspace_id: str | None = Field(default=None, exclude=True)
    workspaceId: str | None = Field(default=None, exclude=True)  # noqa: N815 (client spelling)
    user: str | None = Field(default=None, exclude=True)
    user_id: str | None = Field(default=None, exclude=True)
    userId: str | None = Field(default=None, exclude=True)  # noqa: N815
    owner: str | None = Field(default=None, exclude=True)
    author: str | None = Field(default=None, exclude=True)


class DocumentOut(BaseModel):
    document_id: str
    filename: str
    title: str
    content_type: str
    size_bytes: int
    status: str
    error: str | None
    chunk_count: int
    page_count: int | None
    uploaded_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: Document) -> "DocumentOut":
        return cls(document_id=d.document_id, filename=d.filename, title=d.title,
                   content_type=d.content_type, size_bytes=d.size_bytes, status=d.status.value,
                   error=d.error, chunk_count=d.chunk_count, page_count=d.page_count,
                   uploaded_by=d.uploaded_by, created_at=d.created_at, updated_at=d.updated_at)


class UploadOut(BaseModel):
    document_id: str
    status: str
    duplicate: bool = False


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class NoticeIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)
    pinned: bool = False
    expires_at: datetime | None = None


class NoticePatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, min_length=1, max_length=20000)
    pinned: bool | None = None
    expires_at: datetime | None = None


class NoticeOut(BaseModel):
    notice_id: str
    title: str
    body: str
    pinned: bool
    expires_at: datetime | None
    expired: bool
    author: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, n: Notice) -> "NoticeOut":
        return cls(notice_id=n.notice_id, title=n.title, body=n.body, pinned=n.pinned,
                   expires_at=n.expires_at, expired=n.is_expired(), author=n.author,
                   created_at=n.created_at, updated_at=n.updated_at)


class NoticeList(BaseModel):
    notices: list[NoticeOut]


class SearchIn(Strict):
    query: str = Field(min_length=1, max_length=2000)
    top_k: int = Field(default=5, ge=1, le=50)
    mode: str = Field(default="hybrid", pattern="^(hybrid|bm25|dense)$")


class PassageOut(BaseModel):
    document_id: str
    title: str
    page: int | None
    heading: str | None
    snippet: str
    score: float
    location: str | None = None  # "Sheet 'Budget' rows 2-41", "slide 3", when the format has one


class SearchOut(BaseModel):
    results: list[PassageOut]


class ChatIn(Strict):
    query: str = Field(min_length=1, max_length=2000)
    conversation_id: str | None = Field(default=None, max_length=64)
    top_k: int | None = Field(default=None, ge=1, le=20)
    model: str | None = Field(default=None, max_length=128)
    stream: bool = False


class CitationOut(BaseModel):
    document_id: str
    title: str
    page: int | None
    snippet: str
    score: float
    location: str | None = None

    @classmethod
    def of(cls, c: Citation) -> "CitationOut":
        return cls(**c.__dict__)


class ChatOut(BaseModel):
    answer: str
    citations: list[CitationOut]
    conversation_id: str
    model: str
    usage: dict
    grounded: bool
    answer_check: str | None = None
    # Set when the workspace's fine-tuned model failed and the base model answered instead.
    warning: str | None = None
    # The fine-tuned version's name ("Fine-tune 2") when it answered; `model` is its id.
    model_name: str | None = None


class TurnOut(BaseModel):
    role: str
    content: str
    citations: list[CitationOut]
    created_at: datetime


class ConversationOut(BaseModel):
    conversation_id: str
    title: str
    turns: list[TurnOut]
    created_at: datetime
    updated_at: datetime
