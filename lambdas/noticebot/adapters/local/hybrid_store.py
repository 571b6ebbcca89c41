"""SQLite store of indexed chunks: the durable truth the in-memory segments are rebuilt from.

Every statement is scoped by ``workspace_id``. One connection is shared across threads
(``check_same_thread=False``); the owning index serialises its use with a lock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from noticebot.domain.models import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    workspace_id TEXT NOT NULL,
    chunk_id     TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    ordinal      INTEGER NOT NULL,
    text         TEXT NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    page         INTEGER,
    heading      TEXT,
    expires_at   REAL,
    metadata     TEXT NOT NULL DEFAULT '{}',
    vector       BLOB NOT NULL,
    PRIMARY KEY (workspace_id, chunk_id)
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks (workspace_id, document_id);
"""

_MAX_PARAMS = 500  # under SQLite's host-parameter limit on old builds (999)


def to_epoch(value: datetime) -> float:
    """Naive datetimes are taken as UTC (the domain uses aware UTC datetimes)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


class ChunkStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")  # readers don't block the ingest writer
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; fine in WAL
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def data_version(self) -> int:
        """Changes when ANOTHER connection (e.g. the CLI beside a running server) commits."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def upsert(self, workspace_id: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        rows = [
            (
                workspace_id, c.chunk_id, c.document_id, c.ordinal, c.text, c.title or "",
                c.page, c.heading, None if c.expires_at is None else to_epoch(c.expires_at),
                json.dumps(c.metadata or {}, default=str), vectors[i].tobytes(),
            )
            for i, c in enumerate(chunks)
        ]
        with self._db:  # one transaction: a batch lands whole or not at all
            self._db.executemany(
                "INSERT OR REPLACE INTO chunks (workspace_id, chunk_id, document_id, ordinal, text,"
                " title, page, heading, expires_at, metadata, vector)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def delete_document(self, workspace_id: str, document_id: str) -> int:
        with self._db:
            cur = self._db.execute(
                "DELETE FROM chunks WHERE workspace_id = ? AND document_id = ?",
                (workspace_id, document_id),
            )
        return cur.rowcount

    def count(self, workspace_id: str) -> int:
        sql = "SELECT COUNT(*) FROM chunks WHERE workspace_id = ?"
        return self._db.execute(sql, (workspace_id,)).fetchone()[0]

    def dimension(self, workspace_id: str) -> int | None:
        sql = "SELECT length(vector) FROM chunks WHERE workspace_id = ? LIMIT 1"
        row = self._db.execute(sql, (workspace_id,)).fetchone()
        return None if row is None else row[0] // 4

    def scan(self, workspace_id: str, batch: int = 16384) -> Iterator[list[tuple]]:
        """(chunk_id, document_id, text, title, heading, expires_at, vector bytes) batches."""
        cur = self._db.execute(
            "SELECT chunk_id, document_id, text, title, heading, expires_at, vector"
            " FROM chunks WHERE workspace_id = ? ORDER BY rowid",
            (workspace_id,),
        )
        while rows := cur.fetchmany(batch):
            yield rows

    def chunk_ids(self, workspace_id: str, limit: int) -> list[str]:
        """Ids by document then position, at most ``limit``."""
        sql = ("SELECT chunk_id FROM chunks WHERE workspace_id = ?"
               " ORDER BY document_id, ordinal, chunk_id LIMIT ?")
        return [r[0] for r in self._db.execute(sql, (workspace_id, int(limit)))]

    def fetch(self, workspace_id: str, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id, without their vectors (hits do not need them)."""
        out: dict[str, Chunk] = {}
        for start in range(0, len(chunk_ids), _MAX_PARAMS):
            part = list(chunk_ids[start : start + _MAX_PARAMS])
            marks = ",".join("?" * len(part))
            cur = self._db.execute(
                "SELECT chunk_id, document_id, ordinal, text, title, page, heading, expires_at,"
                f" metadata FROM chunks WHERE workspace_id = ? AND chunk_id IN ({marks})",
                (workspace_id, *part),
            )
            for cid, doc, ordinal, text, title, page, heading, exp, meta in cur:
                out[cid] = Chunk(
                    chunk_id=cid, document_id=doc, ordinal=ordinal, text=text, title=title,
                    page=page, heading=heading,
                    expires_at=None if exp is None else datetime.fromtimestamp(exp, timezone.utc),
                    metadata=json.loads(meta),
                )
        return out
