"""BlobStore on S3: server-side encrypted objects under ``tenants/{workspace}/raw/...``.

Why SSE on every write (and in every presigned policy): the bucket policy the CDK
stack attaches denies unencrypted puts, so the adapter states the encryption it
wants instead of relying on a bucket default that a later change could drop. With a
KMS key id (``NOTICEBOT_KMS_KEY_ID``) objects use SSE-KMS with that key, else SSE-S3.

Why presigned POST (not a presigned PUT URL) for large uploads: a POST policy can
carry conditions S3 enforces itself: the exact key (inside the caller's tenant
prefix), a ``content-length-range`` and the content type. A PUT URL cannot bound
the size, so a client could store any amount under our key.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.domain.keys import raw_prefix, workspace_of_raw_key
from noticebot.ports.blob_store import BlobStore, PresignedUpload

DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, client: ClientSource, *, kms_key_id: str | None = None):
        if not bucket:
            raise ValueError("an S3 bucket name is required (NOTICEBOT_BUCKET)")
        self.bucket = bucket
        self.kms_key_id = kms_key_id or None
        self._client = lazy(client)

    @property
    def client(self):
        return self._client()

    def _sse(self) -> dict[str, str]:
        """SSE request parameters (PutObject names)."""
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    def _sse_fields(self) -> dict[str, str]:
        """The same, as form fields of a presigned POST."""
        if self.kms_key_id:
            return {"x-amz-server-side-encryption": "aws:kms",
                    "x-amz-server-side-encryption-aws-kms-key-id": self.kms_key_id}
        return {"x-amz-server-side-encryption": "AES256"}

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                               ContentType=content_type, **self._sse())

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                raise KeyError(key) from None
            raise
        body = response["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def delete_prefix(self, prefix: str) -> int:
        if not prefix or not workspace_of_raw_key(prefix.rstrip("/") + "/x"):
            # Never a bare or tenant-less prefix: one bug must not empty the bucket.
            raise ValueError(f"refusing to delete outside a tenant's raw prefix: {prefix!r}")
        deleted = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            for start in range(0, len(keys), DELETE_BATCH):
                batch = keys[start:start + DELETE_BATCH]
                result = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                errors = result.get("Errors") or []
                if errors:
                    raise RuntimeError(f"S3 refused to delete {len(errors)} objects: "
                                       f"{errors[0].get('Code')} {errors[0].get('Key')}")
                deleted += len(batch)
        return deleted

    def presign_upload(self, key: str, content_type: str, max_bytes: int,
                       expires_in: int = 900) -> PresignedUpload:
        """A presigned POST for exactly ``key``. The policy pins the key (and, as a second
        guard, the tenant prefix), the content type, SSE, and 1..``max_bytes`` bytes."""
        workspace = workspace_of_raw_key(key)
        if not workspace:
            raise ValueError(f"not an upload key: {key!r}")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        fields = {"Content-Type": content_type, **self._sse_fields()}
        # boto3 adds {"bucket": ...} and {"key": key} itself; the tenant prefix is a second
        # guard that holds even if a caller ever passed a ``${filename}`` key.
        conditions: list = [
            ["starts-with", "$key", raw_prefix(workspace)],
            {"Content-Type": content_type},
            ["content-length-range", 1, int(max_bytes)],
            *({name: value} for name, value in self._sse_fields().items()),
        ]
        form = self.client.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions,
            ExpiresIn=int(expires_in),
        )
        return PresignedUpload(
            url=form["url"], fields=dict(form["fields"]), max_bytes=int(max_bytes),
            expires_at=datetime.now(timezone.utc) + timedelta(seconds=int(expires_in)),
            direct=True,
        )
