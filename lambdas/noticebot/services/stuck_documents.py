"""Stuck documents: queued or processing past their time budget with nobody working on them.

A document gets stuck when its process died at the wrong moment: between writing the row and
storing the file (the upload never finished), or often enough that the queue gave up on its
message. Each is settled: requeued when its file is there and attempts remain (the file is
stored again, so its object-created event starts a fresh delivery, on S3 as in the local
folder), else failed with a reason a person can act on. Every change is conditional on the
document being unchanged since it was read, so a worker that moves it meanwhile wins.

Who settles: the local worker's sweep (at start and periodically; it alone knows which
documents still have a message in its queue), re-uploads of the same bytes
(``DocumentService.upload``), and every read (``fail_if_exhausted``: a last attempt that ran
out of time is over, which is all an AWS deployment, with no sweep, can know for sure).
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from collections.abc import Collection, Iterable

from noticebot.domain.ingest_budget import (
    UPLOAD_UNFINISHED,
    IngestBudget,
    attempts_exhausted_reason,
)
from noticebot.domain.models import Document, DocumentStatus, utcnow
from noticebot.ports import BlobStore, MetadataStore, VectorIndex

logger = logging.getLogger(__name__)


class Settled(str, enum.Enum):
    LEFT = "left"  # not stuck (or it changed meanwhile): nothing done
    REQUEUED = "requeued"
    FAILED = "failed"


class StuckDocuments:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, index: VectorIndex,
                 budget: IngestBudget, clock=utcnow):
        self.metadata = metadata
        self.blobs = blobs
        self.index = index
        self.budget = budget
        self._clock = clock

    def retry(self, seen: Document, data: bytes | None = None, *, reset_attempts: bool) -> bool:
        """Puts the document back to queued, then stores its file again so the object-created
        event starts a delivery. ``data``: the file's bytes (None: the stored file, KeyError
        when there is none). Returns False, doing nothing, when the document changed since
        ``seen`` was read. A crash between the two steps leaves it queued with its file: the
        sweep requeues it once its budget has passed."""
        if data is None:
            data = self.blobs.get(seen.blob_key)
        if not self.metadata.requeue_document(seen.workspace_id, seen.document_id, seen=seen,
                                              reset_attempts=reset_attempts):
            return False
        self.blobs.put(seen.blob_key, data, seen.content_type)
        return True

    def settle(self, doc: Document, *, has_message: bool) -> Settled:
        """``has_message``: a queue message for the document is still waiting or in flight,
        so a delivery will come and nothing needs doing."""
        if (doc.source != "upload" or has_message
                or not self.budget.is_overdue(doc, self._clock())):
            return Settled.LEFT  # notices are indexed as they are written; they have no file
        try:
            data = self.blobs.get(doc.blob_key)
        except KeyError:
            return self._fail(doc, UPLOAD_UNFINISHED)
        if self.budget.attempts_exhausted(doc):
            return self._fail(doc, attempts_exhausted_reason(doc.attempts))
        return Settled.REQUEUED if self.retry(doc, data, reset_attempts=False) else Settled.LEFT

    def sweep(self, candidates: Iterable[Document],
              keys_with_messages: Collection[str]) -> Counter[Settled]:
        """Settles each unsettled document; returns how many ended which way."""
        outcomes: Counter[Settled] = Counter()
        for doc in candidates:
            try:
                outcome = self.settle(doc, has_message=doc.blob_key in keys_with_messages)
            except Exception:  # one document's trouble must not stop the sweep
                logger.exception("could not settle stuck document %s", doc.document_id)
                continue
            outcomes[outcome] += 1
            if outcome is not Settled.LEFT:
                logger.warning("stuck document %s/%s (%s, %d attempts): %s",
                               doc.workspace_id, doc.document_id, doc.status.value,
                               doc.attempts, outcome.value)
        return outcomes

    def fail_if_exhausted(self, doc: Document) -> Document:
        """The read path's check: a processing document whose attempts are used up and whose
        last lease ran out will not be run again (its message is dead-lettered), so it is
        failed rather than shown processing for ever. Returns the document as it now is."""
        if (doc.status != DocumentStatus.PROCESSING or not self.budget.attempts_exhausted(doc)
                or not self.budget.is_overdue(doc, self._clock())):
            return doc
        self._fail(doc, attempts_exhausted_reason(doc.attempts))
        return self.metadata.get_document(doc.workspace_id, doc.document_id) or doc

    def _fail(self, doc: Document, reason: str) -> Settled:
        applied = self.metadata.transition_document(
            doc.workspace_id, doc.document_id, DocumentStatus.FAILED, allowed_from=(doc.status,),
            error=reason, chunk_count=0, unchanged_since=doc.updated_at)
        if not applied:
            return Settled.LEFT
        # Whatever a dead attempt indexed must not stay searchable under a failed document.
        # After the conditional write, never before: had a worker indexed it meanwhile, the
        # write loses and its chunks stay.
        self.index.delete_document(doc.workspace_id, doc.document_id)
        return Settled.FAILED
