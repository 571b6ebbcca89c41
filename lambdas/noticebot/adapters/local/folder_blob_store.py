"""BlobStore on a folder. Emits the same ObjectCreated notification S3 would."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from noticebot.ports.blob_store import BlobStore

ObjectCreatedHook = Callable[[str, int], None]  # (key, size)


class FolderBlobStore(BlobStore):
    def __init__(self, root: Path, on_object_created: ObjectCreatedHook | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.on_object_created = on_object_created

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        # A key is produced by our own code, but a filename inside it came from a user.
        if not str(path).startswith(str(self.root.resolve()) + os.sep):
            raise ValueError(f"blob key escapes the store: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader (the ingest worker) never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        if self.on_object_created:
            self.on_object_created(key, len(data))

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        return path.read_bytes()

    def delete_prefix(self, prefix: str) -> int:
        path = self._path(prefix.rstrip("/"))
        if path.is_dir():
            count = sum(1 for p in path.rglob("*") if p.is_file())
            shutil.rmtree(path)
            return count
        if path.is_file():
            path.unlink()
            return 1
        return 0
