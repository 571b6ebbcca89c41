"""Notices: posted by editors, read by everyone, indexed so the chatbot can cite them.

A post, and a pin of a notice that was not pinned, are announced (``NoticeEvents``) once the
notice is stored and indexed, for the members' devices to hear of it off the request path. An
announcement that fails is logged: it never fails the notice.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import replace
from datetime import datetime

from noticebot.domain.errors import InvalidRequest, NotFound
from noticebot.domain.models import Chunk, Document, DocumentStatus, Notice, Principal, utcnow
from noticebot.domain.notifications import NoticeEvent, event_for, with_pin
from noticebot.ingestion.chunking import chunk_sections
from noticebot.ingestion.parsed import Section
from noticebot.ports import Embedder, MetadataStore, VectorIndex
from noticebot.ports.notifier import NoticeEvents
from noticebot.services.documents import require_editor
from noticebot.services.ingest import embed_chunks

logger = logging.getLogger(__name__)

UNSET = object()


class NoticeService:
    def __init__(self, metadata: MetadataStore, index: VectorIndex, embedder: Embedder,
                 chunk_max_tokens: int = 200, chunk_overlap_tokens: int = 40,
                 events: NoticeEvents | None = None):
        """``events``: where posts and new pins are announced (None: nowhere)."""
        self.metadata = metadata
        self.events = events
        self.index = index
        self.embedder = embedder
        self.chunk_max_tokens = chunk_max_tokens
        self.chunk_overlap_tokens = chunk_overlap_tokens

    def create(self, principal: Principal, title: str, body: str, pinned: bool = False,
               expires_at: datetime | None = None) -> Notice:
        require_editor(principal)
        notice = Notice(
            workspace_id=principal.workspace_id, notice_id=uuid.uuid4().hex,
            title=_clean(title, "title", 200), body=_clean(body, "body", 20000),
            author=principal.user_id, pinned=pinned, expires_at=_future(expires_at),
        )
        notice = with_pin(None, notice, notice.created_at)
        self.metadata.put_notice(notice)
        self._index(notice)
        self._announce(None, notice)
        return notice

    def list(self, principal: Principal, include_expired: bool = False) -> list[Notice]:
        notices = self.metadata.list_notices(principal.workspace_id)
        if include_expired:
            return notices
        now = utcnow()
        return [n for n in notices if not n.is_expired(now)]

    def get(self, principal: Principal, notice_id: str) -> Notice:
        notice = self.metadata.get_notice(principal.workspace_id, notice_id)
        if not notice:
            raise NotFound(f"notice {notice_id} not found")
        return notice

    def update(self, principal: Principal, notice_id: str, title=UNSET, body=UNSET,
               pinned=UNSET, expires_at=UNSET) -> Notice:
        require_editor(principal)
        notice = self.get(principal, notice_id)
        changes: dict = {"updated_at": utcnow()}
        if title is not UNSET:
            changes["title"] = _clean(title, "title", 200)
        if body is not UNSET:
            changes["body"] = _clean(body, "body", 20000)
        if pinned is not UNSET:
            changes["pinned"] = bool(pinned)
        if expires_at is not UNSET:
            changes["expires_at"] = _future(expires_at)
        updated = with_pin(notice, replace(notice, **changes), changes["updated_at"])
        self.metadata.put_notice(updated)
        self._index(updated)
        self._announce(notice, updated)
        return updated

    def delete(self, principal: Principal, notice_id: str) -> None:
        require_editor(principal)
        notice = self.get(principal, notice_id)
        self.index.delete_document(principal.workspace_id, notice.notice_id)
        self.metadata.delete_document(principal.workspace_id, notice.notice_id)
        self.metadata.delete_notice(principal.workspace_id, notice.notice_id)

    def _announce(self, before: Notice | None, after: Notice) -> None:
        kind = event_for(before, after)
        if kind is None or self.events is None:
            return
        try:
            self.events.publish(NoticeEvent(kind=kind, workspace_id=after.workspace_id,
                                            notice_id=after.notice_id, author=after.author,
                                            at=after.updated_at))
        except Exception:  # the notice stands; its push is what is lost
            logger.exception("could not announce notice %s (%s)", after.notice_id, kind.value)

    def _index(self, notice: Notice) -> None:
        """A notice is indexed like a document (document_id = notice_id), synchronously:
        it is short, and the poster expects the bot to know it at once."""
        # The title travels as chunk metadata (shown, embedded and BM25-indexed with the text).
        text = notice.body
        drafts = chunk_sections([Section(text=text)],
                                self.embedder.count_tokens, max_tokens=self.chunk_max_tokens,
                                overlap_tokens=self.chunk_overlap_tokens)
        chunks = [
            Chunk(chunk_id=f"{notice.notice_id}:{d.ordinal}", document_id=notice.notice_id,
                  ordinal=d.ordinal, text=d.text, title=notice.title, heading=None,
                  expires_at=notice.expires_at, metadata={"kind": "notice"})
            for d in drafts
        ]
        chunks = embed_chunks(self.embedder, chunks)
        self.index.delete_document(notice.workspace_id, notice.notice_id)
        self.index.upsert(notice.workspace_id, chunks)
        self.metadata.put_document(Document(
            workspace_id=notice.workspace_id, document_id=notice.notice_id,
            filename=f"notice-{notice.notice_id}.txt", title=notice.title,
            content_type="text/plain", size_bytes=len(text.encode()),
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            blob_key="", status=DocumentStatus.INDEXED, chunk_count=len(chunks),
            source="notice", uploaded_by=notice.author,
        ))


def _clean(value, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidRequest(f"{field} must not be empty")
    if len(value) > limit:
        raise InvalidRequest(f"{field} is longer than {limit} characters")
    return value


def _future(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidRequest("expires_at needs a timezone (e.g. 2026-12-01T18:00:00Z)")
    return expires_at
