"""MetadataStore: documents, notices, conversations, fine-tune jobs, model versions and each
workspace's active model. DynamoDB in AWS, SQLite locally.

Every read and write names the workspace; rows of one workspace are invisible to another.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from noticebot.domain.models import (
    Conversation,
    ConversationTurn,
    Document,
    DocumentStatus,
    Notice,
)
from noticebot.domain.tuning import FineTuneJob, JobStatus, ModelVersion


class MetadataStore(ABC):
    # documents
    @abstractmethod
    def put_document(self, doc: Document) -> None: ...

    @abstractmethod
    def get_document(self, workspace_id: str, document_id: str) -> Document | None: ...

    @abstractmethod
    def list_documents(self, workspace_id: str, source: str | None = None) -> list[Document]: ...

    @abstractmethod
    def find_document_by_sha256(self, workspace_id: str, sha256: str) -> Document | None: ...

    @abstractmethod
    def transition_document(
        self,
        workspace_id: str,
        document_id: str,
        to: DocumentStatus,
        *,
        allowed_from: tuple[DocumentStatus, ...],
        error: str | None = None,
        chunk_count: int | None = None,
        page_count: int | None = None,
        title: str | None = None,
        unchanged_since: datetime | None = None,
    ) -> bool:
        """Conditional status change: applied only if the current status is in
        ``allowed_from``. Returns whether it was applied (a stale message loses).
        ``title`` (when given) replaces the document's title: the one found inside the file.
        ``unchanged_since`` (when given): applied only if the stored ``updated_at`` still equals
        it, so a decision taken on what was read loses to any change made since."""

    @abstractmethod
    def claim_document(self, workspace_id: str, document_id: str, *, holder: str,
                       lease_until: datetime, now: datetime) -> bool:
        """Starts an ingest attempt, in one conditional write: a queued document becomes
        processing; a processing one is taken over only when the lease of the attempt before
        has run out (``lease_until <= now``, or none recorded) or was held by ``holder`` itself
        (the queue redelivered that message, so its earlier attempt is over). Counts the
        attempt, records ``holder`` and ``lease_until`` and clears the error. Indexed, failed,
        missing documents and live leases of other holders are refused: returns False."""

    @abstractmethod
    def requeue_document(self, workspace_id: str, document_id: str, *, seen: Document,
                         reset_attempts: bool) -> bool:
        """Puts a failed or stuck document back to queued (lease and error cleared, attempts
        reset when ``reset_attempts``), only if it is unchanged since ``seen`` was read (same
        status and ``updated_at``). Returns whether it was applied."""

    @abstractmethod
    def delete_document(self, workspace_id: str, document_id: str) -> bool: ...

    # notices
    @abstractmethod
    def put_notice(self, notice: Notice) -> None: ...

    @abstractmethod
    def get_notice(self, workspace_id: str, notice_id: str) -> Notice | None: ...

    @abstractmethod
    def list_notices(self, workspace_id: str) -> list[Notice]: ...

    @abstractmethod
    def delete_notice(self, workspace_id: str, notice_id: str) -> bool: ...

    # conversations
    @abstractmethod
    def put_conversation(self, conversation: Conversation) -> None:
        """Creates or replaces the conversation header (not its turns)."""

    @abstractmethod
    def get_conversation(self, workspace_id: str, conversation_id: str) -> Conversation | None:
        """With its turns, oldest first."""

    @abstractmethod
    def append_turns(
        self, workspace_id: str, conversation_id: str, turns: list[ConversationTurn]
    ) -> None: ...

    # fine-tune jobs
    @abstractmethod
    def claim_tuning_slot(self, workspace_id: str, job_id: str) -> str | None:
        """Atomically makes ``job_id`` the workspace's one training job. Returns None when
        claimed, or the id of the job already holding the slot (nothing changes then)."""

    @abstractmethod
    def release_tuning_slot(self, workspace_id: str, job_id: str) -> bool:
        """Frees the slot if ``job_id`` holds it; returns whether it did."""

    @abstractmethod
    def put_job(self, job: FineTuneJob) -> None:
        """Creates or replaces the job."""

    @abstractmethod
    def update_job(self, job: FineTuneJob, *, allowed_from: tuple[JobStatus, ...]) -> bool:
        """Replaces the stored job only if its stored status is in ``allowed_from``
        (a stale or duplicate completion event loses). Returns whether it was applied."""

    @abstractmethod
    def get_job(self, workspace_id: str, job_id: str) -> FineTuneJob | None: ...

    @abstractmethod
    def list_jobs(self, workspace_id: str) -> list[FineTuneJob]:
        """Newest first."""

    # model versions and the active model
    @abstractmethod
    def put_model(self, version: ModelVersion) -> None: ...

    @abstractmethod
    def get_model(self, workspace_id: str, model_id: str) -> ModelVersion | None: ...

    @abstractmethod
    def list_models(self, workspace_id: str) -> list[ModelVersion]:
        """Newest first."""

    @abstractmethod
    def get_active_model(self, workspace_id: str) -> str | None:
        """The model id chat uses for the workspace; None = the base model."""

    @abstractmethod
    def set_active_model(self, workspace_id: str, model_id: str | None) -> None: ...
