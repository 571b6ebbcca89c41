"""MetadataStore: documents, notices, conversations. DynamoDB in AWS, SQLite locally.

Every read and write names the workspace; rows of one workspace are invisible to another.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from noticebot.domain.models import (
    Conversation,
    ConversationTurn,
    Document,
    DocumentStatus,
    Notice,
)


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
    ) -> bool:
        """Conditional status change: applied only if the current status is in
        ``allowed_from``. Returns whether it was applied (a stale message loses)."""

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
