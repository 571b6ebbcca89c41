"""Turns a stored upload into indexed chunks: parse -> clean -> chunk -> embed -> index."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from noticebot.domain.errors import UnreadableDocument
from noticebot.domain.models import Chunk, DocumentStatus
from noticebot.ingestion.chunking import chunk_sections
from noticebot.ingestion.pipeline import parse_document
from noticebot.ports import BlobStore, Embedder, MetadataStore, VectorIndex
from noticebot.ports.blob_store import workspace_of_key

logger = logging.getLogger(__name__)

EMBED_BATCH = 64


def embed_chunks(embedder: Embedder, chunks: list[Chunk]) -> list[Chunk]:
    """Chunks with vectors. The title and heading go into what the model sees,
    since a passage alone often lacks the words a question uses."""
    out: list[Chunk] = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        texts = [_embedding_text(c) for c in batch]
        vectors = embedder.embed_documents(texts)
        for chunk, vec in zip(batch, vectors):
            out.append(_with_vector(chunk, vec))
    return out


def _embedding_text(chunk: Chunk) -> str:
    head = " - ".join(p for p in (chunk.title, chunk.heading) if p)
    return f"{head}\n{chunk.text}" if head else chunk.text


def _with_vector(chunk: Chunk, vec) -> Chunk:
    return replace(chunk, vector=vec)


class IngestService:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, index: VectorIndex,
                 embedder: Embedder, chunk_max_tokens: int = 200, chunk_overlap_tokens: int = 40):
        self.metadata = metadata
        self.blobs = blobs
        self.index = index
        self.embedder = embedder
        self.chunk_max_tokens = chunk_max_tokens
        self.chunk_overlap_tokens = chunk_overlap_tokens

    def ingest_object(self, key: str) -> DocumentStatus | None:
        """Processes one object-created event. Idempotent: a redelivered event for an
        indexed document changes nothing. Returns the final status (None if skipped)."""
        workspace_id = workspace_of_key(key)
        parts = key.split("/")
        if not workspace_id or len(parts) < 5:
            logger.warning("ignoring object outside the upload layout: %s", key)
            return None
        document_id = parts[3]
        doc = self.metadata.get_document(workspace_id, document_id)
        if doc is None:
            logger.warning("no document row for %s (deleted?)", key)
            return None
        started = self.metadata.transition_document(
            workspace_id, document_id, DocumentStatus.PROCESSING,
            allowed_from=(DocumentStatus.QUEUED, DocumentStatus.PROCESSING, DocumentStatus.FAILED),
        )
        if not started:
            return doc.status  # already indexed: a stale or duplicate message
        t0 = time.perf_counter()
        try:
            data = self.blobs.get(key)
            parsed = parse_document(data, doc.filename, doc.content_type)
            drafts = chunk_sections(parsed.sections, self.embedder.count_tokens,
                                    max_tokens=self.chunk_max_tokens,
                                    overlap_tokens=self.chunk_overlap_tokens)
            if not drafts:
                raise UnreadableDocument("no text found in the file")
            title = doc.title if doc.title != doc.filename or not parsed.title else parsed.title
            chunks = [
                Chunk(chunk_id=f"{document_id}:{d.ordinal}", document_id=document_id,
                      ordinal=d.ordinal, text=d.text, title=title, page=d.page,
                      heading=d.heading, metadata={"filename": doc.filename, "kind": parsed.kind})
                for d in drafts
            ]
            chunks = embed_chunks(self.embedder, chunks)
            # Replace, never append: a retried document must not gain duplicate chunks.
            self.index.delete_document(workspace_id, document_id)
            self.index.upsert(workspace_id, chunks)
        except UnreadableDocument as exc:
            self._fail(workspace_id, document_id, exc.message)
            return DocumentStatus.FAILED
        except Exception as exc:
            logger.exception("ingest failed for %s", key)
            self._fail(workspace_id, document_id,
                       f"internal error while indexing ({type(exc).__name__}); try again later")
            raise
        applied = self.metadata.transition_document(
            workspace_id, document_id, DocumentStatus.INDEXED,
            allowed_from=(DocumentStatus.PROCESSING,), chunk_count=len(chunks),
            page_count=parsed.page_count,
        )
        if not applied:  # deleted while we worked: leave nothing behind
            self.index.delete_document(workspace_id, document_id)
        logger.info("indexed %s: %d chunks in %.2fs", key, len(chunks), time.perf_counter() - t0)
        return DocumentStatus.INDEXED

    def _fail(self, workspace_id: str, document_id: str, message: str) -> None:
        self.index.delete_document(workspace_id, document_id)
        self.metadata.transition_document(
            workspace_id, document_id, DocumentStatus.FAILED,
            allowed_from=(DocumentStatus.PROCESSING,), error=message, chunk_count=0,
        )
