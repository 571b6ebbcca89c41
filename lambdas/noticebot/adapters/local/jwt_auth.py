"""Locally signed JWTs carrying the claims Cognito puts in an ID token.

In AWS the API Gateway Cognito authorizer verifies the token and hands the
handler its claims; locally the dev server does the same with this verifier.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from noticebot.domain.errors import Unauthorized

ISSUER = "noticebot-local"
EDITORS_GROUP = "editors"


class LocalJwtAuthority:
    def __init__(self, secret_file: Path):
        self.secret_file = Path(secret_file)

    def _secret(self) -> bytes:
        # Generated once per data folder and never logged; 0600 like any key file.
        if not self.secret_file.exists():
            self.secret_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return self.secret_file.read_text().strip().encode()

    def issue(self, user: str, workspace: str | None = None, editor: bool = False,
              ttl_seconds: int = 12 * 3600) -> str:
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
        return jwt.encode(claims, self._secret(), algorithm="HS256")

    def verify(self, token: str) -> dict:
        import jwt

        try:
            return jwt.decode(
                token, self._secret(), algorithms=["HS256"], issuer=ISSUER,
                options={"require": ["sub", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
