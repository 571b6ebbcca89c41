"""Uploading, listing and deleting documents. Ingestion happens on the object-created event."""

from __future__ import annotations

import enum
import hashlib
import logging
import re
import unicodedata
import uuid

from noticebot.domain.errors import Forbidden, InvalidRequest, NotFound, PayloadTooLarge
from noticebot.domain.ingest_budget import IngestBudget
from noticebot.domain.keys import raw_key
from noticebot.domain.models import Document, Principal, utcnow
from noticebot.ports import BlobStore, MetadataStore, VectorIndex
from noticebot.services.stuck_documents import StuckDocuments

logger = logging.getLogger(__name__)


def safe_filename(name: str) -> str:
    """A filename a blob key can carry: no directories, no control characters."""
    name = unicodedata.normalize("NFKC", name or "").replace("\\", "/").split("/")[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().strip(".")
    name = re.sub(r"\s+", " ", name)
    return name[:200] or "upload"


def require_editor(principal: Principal) -> None:
    if not principal.is_editor:
        raise Forbidden("only editors may change this workspace's board")


class UploadOutcome(str, enum.Enum):
    CREATED = "created"  # a new document, queued
    RETRIED = "retried"  # the failed or stuck document with these bytes, queued again
    DUPLICATE = "duplicate"  # a healthy document with these bytes exists: nothing queued


class DocumentService:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, index: VectorIndex,
                 max_upload_bytes: int, *, budget: IngestBudget | None = None, clock=utcnow):
        self.metadata = metadata
        self.blobs = blobs
        self.index = index
        self.max_upload_bytes = max_upload_bytes
        self.budget = budget or IngestBudget()
        self._clock = clock
        self.stuck = StuckDocuments(metadata, blobs, index, self.budget, clock)

    def upload(self, principal: Principal, filename: str, data: bytes,
               content_type: str | None = None, metadata: dict | None = None,
               title: str | None = None) -> tuple[Document, UploadOutcome]:
        """Stores the file and queues it. The same content uploaded again returns the
        existing document instead of indexing it twice (DUPLICATE), unless that one failed
        or is stuck: then it is retried under its own id (RETRIED), which is how a person
        retries a document."""
        require_editor(principal)
        if len(data) > self.max_upload_bytes:
            raise PayloadTooLarge(
                f"file is {len(data)} bytes; the limit for direct upload is "
                f"{self.max_upload_bytes} bytes"
            )
        name = safe_filename(filename)
        if not name:
            raise InvalidRequest("the file needs a name")
        digest = hashlib.sha256(data).hexdigest()
        existing = self.metadata.find_document_by_sha256(principal.workspace_id, digest)
        if existing:
            return self._upload_again(existing, data)
        document_id = uuid.uuid4().hex
        doc = Document(
            workspace_id=principal.workspace_id,
            document_id=document_id,
            filename=name,
            title=(title or (metadata or {}).get("title") or name).strip()[:300],
            content_type=content_type or "application/octet-stream",
            size_bytes=len(data),
            sha256=digest,
            blob_key=raw_key(principal.workspace_id, document_id, name),
            metadata=metadata or {},
            uploaded_by=principal.user_id,
        )
        # The row first: the object-created event that follows must find it.
        self.metadata.put_document(doc)
        self.blobs.put(doc.blob_key, data, doc.content_type)
        return doc, UploadOutcome.CREATED

    def _upload_again(self, existing: Document, data: bytes) -> tuple[Document, UploadOutcome]:
        if not self.budget.may_retry_on_upload(existing, self._clock()):
            return existing, UploadOutcome.DUPLICATE
        # Attempts start afresh: this is a person's new try, not the queue's.
        retried = self.stuck.retry(existing, data, reset_attempts=True)
        current = self.metadata.get_document(existing.workspace_id, existing.document_id)
        # Not retried: a worker moved it since it was read, so it is healthy again.
        return current or existing, UploadOutcome.RETRIED if retried else UploadOutcome.DUPLICATE

    def list(self, principal: Principal) -> list[Document]:
        docs = self.metadata.list_documents(principal.workspace_id, source="upload")
        return [self.stuck.fail_if_exhausted(d) for d in docs]

    def get(self, principal: Principal, document_id: str) -> Document:
        doc = self.metadata.get_document(principal.workspace_id, document_id)
        if not doc or doc.source != "upload":
            raise NotFound(f"document {document_id} not found")
        return self.stuck.fail_if_exhausted(doc)

    def delete(self, principal: Principal, document_id: str) -> None:
        require_editor(principal)
        doc = self.get(principal, document_id)
        # Chunks first: a document must never be searchable after its row is gone.
        self.index.delete_document(principal.workspace_id, doc.document_id)
        self.blobs.delete_prefix(doc.blob_key.rsplit("/", 1)[0] + "/")
        self.metadata.delete_document(principal.workspace_id, doc.document_id)
