"""MetadataStore on SQLite. Schema versioned through PRAGMA user_version.

Fine-tuning jobs, model versions and the active model live in ``sqlite_tuning`` (migration 2),
members and invitations in ``sqlite_members`` (migration 4), with their reading state and
push devices (migration 5).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from noticebot.domain.models import (
    Citation,
    Conversation,
    ConversationTurn,
    Document,
    DocumentStatus,
    Notice,
    utcnow,
)
from noticebot.adapters.local.sqlite_members import (
    MEMBERS_MIGRATION,
    NOTIFY_MIGRATION,
    SqliteMembersMixin,
)
from noticebot.adapters.local.sqlite_tuning import TUNING_MIGRATION, SqliteTuningMixin
from noticebot.ports.metadata_store import MetadataStore

# Each entry moves the schema one version forward; never edit a released entry.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE documents (
        workspace_id TEXT NOT NULL, document_id TEXT NOT NULL,
        filename TEXT NOT NULL, title TEXT NOT NULL, content_type TEXT NOT NULL,
        size_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, blob_key TEXT NOT NULL,
        status TEXT NOT NULL, error TEXT, chunk_count INTEGER NOT NULL DEFAULT 0,
        page_count INTEGER, source TEXT NOT NULL, metadata TEXT NOT NULL,
        uploaded_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, document_id)
    );
    CREATE INDEX documents_by_hash ON documents (workspace_id, sha256);
    CREATE TABLE notices (
        workspace_id TEXT NOT NULL, notice_id TEXT NOT NULL,
        title TEXT NOT NULL, body TEXT NOT NULL, author TEXT NOT NULL,
        pinned INTEGER NOT NULL, expires_at TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, notice_id)
    );
    CREATE TABLE conversations (
        workspace_id TEXT NOT NULL, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
        title TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, conversation_id)
    );
    CREATE TABLE turns (
        workspace_id TEXT NOT NULL, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
        role TEXT NOT NULL, content TEXT NOT NULL, citations TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (workspace_id, conversation_id, seq)
    );
    """,
    # 2: fine-tune jobs, the per-workspace training slot, model versions, the active model
    TUNING_MIGRATION,
    # 3: ingest leases (attempts, lease end as a sortable UTC string, holder) and the
    # unsettled documents the stuck-document sweep looks at
    """
    ALTER TABLE documents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN lease_until TEXT;
    ALTER TABLE documents ADD COLUMN lease_holder TEXT NOT NULL DEFAULT '';
    CREATE INDEX documents_unsettled ON documents (status)
        WHERE status IN ('queued', 'processing');
    """,
    # 4: workspace members (with removed members' tombstones) and invitations
    MEMBERS_MIGRATION,
    # 5: when a notice was pinned, members' seen instants and mutes, push devices
    NOTIFY_MIGRATION,
]

DOCUMENT_COLUMNS = (
    "workspace_id", "document_id", "filename", "title", "content_type", "size_bytes", "sha256",
    "blob_key", "status", "error", "chunk_count", "page_count", "source", "metadata",
    "uploaded_by", "created_at", "updated_at", "attempts", "lease_until", "lease_holder",
)


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _lease(value: datetime | None) -> str | None:
    """UTC, fixed width: lease ends compare as strings in SQL whatever offset they came with."""
    return value.astimezone(timezone.utc).strftime(LEASE_FORMAT) if value else None


def _lease_dt(value: str | None) -> datetime | None:
    return datetime.strptime(value, LEASE_FORMAT).replace(tzinfo=timezone.utc) if value else None


LEASE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class SqliteMetadataStore(SqliteMembersMixin, SqliteTuningMixin, MetadataStore):
    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self._lock:
            current = self.schema_version
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                self._db.executescript(f"BEGIN; {script}; PRAGMA user_version={version}; COMMIT;")

    def _exec(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    # documents
    def put_document(self, doc: Document) -> None:
        self._exec(
            f"INSERT OR REPLACE INTO documents ({', '.join(DOCUMENT_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in DOCUMENT_COLUMNS)})",
            (
                doc.workspace_id, doc.document_id, doc.filename, doc.title, doc.content_type,
                doc.size_bytes, doc.sha256, doc.blob_key, doc.status.value, doc.error,
                doc.chunk_count, doc.page_count, doc.source, json.dumps(doc.metadata),
                doc.uploaded_by, _ts(doc.created_at), _ts(doc.updated_at), doc.attempts,
                _lease(doc.lease_until), doc.lease_holder,
            ),
        )

    @staticmethod
    def _document(row: sqlite3.Row) -> Document:
        return Document(
            workspace_id=row["workspace_id"], document_id=row["document_id"],
            filename=row["filename"], title=row["title"], content_type=row["content_type"],
            size_bytes=row["size_bytes"], sha256=row["sha256"], blob_key=row["blob_key"],
            status=DocumentStatus(row["status"]), error=row["error"],
            chunk_count=row["chunk_count"], page_count=row["page_count"], source=row["source"],
            metadata=json.loads(row["metadata"]), uploaded_by=row["uploaded_by"],
            created_at=_dt(row["created_at"]), updated_at=_dt(row["updated_at"]),
            attempts=row["attempts"], lease_until=_lease_dt(row["lease_until"]),
            lease_holder=row["lease_holder"],
        )

    def get_document(self, workspace_id: str, document_id: str) -> Document | None:
        row = self._exec(
            "SELECT * FROM documents WHERE workspace_id=? AND document_id=?",
            (workspace_id, document_id),
        ).fetchone()
        return self._document(row) if row else None

    def list_documents(self, workspace_id: str, source: str | None = None) -> list[Document]:
        sql = "SELECT * FROM documents WHERE workspace_id=?"
        params: tuple = (workspace_id,)
        if source:
            sql += " AND source=?"
            params += (source,)
        rows = self._exec(sql + " ORDER BY created_at DESC, document_id", params).fetchall()
        return [self._document(r) for r in rows]

    def find_document_by_sha256(self, workspace_id: str, sha256: str) -> Document | None:
        row = self._exec(
            "SELECT * FROM documents WHERE workspace_id=? AND sha256=? AND source='upload' "
            "ORDER BY created_at LIMIT 1",
            (workspace_id, sha256),
        ).fetchone()
        return self._document(row) if row else None

    def transition_document(self, workspace_id, document_id, to, *, allowed_from, error=None,
                            chunk_count=None, page_count=None, title=None,
                            unchanged_since=None) -> bool:
        if not allowed_from:
            return False
        marks = ",".join("?" for _ in allowed_from)
        unchanged = " AND updated_at=?" if unchanged_since is not None else ""
        cur = self._exec(
            f"UPDATE documents SET status=?, error=?, "
            f"chunk_count=COALESCE(?, chunk_count), page_count=COALESCE(?, page_count), "
            f"title=COALESCE(?, title), "
            f"updated_at=? WHERE workspace_id=? AND document_id=? AND status IN ({marks})"
            f"{unchanged}",
            (to.value, error, chunk_count, page_count, title, _ts(utcnow()), workspace_id,
             document_id, *(s.value for s in allowed_from),
             *((_ts(unchanged_since),) if unchanged_since is not None else ())),
        )
        return cur.rowcount == 1

    def claim_document(self, workspace_id, document_id, *, holder, lease_until, now) -> bool:
        cur = self._exec(
            "UPDATE documents SET status='processing', attempts=attempts+1, lease_until=?, "
            "lease_holder=?, error=NULL, updated_at=? "
            "WHERE workspace_id=? AND document_id=? AND (status='queued' OR "
            "(status='processing' AND (lease_until IS NULL OR lease_until<=? OR lease_holder=?)))",
            (_lease(lease_until), holder, _ts(utcnow()), workspace_id, document_id, _lease(now),
             holder),
        )
        return cur.rowcount == 1

    def requeue_document(self, workspace_id, document_id, *, seen, reset_attempts) -> bool:
        cur = self._exec(
            "UPDATE documents SET status='queued', error=NULL, lease_until=NULL, "
            "lease_holder='', attempts=CASE WHEN ? THEN 0 ELSE attempts END, updated_at=? "
            "WHERE workspace_id=? AND document_id=? AND status=? AND updated_at=?",
            (int(reset_attempts), _ts(utcnow()), workspace_id, document_id, seen.status.value,
             _ts(seen.updated_at)),
        )
        return cur.rowcount == 1

    def unsettled_documents(self) -> list[Document]:
        """Queued and processing documents of every workspace, oldest change first: what the
        local stuck-document sweep looks at (the AWS table has no cross-workspace read)."""
        rows = self._exec(
            "SELECT * FROM documents WHERE status IN ('queued', 'processing') "
            "ORDER BY updated_at"
        ).fetchall()
        return [self._document(r) for r in rows]

    def delete_document(self, workspace_id: str, document_id: str) -> bool:
        cur = self._exec(
            "DELETE FROM documents WHERE workspace_id=? AND document_id=?",
            (workspace_id, document_id),
        )
        return cur.rowcount == 1

    # notices
    def put_notice(self, notice: Notice) -> None:
        self._exec(
            "INSERT OR REPLACE INTO notices VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                notice.workspace_id, notice.notice_id, notice.title, notice.body, notice.author,
                int(notice.pinned), _ts(notice.expires_at), _ts(notice.created_at),
                _ts(notice.updated_at), _ts(notice.pinned_at),
            ),
        )

    @staticmethod
    def _notice(row: sqlite3.Row) -> Notice:
        return Notice(
            workspace_id=row["workspace_id"], notice_id=row["notice_id"], title=row["title"],
            body=row["body"], author=row["author"], pinned=bool(row["pinned"]),
            expires_at=_dt(row["expires_at"]), created_at=_dt(row["created_at"]),
            updated_at=_dt(row["updated_at"]), pinned_at=_dt(row["pinned_at"]),
        )

    def get_notice(self, workspace_id: str, notice_id: str) -> Notice | None:
        row = self._exec(
            "SELECT * FROM notices WHERE workspace_id=? AND notice_id=?", (workspace_id, notice_id)
        ).fetchone()
        return self._notice(row) if row else None

    def list_notices(self, workspace_id: str, *, bodies: bool = True) -> list[Notice]:
        # Local rows are read from a file on this machine: always whole.
        rows = self._exec(
            "SELECT * FROM notices WHERE workspace_id=? ORDER BY pinned DESC, created_at DESC",
            (workspace_id,),
        ).fetchall()
        return [self._notice(r) for r in rows]

    def delete_notice(self, workspace_id: str, notice_id: str) -> bool:
        cur = self._exec(
            "DELETE FROM notices WHERE workspace_id=? AND notice_id=?", (workspace_id, notice_id)
        )
        return cur.rowcount == 1

    # conversations
    def put_conversation(self, conversation: Conversation) -> None:
        c = conversation
        self._exec(
            "INSERT OR REPLACE INTO conversations VALUES (?,?,?,?,?,?)",
            (c.workspace_id, c.conversation_id, c.user_id, c.title, _ts(c.created_at),
             _ts(c.updated_at)),
        )

    def get_conversation(self, workspace_id: str, conversation_id: str) -> Conversation | None:
        row = self._exec(
            "SELECT * FROM conversations WHERE workspace_id=? AND conversation_id=?",
            (workspace_id, conversation_id),
        ).fetchone()
        if not row:
            return None
        turns = [
            ConversationTurn(
                role=t["role"], content=t["content"],
                citations=[Citation(**c) for c in json.loads(t["citations"])],
                created_at=_dt(t["created_at"]),
            )
            for t in self._exec(
                "SELECT * FROM turns WHERE workspace_id=? AND conversation_id=? ORDER BY seq",
                (workspace_id, conversation_id),
            ).fetchall()
        ]
        return Conversation(
            workspace_id=row["workspace_id"], conversation_id=row["conversation_id"],
            user_id=row["user_id"], title=row["title"], turns=turns,
            created_at=_dt(row["created_at"]), updated_at=_dt(row["updated_at"]),
        )

    def append_turns(self, workspace_id, conversation_id, turns) -> None:
        with self._lock:
            start = self._exec(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM turns "
                "WHERE workspace_id=? AND conversation_id=?",
                (workspace_id, conversation_id),
            ).fetchone()[0]
            for offset, turn in enumerate(turns):
                self._exec(
                    "INSERT INTO turns VALUES (?,?,?,?,?,?,?)",
                    (workspace_id, conversation_id, start + offset, turn.role, turn.content,
                     json.dumps([c.__dict__ for c in turn.citations]), _ts(turn.created_at)),
                )
            self._exec(
                "UPDATE conversations SET updated_at=? WHERE workspace_id=? AND conversation_id=?",
                (_ts(utcnow()), workspace_id, conversation_id),
            )
