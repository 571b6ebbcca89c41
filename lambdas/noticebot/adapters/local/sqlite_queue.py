"""A durable message queue on SQLite with SQS semantics: the local stand-in for SQS.

- A received message is hidden for its visibility timeout and leaves the queue only when it
  is deleted with the receipt handle of its current receive (the consumer acknowledged it).
  A receipt from an earlier receive is stale: it can neither delete nor release the message.
- Every receive counts; a message received ``max_receives`` times without being deleted is
  moved to the dead-letter table (kept there, inspectable) instead of being delivered again.
- Each receive records its receiver: host, pid, process start time and a token per queue
  object. A message held by a receiver process that is no longer alive (killed, crashed)
  becomes visible at once, on the next receive of any process; others wait out their
  visibility timeout. So a restart resumes what was queued and what was in flight.
- It lives in one file (WAL, busy timeout), so threads and processes on the same data folder
  (a server and the CLI) share it: a receive is one write transaction (BEGIN IMMEDIATE), and
  two receivers never get the same message.

Why not litequeue (PyPI): it has ready / locked / done states but no visibility timeout, no
receive count, no dead letters and no notion of a dead receiver, which are the point here.
Times are epoch seconds from ``clock``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from noticebot.adapters.local.process_liveness import ProcessIdentity, current_process, is_alive

# Each entry moves the schema one version forward; never edit a released entry.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL UNIQUE, queue TEXT NOT NULL, body TEXT NOT NULL,
        sent_at REAL NOT NULL, visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0, first_received_at REAL,
        receipt_handle TEXT UNIQUE,
        holder_host TEXT, holder_pid INTEGER, holder_started TEXT, holder_token TEXT
    );
    CREATE INDEX messages_by_visibility ON messages (queue, visible_at);
    CREATE TABLE dead_letters (
        message_id TEXT PRIMARY KEY, queue TEXT NOT NULL, body TEXT NOT NULL,
        sent_at REAL NOT NULL, receive_count INTEGER NOT NULL, first_received_at REAL,
        dead_at REAL NOT NULL, reason TEXT NOT NULL
    );
    CREATE INDEX dead_letters_by_queue ON dead_letters (queue, dead_at);
    """,
]


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str  # stable across receives
    receipt_handle: str  # this receive's: deletes or releases the message
    body: str
    receive_count: int  # this receive included
    sent_at: float
    first_received_at: float


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    receive_count: int
    sent_at: float
    dead_at: float
    reason: str


@dataclass(frozen=True)
class QueueDepth:
    visible: int  # waiting to be received
    in_flight: int  # received, not yet deleted, still hidden
    dead: int


class SqliteQueue:
    def __init__(self, path: Path | str, *, name: str = "noticebot-ingest",
                 visibility_timeout_s: float = 1800.0, max_receives: int = 3,
                 clock: Callable[[], float] = time.time,
                 receiver: ProcessIdentity | None = None):
        """``receiver``: who this queue object receives as (default: this process)."""
        if max_receives < 1:
            raise ValueError("max_receives must be at least 1")
        self.path = str(path)
        self.name = name
        self.visibility_timeout_s = visibility_timeout_s
        self.max_receives = max_receives
        self._clock = clock
        self.receiver = receiver or current_process()
        self._token = uuid.uuid4().hex
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                current = self._db.execute("PRAGMA user_version").fetchone()[0]
                for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                    for statement in filter(str.strip, script.split(";")):
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={version}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _write(self, work: Callable[[sqlite3.Connection, float], object]):
        """Runs ``work(db, now)`` in one write transaction, serialised with every thread of
        this object and (through SQLite's write lock) every other process."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db, self._clock())
                self._db.execute("COMMIT")
                return result
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ producer
    def send(self, body: str, *, delay_s: float = 0.0) -> str:
        message_id = str(uuid.uuid4())

        def insert(db, now):
            db.execute(
                "INSERT INTO messages (message_id, queue, body, sent_at, visible_at) "
                "VALUES (?, ?, ?, ?, ?)", (message_id, self.name, body, now, now + delay_s))

        self._write(insert)
        return message_id

    # ------------------------------------------------------------------ consumer
    def receive(self, max_messages: int = 1,
                visibility_timeout_s: float | None = None) -> list[ReceivedMessage]:
        """Up to ``max_messages`` visible messages, oldest first, each hidden for the
        visibility timeout and counted as received once more."""
        hide_for = (self.visibility_timeout_s if visibility_timeout_s is None
                    else visibility_timeout_s)

        def take(db, now):
            self._release_dead_holders(db, now)
            self._dead_letter_exhausted(db, now)
            rows = db.execute(
                "SELECT * FROM messages WHERE queue=? AND visible_at<=? ORDER BY seq LIMIT ?",
                (self.name, now, max_messages)).fetchall()
            taken = []
            for row in rows:
                receipt = uuid.uuid4().hex
                first = row["first_received_at"] or now
                db.execute(
                    "UPDATE messages SET receive_count=receive_count+1, visible_at=?, "
                    "first_received_at=?, receipt_handle=?, holder_host=?, holder_pid=?, "
                    "holder_started=?, holder_token=? WHERE seq=?",
                    (now + hide_for, first, receipt, self.receiver.host, self.receiver.pid,
                     self.receiver.started, self._token, row["seq"]))
                taken.append(ReceivedMessage(
                    message_id=row["message_id"], receipt_handle=receipt, body=row["body"],
                    receive_count=row["receive_count"] + 1, sent_at=row["sent_at"],
                    first_received_at=first))
            return taken

        return self._write(take)

    def delete(self, receipt_handle: str) -> bool:
        """The consumer's acknowledgement. False when the receipt is stale (the message was
        received again since, or is gone)."""
        def remove(db, now):
            return db.execute("DELETE FROM messages WHERE queue=? AND receipt_handle=?",
                              (self.name, receipt_handle)).rowcount == 1

        return self._write(remove)

    def release(self, receipt_handle: str, *, delay_s: float = 0.0) -> bool:
        """Hands a message back after a failed delivery: it is received again after
        ``delay_s``, or, its receives used up, moved to the dead letters now (SQS moves it on
        the next receive; nothing is gained by waiting). False when the receipt is stale."""
        def hand_back(db, now):
            row = db.execute("SELECT * FROM messages WHERE queue=? AND receipt_handle=?",
                             (self.name, receipt_handle)).fetchone()
            if row is None:
                return False
            if row["receive_count"] >= self.max_receives:
                self._move_to_dead_letters(db, row, now)
            else:
                db.execute(
                    "UPDATE messages SET visible_at=?, receipt_handle=NULL, holder_host=NULL, "
                    "holder_pid=NULL, holder_started=NULL, holder_token=NULL WHERE seq=?",
                    (now + delay_s, row["seq"]))
            return True

        return self._write(hand_back)

    # ------------------------------------------------------------------ inspection
    def pending_bodies(self) -> list[str]:
        """Bodies of every message still in the queue, waiting or in flight (not the dead
        letters): what will be delivered, or is being."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM messages WHERE queue=? ORDER BY seq",
                                    (self.name,)).fetchall()
        return [r["body"] for r in rows]

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM dead_letters WHERE queue=? ORDER BY dead_at, message_id",
                (self.name,)).fetchall()
        return [DeadLetter(message_id=r["message_id"], body=r["body"],
                           receive_count=r["receive_count"], sent_at=r["sent_at"],
                           dead_at=r["dead_at"], reason=r["reason"]) for r in rows]

    def depth(self) -> QueueDepth:
        now = self._clock()
        with self._lock:
            visible, in_flight = self._db.execute(
                "SELECT COALESCE(SUM(visible_at<=?), 0), COALESCE(SUM(visible_at>?), 0) "
                "FROM messages WHERE queue=?", (now, now, self.name)).fetchone()
            dead = self._db.execute("SELECT COUNT(*) FROM dead_letters WHERE queue=?",
                                    (self.name,)).fetchone()[0]
        return QueueDepth(visible=visible, in_flight=in_flight, dead=dead)

    # ------------------------------------------------------------------ internals
    def _release_dead_holders(self, db: sqlite3.Connection, now: float) -> None:
        """Makes the hidden messages of receivers that are no longer alive visible now."""
        holders = db.execute(
            "SELECT DISTINCT holder_host, holder_pid, holder_started FROM messages "
            "WHERE queue=? AND visible_at>? AND holder_pid IS NOT NULL",
            (self.name, now)).fetchall()
        for host, pid, started in holders:
            if is_alive(ProcessIdentity(host=host, pid=pid, started=started or "")):
                continue
            db.execute(
                "UPDATE messages SET visible_at=?, receipt_handle=NULL, holder_host=NULL, "
                "holder_pid=NULL, holder_started=NULL, holder_token=NULL WHERE queue=? AND "
                "visible_at>? AND holder_host=? AND holder_pid=? AND holder_started IS ?",
                (now, self.name, now, host, pid, started))

    def _dead_letter_exhausted(self, db: sqlite3.Connection, now: float) -> None:
        """Visible again after ``max_receives`` receives: what SQS's redrive policy moves."""
        for row in db.execute(
                "SELECT * FROM messages WHERE queue=? AND visible_at<=? AND receive_count>=?",
                (self.name, now, self.max_receives)).fetchall():
            self._move_to_dead_letters(db, row, now)

    def _move_to_dead_letters(self, db: sqlite3.Connection, row: sqlite3.Row,
                              now: float) -> None:
        db.execute(
            "INSERT OR REPLACE INTO dead_letters (message_id, queue, body, sent_at, "
            "receive_count, first_received_at, dead_at, reason) VALUES (?,?,?,?,?,?,?,?)",
            (row["message_id"], self.name, row["body"], row["sent_at"], row["receive_count"],
             row["first_received_at"], now,
             f"received {row['receive_count']} times without being deleted "
             f"(max receives {self.max_receives})"))
        db.execute("DELETE FROM messages WHERE seq=?", (row["seq"],))
