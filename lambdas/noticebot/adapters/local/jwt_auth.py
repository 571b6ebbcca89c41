"""Locally signed JWTs carrying the claims Cognito puts in an ID token.

In AWS the API Gateway Cognito authorizer verifies the token and hands the handler its
claims; locally the dev server does the same with this verifier.

Two kinds of token come from here:

- a session token, issued by password sign-in (``LocalAccounts``): it carries a token id
  (``jti``), ``email`` and ``auth_time`` as a Cognito ID token does, and signing out revokes
  it (``revoke``): ``verify`` refuses it from then on, until it would have expired anyway;
- a development token (``noticebot token``, the one ``make run`` prints): no ``jti``, so it
  belongs to no session and cannot be signed out; it lives until its expiry (12 hours).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
import uuid
from pathlib import Path

from noticebot.domain.errors import Unauthorized

ISSUER = "noticebot-local"
EDITORS_GROUP = "editors"


class TokenRevocations:
    """Revoked token ids, each kept until the token's own expiry (then it is refused anyway).
    SQLite, so a revocation made by one process (the server) holds for every other on the same
    data folder; one keyed read per verification."""

    def __init__(self, path: Path | str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("CREATE TABLE IF NOT EXISTS revoked_tokens ("
                         "jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)")

    def revoke(self, jti: str, expires_at: int) -> None:
        now = int(time.time())
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO revoked_tokens VALUES (?, ?)",
                             (jti, int(expires_at)))
            self._db.execute("DELETE FROM revoked_tokens WHERE expires_at < ?", (now,))

    def is_revoked(self, jti: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM revoked_tokens WHERE jti=?",
                                    (jti,)).fetchone() is not None


class LocalJwtAuthority:
    def __init__(self, secret_file: Path, revocations: TokenRevocations | None = None):
        """``revocations``: where signed-out tokens are recorded (None: none can be)."""
        self.secret_file = Path(secret_file)
        self.revocations = revocations

    def _secret(self) -> bytes:
        # Generated once per data folder and never logged; 0600 like any key file.
        if not self.secret_file.exists():
            self.secret_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return self.secret_file.read_text().strip().encode()

    def issue(self, user: str, workspace: str | None = None, editor: bool = False,
              ttl_seconds: int = 12 * 3600, *, email: str | None = None,
              session: bool = False) -> str:
        """A development token; with ``session``, a sign-in's token (a ``jti`` that
        sign-out can revoke)."""
        import jwt

        now = int(time.time())
        claims = {
            "sub": user,
            "cognito:username": user,
            "cognito:groups": [EDITORS_GROUP] if editor else [],
            "token_use": "id",
            "iss": ISSUER,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        if workspace:
            claims["custom:workspace"] = workspace
        if email:
            claims.update({"email": email, "email_verified": True})
        if session:
            claims.update({"jti": uuid.uuid4().hex, "auth_time": now})
        return jwt.encode(claims, self._secret(), algorithm="HS256")

    def verify(self, token: str) -> dict:
        import jwt

        try:
            claims = jwt.decode(
                token, self._secret(), algorithms=["HS256"], issuer=ISSUER,
                options={"require": ["sub", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        jti = claims.get("jti")
        if jti is not None and self.revocations is not None and \
                self.revocations.is_revoked(str(jti)):
            raise Unauthorized("this token was signed out; sign in again")
        return claims

    def revoke(self, claims: dict) -> bool:
        """Signs the token of ``claims`` out. False for a token with no id (a development
        token), which nothing can revoke."""
        jti = claims.get("jti")
        if not jti or self.revocations is None:
            return False
        self.revocations.revoke(str(jti), int(claims.get("exp") or time.time()))
        return True
