"""Local password accounts: the identity provider of the embedded mode, in place of Cognito.

One SQLite file in the data folder (``accounts.sqlite3``), apart from the product's metadata as
Cognito's user pool is apart from DynamoDB. What it keeps and why:

- An invitation creates an ``invited`` account with a one-time code: 32 random bytes, shown
  once to the inviting editor as a link to pass on. Only its SHA-256 is stored: the code is
  a random secret, not a password, so a fast hash is enough and lets the code be found by its
  hash.
- Accepting sets the password, hashed with Argon2id (argon2-cffi's defaults, RFC 9106's
  low-memory profile); the password itself is never stored or logged. A hash made with
  older parameters is rehashed at the next sign-in.
- Sign-in failures are throttled per account and per client address. The
  ``ACCOUNT_LIMIT``-th failure locks the account for ``ACCOUNT_LOCK_S``, and each further one
  for twice as long as the last (at most ``MAX_LOCK_S``); an address is locked the same way
  from its ``CLIENT_LIMIT``-th failure over all accounts. Invitation codes are not throttled:
  32 random bytes cannot be guessed, and a wrong one costs one indexed lookup. A locked attempt is refused (429 with
  Retry-After) before the password is checked, and an unknown address costs as much as a
  known one (a hash is verified either way), so neither timing nor answers tell which
  addresses have accounts. Failures older than ``WINDOW_S`` are forgotten. A success clears
  the account's count, never the address's.
- A session token is the authority's (``LocalJwtAuthority.issue(session=True)``): the claims
  Cognito would issue, with a ``jti`` that sign-out revokes.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from noticebot.adapters.local.sqlite_transaction import immediate_transaction
from noticebot.adapters.local.jwt_auth import LocalJwtAuthority
from noticebot.domain.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from noticebot.domain.members import Role, normalize_email
from noticebot.ports.identity_directory import (
    Account,
    IdentityDirectory,
    Invitee,
    Redemption,
    Session,
)

ACCOUNT_LIMIT = 5
ACCOUNT_LOCK_S = 30
CLIENT_LIMIT = 20
CLIENT_LOCK_S = 60
MAX_LOCK_S = 15 * 60
WINDOW_S = 15 * 60
WRONG = "the e-mail address or the password is wrong"

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    user_id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, workspace_id TEXT NOT NULL,
    status TEXT NOT NULL, role TEXT NOT NULL, password_hash TEXT,
    code_hash TEXT UNIQUE, code_expires_at REAL, invitation_id TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, first_at REAL NOT NULL,
    blocked_until REAL NOT NULL
);
"""


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


def default_hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


class LocalAccounts(IdentityDirectory):
    passwords = True

    def __init__(self, path: Path | str, authority: LocalJwtAuthority, *,
                 session_ttl_s: int = 12 * 3600, hasher=None,
                 clock: Callable[[], float] = time.time):
        """``hasher``: an argon2 ``PasswordHasher`` (tests pass a cheap one)."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.authority = authority
        self.session_ttl_s = session_ttl_s
        self._hasher = hasher
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)
        self._dummy_hash: str | None = None

    @property
    def hasher(self):
        if self._hasher is None:
            self._hasher = default_hasher()
        return self._hasher

    def _transaction(self):
        return immediate_transaction(self._db, self._lock)

    def _row(self, sql: str, params: tuple) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def account_of(self, user_id: str) -> sqlite3.Row | None:
        """The stored account (tests and the CLI read it; never the password hash's input)."""
        return self._row("SELECT * FROM accounts WHERE user_id=?", (user_id,))

    # ------------------------------------------------------------ invitations
    def invite(self, workspace_id: str, email: str, role: Role, *, invitation_id: str,
               expires_at: datetime) -> Invitee:
        email = normalize_email(email)
        code = secrets.token_urlsafe(32)
        now = self._clock()
        with self._transaction():
            row = self._db.execute("SELECT * FROM accounts WHERE email=?", (email,)).fetchone()
            if row is not None and row["workspace_id"] != workspace_id:
                raise Conflict("this e-mail address already has an account in another "
                               "workspace; an account belongs to one workspace")
            if row is not None and row["status"] == "active":
                raise Conflict("this e-mail address already has an account in this workspace")
            user_id = row["user_id"] if row is not None else str(uuid.uuid4())
            # A new account, or one of this workspace's that was removed or whose invitation
            # lapsed: it is invited (again) with a new code, and cannot sign in until accepted.
            self._db.execute(
                "INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(user_id) DO "
                "UPDATE SET status='invited', role=excluded.role, code_hash=excluded.code_hash, "
                "code_expires_at=excluded.code_expires_at, "
                "invitation_id=excluded.invitation_id, updated_at=excluded.updated_at",
                (user_id, email, workspace_id, "invited", role.value, None, _code_hash(code),
                 expires_at.timestamp(), invitation_id, now, now))
        return Invitee(user_id=user_id, code=code)

    def cancel_invitation(self, user_id: str) -> None:
        with self._transaction():
            row = self._db.execute("SELECT password_hash FROM accounts WHERE user_id=? AND "
                                   "status='invited'", (user_id,)).fetchone()
            if row is None:
                return
            if row["password_hash"] is None:  # never signed in: nothing to keep
                self._db.execute("DELETE FROM accounts WHERE user_id=?", (user_id,))
            else:  # a removed member's account, invited again: back to disabled
                self._db.execute("UPDATE accounts SET status='disabled', code_hash=NULL, "
                                 "updated_at=? WHERE user_id=?", (self._clock(), user_id))

    def set_role(self, user_id: str, role: Role) -> None:
        with self._lock:
            self._db.execute("UPDATE accounts SET role=?, updated_at=? WHERE user_id=?",
                             (role.value, self._clock(), user_id))

    def disable(self, user_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE accounts SET status='disabled', code_hash=NULL, "
                             "updated_at=? WHERE user_id=?", (self._clock(), user_id))

    def sign_out(self, claims: dict) -> None:
        if not self.authority.revoke(claims):
            raise Conflict("this is a development token (`noticebot token`), which belongs "
                           "to no sign-in and cannot be signed out; it expires by itself")

    # ------------------------------------------------------------ passwords
    def redeem(self, code: str) -> Redemption:
        row = self._row("SELECT * FROM accounts WHERE code_hash=? AND status='invited'",
                        (_code_hash(code),))
        if row is None or row["code_expires_at"] <= self._clock():
            raise NotFound("no open invitation has this code: it may have been used, "
                           "revoked, or have expired")
        return Redemption(user_id=row["user_id"], email=row["email"],
                          workspace_id=row["workspace_id"], invitation_id=row["invitation_id"])

    def set_first_password(self, code: str, password: str) -> Account:
        hashed = self.hasher.hash(password)
        with self._transaction():
            row = self._db.execute("SELECT * FROM accounts WHERE code_hash=? AND "
                                   "status='invited' AND code_expires_at>?",
                                   (_code_hash(code), self._clock())).fetchone()
            if row is None:
                raise NotFound("no open invitation has this code: it may have been used, "
                               "revoked, or have expired")
            self._db.execute("UPDATE accounts SET status='active', password_hash=?, "
                             "code_hash=NULL, code_expires_at=NULL, updated_at=? "
                             "WHERE user_id=?", (hashed, self._clock(), row["user_id"]))
        return Account(user_id=row["user_id"], email=row["email"],
                       workspace_id=row["workspace_id"])

    def authenticate(self, email: str, password: str, client: str) -> Account:
        from argon2.exceptions import InvalidHashError, VerificationError

        email = normalize_email(email)
        account_key, client_key = f"account:{email}", self._client_key(client)
        self._check_throttle(account_key)
        self._check_throttle(client_key)
        row = self._row("SELECT * FROM accounts WHERE email=?", (email,))
        stored = row["password_hash"] if row is not None else None
        try:
            # An unknown address is checked against a throwaway hash: the same work, the same
            # answer.
            ok = self.hasher.verify(stored or self._dummy(), password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or stored is None or row["status"] != "active":
            self._failed(account_key, ACCOUNT_LIMIT, ACCOUNT_LOCK_S)
            self._failed(client_key, CLIENT_LIMIT, CLIENT_LOCK_S)
            raise Unauthorized(WRONG)
        self._forget(account_key)
        if self.hasher.check_needs_rehash(stored):
            with self._lock:
                self._db.execute("UPDATE accounts SET password_hash=? WHERE user_id=?",
                                 (self.hasher.hash(password), row["user_id"]))
        return Account(user_id=row["user_id"], email=row["email"],
                       workspace_id=row["workspace_id"])

    def issue_session(self, account: Account, role: Role) -> Session:
        token = self.authority.issue(account.user_id, account.workspace_id,
                                     editor=role == Role.EDITOR, ttl_seconds=self.session_ttl_s,
                                     email=account.email, session=True)
        import jwt

        expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
        return Session(token=token, expires_at=datetime.fromtimestamp(expiry, timezone.utc))

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        return self._dummy_hash

    # ------------------------------------------------------------ throttling
    @staticmethod
    def _client_key(client: str) -> str:
        return f"client:{client or 'unknown'}"

    def _check_throttle(self, key: str) -> None:
        row = self._row("SELECT blocked_until FROM failures WHERE key=?", (key,))
        wait = (row["blocked_until"] - self._clock()) if row is not None else 0
        if wait > 0:
            who = "this account" if key.startswith("account:") else "this address"
            raise TooManyRequests(f"too many failed attempts from {who}; try again in "
                                  f"{math.ceil(wait)} s", retry_after=math.ceil(wait))

    def _failed(self, key: str, limit: int, lock_s: int) -> None:
        now = self._clock()
        with self._transaction():
            row = self._db.execute("SELECT * FROM failures WHERE key=?", (key,)).fetchone()
            count, first = (row["count"], row["first_at"]) if row is not None else (0, now)
            if now - first > WINDOW_S and (row is None or row["blocked_until"] <= now):
                count, first = 0, now
            count += 1
            blocked = now + min(MAX_LOCK_S, lock_s * 2 ** (count - limit)) \
                if count >= limit else 0.0
            self._db.execute("INSERT OR REPLACE INTO failures VALUES (?,?,?,?)",
                             (key, count, first, blocked))

    def _forget(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM failures WHERE key=?", (key,))
