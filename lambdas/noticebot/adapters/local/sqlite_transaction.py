"""One write transaction on a shared SQLite connection."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def immediate_transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[None]:
    """BEGIN IMMEDIATE takes the database's write lock up front, so a read-then-write (the
    last editor's count, a one-time code) cannot interleave with another process's; the
    thread lock keeps this process's threads off the shared connection meanwhile."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
