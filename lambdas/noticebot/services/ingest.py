"""Turns a stored upload into indexed chunks: parse -> clean -> chunk -> embed -> index.

Images and scanned PDF pages go through the OCR engine, audio through the transcriber, both
handed in by the composition root (``engines``). Where speech to text is an asynchronous job
(Amazon Transcribe: ``transcription_jobs``), an audio upload starts the job and stays
"processing"; the job's completion event calls ``resume_transcription``, which indexes the
transcript (or fails the document with the job's reason).

Each queue delivery claims the document under a lease of one attempt's time budget
(``domain.ingest_budget``): a second delivery of another message waits (fails retryably)
while that lease lives, and takes over once it has run out. A failure before the queue's
last delivery leaves the document processing for the redelivery; on the last one it ends
the document ``failed`` with a reason, rather than leaving it to the dead-letter queue.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace

from noticebot.domain.errors import UnreadableDocument
from noticebot.domain.ingest_budget import IngestBudget, final_failure_reason
from noticebot.domain.keys import workspace_of_raw_key
from noticebot.domain.models import Chunk, Document, DocumentStatus, utcnow
from noticebot.ingestion.chunking import chunk_sections
from noticebot.ingestion.clean import clean_document
from noticebot.ingestion.detect import detect_kind
from noticebot.ingestion.engines import NO_ENGINES, Engines
from noticebot.ingestion.parsed import ParsedDocument, ParseLimits
from noticebot.ingestion.pipeline import check_size, parse_document
from noticebot.ports import BlobStore, Embedder, MetadataStore, VectorIndex
from noticebot.ports.transcriber import TranscriptionJobs

logger = logging.getLogger(__name__)

EMBED_BATCH = 64
_FAILED = object()  # a step's outcome when the document was failed for good


@dataclass(frozen=True)
class Delivery:
    """Which delivery of which queue message an ingest attempt serves. The message id holds
    the document's lease; the receive count tells the queue's last delivery apart."""

    message_id: str
    receive_count: int = 1

    @classmethod
    def only(cls, max_attempts: int) -> "Delivery":
        """An attempt no queue will repeat (a direct call): it is its own last delivery."""
        return cls(message_id=f"direct-{uuid.uuid4().hex}", receive_count=max_attempts)


class DocumentBusy(Exception):
    """Another delivery's attempt holds the document's lease: retry this message later."""


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
                 embedder: Embedder, chunk_max_tokens: int = 200, chunk_overlap_tokens: int = 40,
                 *, engines: Engines | None = None, limits: ParseLimits | None = None,
                 transcription_jobs: TranscriptionJobs | None = None,
                 budget: IngestBudget | None = None, clock=utcnow):
        self.metadata = metadata
        self.blobs = blobs
        self.index = index
        self.embedder = embedder
        self.chunk_max_tokens = chunk_max_tokens
        self.chunk_overlap_tokens = chunk_overlap_tokens
        self.engines = engines or NO_ENGINES
        self.limits = limits or ParseLimits()
        self.transcription_jobs = transcription_jobs
        self.budget = budget or IngestBudget()
        self._clock = clock

    def ingest_object(self, key: str, delivery: Delivery | None = None) -> DocumentStatus | None:
        """Processes one object-created event. Idempotent: a redelivered event for an
        indexed or failed document changes nothing. Returns the final status (None if
        skipped); PROCESSING when an asynchronous transcription job was started, or when
        another delivery's live attempt holds the document on this message's last delivery.
        Raises ``DocumentBusy`` while another live attempt holds it (retry later), and
        re-raises unexpected errors so the queue redelivers the message."""
        delivery = delivery or Delivery.only(self.budget.max_attempts)
        workspace_id = workspace_of_raw_key(key)
        parts = key.split("/")
        if not workspace_id or len(parts) < 5:
            logger.warning("ignoring object outside the upload layout: %s", key)
            return None
        document_id = parts[3]
        doc = self.metadata.get_document(workspace_id, document_id)
        if doc is None:
            logger.warning("no document row for %s (deleted?)", key)
            return None
        now = self._clock()
        claimed = self.metadata.claim_document(
            workspace_id, document_id, holder=delivery.message_id,
            lease_until=self.budget.lease_until(now), now=now)
        if not claimed:
            return self._not_claimed(workspace_id, document_id, delivery)
        last = delivery.receive_count >= self.budget.max_attempts
        attempts = doc.attempts + 1  # this one included, since the document was last queued
        t0 = time.perf_counter()

        def fetch_or_transcribe():
            data = self.blobs.get(key)
            if self.transcription_jobs is not None and self._is_audio(data, doc):
                job = self.transcription_jobs.start(key, document_id, doc.filename)
                logger.info("transcription job %s for %s: %s", job.name, key, job.status)
                return data, job
            return data, None

        fetched = self._guarded(workspace_id, document_id, key, fetch_or_transcribe,
                                final=last, attempts=attempts)
        if fetched is _FAILED:
            return DocumentStatus.FAILED
        data, job = fetched
        if job is not None:
            if not job.finished:
                return DocumentStatus.PROCESSING  # its completion event resumes
            return self.resume_transcription(job.name)  # a redelivered event found it done

        def parse_and_index():
            parsed = parse_document(data, doc.filename, doc.content_type, self.limits,
                                    self.engines)
            count, title = self._index(workspace_id, document_id, doc, parsed)
            return count, parsed.page_count, title

        indexed = self._guarded(workspace_id, document_id, key, parse_and_index,
                                final=last, attempts=attempts)
        if indexed is _FAILED:
            return DocumentStatus.FAILED
        count, page_count, title = indexed
        status = self._finish(workspace_id, document_id, count, page_count,
                              title=title if title != doc.title else None)
        logger.info("indexed %s: %d chunks in %.2fs", key, count, time.perf_counter() - t0)
        return status

    def _not_claimed(self, workspace_id: str, document_id: str,
                     delivery: Delivery) -> DocumentStatus | None:
        """The claim was refused: the document is settled (a stale or duplicate message), gone,
        or another delivery's attempt holds a live lease on it."""
        doc = self.metadata.get_document(workspace_id, document_id)
        if doc is None:
            return None
        if doc.status != DocumentStatus.PROCESSING:
            return doc.status
        if delivery.receive_count >= self.budget.max_attempts:
            # The holder's own message is redelivered if that attempt dies; dead-lettering
            # this duplicate would only raise the alarm.
            logger.warning("document %s is held by %s until %s; dropping duplicate message %s",
                           document_id, doc.lease_holder, doc.lease_until, delivery.message_id)
            return doc.status
        raise DocumentBusy(f"document {document_id} is being indexed by {doc.lease_holder} "
                           f"until {doc.lease_until}")

    def resume_transcription(self, job_name: str) -> DocumentStatus | None:
        """The completion event of an asynchronous transcription job: index the transcript of
        the document it was started for, or fail it with the job's reason. Idempotent: an event
        for a document that is no longer processing (indexed, failed, deleted) changes nothing.
        Returns the document's status, or None when the event does not concern a document."""
        if self.transcription_jobs is None:
            raise RuntimeError("no transcription jobs engine is configured")
        job = self.transcription_jobs.get(job_name)
        if not job.finished:
            logger.info("transcription job %s is %s; waiting for its completion event",
                        job_name, job.status)
            return None
        key = job.media_key or ""
        workspace_id, parts = workspace_of_raw_key(key), key.split("/")
        if not workspace_id or len(parts) < 5:
            logger.warning("transcription job %s is not for an upload (%s)", job_name, key)
            return None
        document_id = parts[3]
        doc = self.metadata.get_document(workspace_id, document_id)
        if doc is None:
            logger.warning("transcription job %s: document %s is gone", job_name, document_id)
            return None
        if doc.status != DocumentStatus.PROCESSING:
            return doc.status  # a duplicate event, or the document was re-ingested meanwhile
        if self.transcription_jobs.job_name(document_id) != job_name:
            logger.warning("transcription job %s is not the current job of %s", job_name,
                           document_id)
            return None
        def index_transcript():
            if job.status == "FAILED":
                raise UnreadableDocument(
                    f"speech transcription failed: {job.failure_reason or 'no reason given'}")
            from noticebot.ingestion.parsers.audio import transcript_sections

            sections = transcript_sections(job.transcript.segments if job.transcript else [])
            parsed = clean_document(ParsedDocument(kind="audio", title=None, sections=sections))
            if not parsed.sections:
                raise UnreadableDocument("no speech found in the recording")
            return self._index(workspace_id, document_id, doc, parsed)[0]

        # A completion event is not a queue delivery: its failure is final.
        count = self._guarded(workspace_id, document_id, job_name, index_transcript, final=True)
        if count is _FAILED:
            return DocumentStatus.FAILED
        return self._finish(workspace_id, document_id, count, None)

    def _guarded(self, workspace_id: str, document_id: str, what: str, step, *, final: bool,
                 attempts: int | None = None):
        """Runs one step of ingestion. An unreadable file fails the document for good and
        returns ``_FAILED`` (no retry helps). Anything else re-raises, so the queue redelivers
        the message: before the last delivery the document stays processing (with nothing
        half-indexed) for the redelivery to take over; on the last (``final``) it is failed
        with a reason, since the dead-letter queue is where nobody would look."""
        try:
            return step()
        except UnreadableDocument as exc:
            self._fail(workspace_id, document_id, exc.message)
            return _FAILED
        except Exception as exc:
            logger.exception("ingest failed for %s", what)
            if final:
                self._fail(workspace_id, document_id, final_failure_reason(exc, attempts))
            else:
                self.index.delete_document(workspace_id, document_id)
            raise

    def _is_audio(self, data: bytes, doc: Document) -> bool:
        check_size(data, self.limits)  # empty / too large fail here as for every format
        return detect_kind(data, doc.filename, doc.content_type) == "audio"

    def _index(self, workspace_id: str, document_id: str, doc: Document,
               parsed: ParsedDocument) -> tuple[int, str]:
        """Chunks, embeds and indexes a parsed document; returns (chunks, the title used)."""
        drafts = chunk_sections(parsed.sections, self.embedder.count_tokens,
                                max_tokens=self.chunk_max_tokens,
                                overlap_tokens=self.chunk_overlap_tokens)
        if not drafts:
            raise UnreadableDocument("no text found in the file")
        title = _document_title(doc, parsed)
        chunks = [
            Chunk(chunk_id=f"{document_id}:{d.ordinal}", document_id=document_id,
                  ordinal=d.ordinal, text=d.text, title=title, page=d.page,
                  heading=d.heading, metadata=_chunk_metadata(doc, parsed, d))
            for d in drafts
        ]
        chunks = embed_chunks(self.embedder, chunks)
        # Replace, never append: a retried document must not gain duplicate chunks.
        self.index.delete_document(workspace_id, document_id)
        self.index.upsert(workspace_id, chunks)
        return len(chunks), title

    def _finish(self, workspace_id: str, document_id: str, count: int,
                page_count: int | None, *, title: str | None = None) -> DocumentStatus:
        applied = self.metadata.transition_document(
            workspace_id, document_id, DocumentStatus.INDEXED,
            allowed_from=(DocumentStatus.PROCESSING,), chunk_count=count, page_count=page_count,
            title=title,
        )
        if not applied:  # deleted while we worked: leave nothing behind
            self.index.delete_document(workspace_id, document_id)
        return DocumentStatus.INDEXED

    def _fail(self, workspace_id: str, document_id: str, message: str) -> None:
        self.index.delete_document(workspace_id, document_id)
        self.metadata.transition_document(
            workspace_id, document_id, DocumentStatus.FAILED,
            allowed_from=(DocumentStatus.PROCESSING,), error=message, chunk_count=0,
        )


def _document_title(doc: Document, parsed: ParsedDocument) -> str:
    """The title an editor typed wins; an upload titled only by its file name takes the
    title found inside the file (a PDF's metadata, an HTML <title>, a Word heading)."""
    return doc.title if doc.title != doc.filename or not parsed.title else parsed.title


def _chunk_metadata(doc: Document, parsed: ParsedDocument, draft) -> dict:
    metadata = {"filename": doc.filename, "kind": parsed.kind}
    location = getattr(draft, "location", None)
    if location:
        metadata["location"] = location  # a time range in a recording, a sheet and rows, ...
    return metadata
