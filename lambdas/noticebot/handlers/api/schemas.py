"""Request and response bodies of the HTTP API (they also make the OpenAPI document)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    model_validator,
)

from noticebot.domain.models import Citation, Document, Notice


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """The one error shape of every error response."""

    error: ErrorDetail


class Strict(BaseModel):
    """A request body: unknown fields are refused and values are never coerced across JSON
    types (``true`` is not 1, ``"yes"`` is not true, 5 is not ``"5"``), all a 422.

    Identity fields (``workspace_id``, ``user_id``, ...) are not declared: the request gate
    answers them with a 403 before validation (``request_gate``, ``identity``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


DATETIME_HINT = "an ISO 8601 date-time with a time zone, e.g. 2026-12-01T18:00:00Z"


def _iso_datetime(value):
    # Strict mode would refuse every string for a datetime, and lax mode takes numbers as
    # Unix times: a JSON body gives a date-time string, with its zone (a time without one
    # means a different instant to each reader).
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be {DATETIME_HINT}") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"must be {DATETIME_HINT}")
    # Stored in UTC: a date near year 1 or 9999 with an offset has no UTC instant to store.
    if not 1970 <= value.year <= 9998:
        raise ValueError("must be a date between the years 1970 and 9998")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime)]


def _json_integer(value):
    # JSON has one number type: 43.0 is the integer 43 (as JSON Schema's "integer" says), while
    # 43.5, true and "43" are not integers. Strict mode alone would refuse 43.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def json_int(**constraints):
    """An integer field of a request body. Its constraints (``ge``, ``le``) come before the
    validator: after it, pydantic leaves them out of the JSON schema of an optional field."""
    return Annotated[int, Field(**constraints), BeforeValidator(_json_integer)]


def _no_default(schema: dict) -> None:
    schema.pop("default", None)


def omittable(**constraints):
    """A field of a partial update: leave it out to keep the value; null is not a value."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


# Text the services strip before use: whitespace alone is as empty as "". The class spells
# out what Python's str.strip() removes, because "\S" means different things to the regex
# dialects that read this pattern (Rust in pydantic, ECMA-262 in JSON Schema clients, Python).
NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


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
    duplicate: bool = False  # these bytes are already on the board: nothing was queued
    retried: bool = False  # they were, but failed or stuck: that document is queued again


class UploadMetadata(RootModel[dict | None]):
    """The ``metadata`` part of ``POST /api/upload``: a JSON object (or null: none), sent as a
    text part."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("must be a JSON object") from None
        return value


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class NoticeIn(Strict):
    title: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    body: str = Field(min_length=1, max_length=20000, pattern=NOT_BLANK)
    pinned: bool = False
    expires_at: IsoDatetime | None = Field(default=None, description="null: never expires")


class NoticePatch(Strict):
    title: str = omittable(min_length=1, max_length=200, pattern=NOT_BLANK)
    body: str = omittable(min_length=1, max_length=20000, pattern=NOT_BLANK)
    pinned: bool = omittable()
    expires_at: IsoDatetime | None = Field(default=None, description="null: never expires")


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
    unread: bool = Field(description="true: posted, or pinned, after you last marked the "
                                     "board seen (`POST /api/notices/seen`), by someone else")

    @classmethod
    def of(cls, n: Notice, *, unread: bool) -> "NoticeOut":
        return cls(notice_id=n.notice_id, title=n.title, body=n.body, pinned=n.pinned,
                   expires_at=n.expires_at, expired=n.is_expired(), author=n.author,
                   created_at=n.created_at, updated_at=n.updated_at, unread=unread)


class NoticeList(BaseModel):
    notices: list[NoticeOut]


class SearchIn(Strict):
    query: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)
    top_k: json_int(ge=1, le=50) = 5
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid"


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
    query: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)
    conversation_id: str | None = Field(default=None, max_length=64)
    top_k: json_int(ge=1, le=20) | None = None
    model: str | None = Field(default=None, max_length=128)
    stream: bool = Field(
        default=False,
        description="true: answer with Server-Sent Events (`text/event-stream`): `token` events "
                    "as the model writes, then one `final` event with this route's JSON answer "
                    "(or one `error` event). `Accept: text/event-stream` asks the same.")


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
    # What the support check concluded: "supported" (every sentence backed by a cited source),
    # "partly_supported" (unsupported sentences dropped), "evidence" (the best evidence quoted
    # instead of the model's text), "not_found" (no source good enough); `answer_check` says why.
    support: Literal["supported", "partly_supported", "evidence", "not_found"] = "supported"


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
