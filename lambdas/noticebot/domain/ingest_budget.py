"""How long ingesting a document may take, and when a document counts as stuck.

An ingest attempt holds a lease on its document for one attempt's time budget: the ingest
function's timeout on AWS (nothing runs past it), the same setting locally. Another delivery
takes the document over only once that lease has run out, so two deliveries never index one
document at the same time, and a crashed or timed-out attempt never holds it for longer.

A queued or processing document past its budget with nobody working on it is stuck: it is
requeued (its file is there) or failed with a reason a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from noticebot.domain.models import Document, DocumentStatus

UPLOAD_UNFINISHED = "the upload did not finish; upload the file again"


def attempts_exhausted_reason(attempts: int) -> str:
    return (f"indexing stopped before finishing {attempts} times (the worker was stopped or ran "
            f"out of time); upload the file again to retry")


def final_failure_reason(error: Exception, attempts: int | None) -> str:
    """The failed document's message after its last attempt raised ``error``."""
    tries = f" after {attempts} attempts" if attempts and attempts > 1 else ""
    return (f"indexing failed{tries} (internal error: {type(error).__name__}); "
            f"upload the file again to retry")


@dataclass(frozen=True)
class IngestBudget:
    attempt_s: int = 300  # one attempt's time budget = the lease = the ingest function timeout
    max_attempts: int = 3  # the queue's maxReceiveCount: deliveries before the dead-letter queue

    def lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.attempt_s)

    def is_overdue(self, doc: Document, now: datetime) -> bool:
        """Queued or processing for longer than one attempt may take: a processing lease that
        ran out (its attempt crashed or timed out), or a queued document whose event is late."""
        if doc.status == DocumentStatus.PROCESSING:
            ends = doc.lease_until or doc.updated_at + timedelta(seconds=self.attempt_s)
            return ends <= now
        if doc.status == DocumentStatus.QUEUED:
            return doc.updated_at + timedelta(seconds=self.attempt_s) <= now
        return False

    def may_retry_on_upload(self, doc: Document, now: datetime) -> bool:
        """Uploading the same bytes again retries a failed or stuck document; a healthy one
        (indexed, or queued / processing within its budget) is answered as a duplicate."""
        return doc.status == DocumentStatus.FAILED or self.is_overdue(doc, now)

    def attempts_exhausted(self, doc: Document) -> bool:
        return doc.attempts >= self.max_attempts
