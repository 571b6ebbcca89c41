"""BlobStore: raw uploads. S3 in AWS, a folder locally. Keys: noticebot.domain.keys."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

# Where a store that cannot sign uploads sends the client instead (the API's multipart upload).
API_UPLOAD_PATH = "/api/upload"


@dataclass(frozen=True)
class PresignedUpload:
    """A form the client POSTs the file with: multipart/form-data, ``fields`` first, then
    the file under ``file_field``. ``direct``: the file lands at the blob key itself and
    its object-created event starts ingestion (S3); otherwise the form goes to the API's
    own upload route, which creates the document (local mode)."""

    url: str
    fields: dict[str, str] = field(default_factory=dict)
    max_bytes: int = 0
    expires_at: datetime | None = None
    direct: bool = False
    method: str = "POST"
    file_field: str = "file"


class BlobStore(ABC):
    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes:
        """Raises KeyError when the key does not exist."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Deletes every object under ``prefix``; returns how many."""

    def presign_upload(self, key: str, content_type: str, max_bytes: int,
                       expires_in: int = 900) -> PresignedUpload:
        """A form for uploading one file to ``key`` without passing through the API (large
        files). Stores that cannot sign one (the local folder) point the client at the
        API's multipart upload instead, which enforces its own size limit."""
        return PresignedUpload(url=API_UPLOAD_PATH, max_bytes=max_bytes, direct=False)
