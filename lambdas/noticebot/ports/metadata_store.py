"""MetadataStore: documents, notices, conversations, fine-tune jobs, model versions, each
workspace's active model, and its members and invitations. DynamoDB in AWS, SQLite locally.

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
from noticebot.domain.members import (
    Invitation,
    InvitationStatus,
    JoinResult,
    Member,
    MemberChange,
    Role,
)
from noticebot.domain.notifications import Device, MemberInbox
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
    def list_notices(self, workspace_id: str, *, bodies: bool = True) -> list[Notice]:
        """Pinned first, newest first. ``bodies`` False: each notice's title and body may be
        left empty, which spares sending and decoding them where only authors and times
        count (the unread count on every ``GET /api/me``). DynamoDB still charges read
        capacity for the whole items: a projection cuts bytes and latency, not cost."""

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

    # members and invitations. The store keeps the one invariant no caller can check and then
    # write safely on its own: a workspace that has an editor keeps one.
    @abstractmethod
    def get_member(self, workspace_id: str, user_id: str) -> Member | None:
        """One keyed, strongly consistent read: every request's membership check. Removed
        members are returned too (status ``removed``)."""

    @abstractmethod
    def list_members(self, workspace_id: str) -> list[Member]:
        """Active and removed, by join time then user id."""

    @abstractmethod
    def join_member(self, member: Member, *, accepting: Invitation | None = None,
                    now: datetime | None = None) -> JoinResult:
        """Makes ``member`` an active member, where the user has no record or a removed one.
        With ``accepting``, in the same atomic write, that invitation moves from pending (and
        unexpired at ``now``) to accepted; when it no longer can, nothing is written."""

    @abstractmethod
    def change_member_role(self, workspace_id: str, user_id: str, role: Role, *,
                           now: datetime | None = None) -> MemberChange:
        """Conditional: refuses (LAST_EDITOR) to demote the workspace's last active editor."""

    @abstractmethod
    def remove_member(self, workspace_id: str, user_id: str, *, removed_by: str,
                      now: datetime | None = None) -> MemberChange:
        """Leaves a tombstone (status removed); refuses (LAST_EDITOR) to remove the last
        active editor."""

    @abstractmethod
    def end_member_sessions(self, workspace_id: str, user_id: str, not_before: int) -> bool:
        """Sign-out: tokens issued before ``not_before`` (epoch seconds) are refused from now
        on. Only moves forward; False when there is no active member."""

    @abstractmethod
    def put_invitation(self, invitation: Invitation) -> None:
        """Creates or replaces the invitation."""

    @abstractmethod
    def get_invitation(self, workspace_id: str, invitation_id: str) -> Invitation | None: ...

    @abstractmethod
    def list_invitations(self, workspace_id: str) -> list[Invitation]:
        """Newest first."""

    @abstractmethod
    def update_invitation(self, invitation: Invitation, *,
                          allowed_from: tuple[InvitationStatus, ...]) -> bool:
        """Replaces the stored invitation only if its stored status is in ``allowed_from``
        (two editors revoking at once, or a revoke racing the acceptance: one wins)."""

    # what members have seen, whether they hear pushes, and their devices (one workspace's)
    @abstractmethod
    def get_inbox(self, workspace_id: str, user_id: str) -> MemberInbox | None:
        """None: the member never marked anything seen nor muted pushes."""

    @abstractmethod
    def list_inboxes(self, workspace_id: str) -> list[MemberInbox]: ...

    @abstractmethod
    def mark_seen(self, workspace_id: str, user_id: str, at: datetime) -> None:
        """Moves the member's seen instant forward to ``at`` (never back)."""

    @abstractmethod
    def set_push_muted(self, workspace_id: str, user_id: str, muted: bool) -> None: ...

    @abstractmethod
    def register_device(self, device: Device) -> Device:
        """Creates the device, or takes over the stored one with the same id (same token):
        the same user's is kept as it was (platform updated), another user's becomes
        ``device.user_id``'s with ``device.created_at``. Returns what is stored."""

    @abstractmethod
    def list_devices(self, workspace_id: str, user_id: str | None = None) -> list[Device]:
        """Oldest first; only ``user_id``'s when given."""

    @abstractmethod
    def delete_device(self, workspace_id: str, device_id: str,
                      user_id: str | None = None) -> bool:
        """Only ``user_id``'s when given; returns whether one was deleted."""
