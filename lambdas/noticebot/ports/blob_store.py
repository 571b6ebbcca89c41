"""BlobStore: raw uploads. S3 in AWS, a folder locally."""

from __future__ import annotations

from abc import ABC, abstractmethod


def raw_key(workspace_id: str, document_id: str, filename: str) -> str:
    """The one key layout for uploads; the workspace prefix is what IAM policies scope to."""
    return f"tenants/{workspace_id}/raw/{document_id}/{filename}"


def workspace_of_key(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) >= 4 and parts[0] == "tenants" and parts[2] == "raw":
        return parts[1]
    return None


class BlobStore(ABC):
    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes:
        """Raises KeyError when the key does not exist."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Deletes every object under ``prefix``; returns how many."""
