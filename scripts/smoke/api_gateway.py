"""API Gateway's part in the dry run: the REST API with its Cognito authorizer, on 127.0.0.1.

The HTTP side is the product's local gateway (``entrypoints.gateway.LocalApiGateway``: the
same REST proxy events, size limits and error shape) served by uvicorn; what differs from
``make run`` is who verifies the token and which function answers:

- ``CognitoAuthorizer`` checks an ID token as a REST API's Cognito user pool authorizer does:
  RS256 signature by a key of the pool's JWKS (fetched from the pool's
  ``/.well-known/jwks.json``, moto's server serves it), issuer = the pool, ``token_use`` =
  ``id``, not expired. It passes the claims on as such an authorizer does, every value a
  string (``iat``/``exp`` as "Wed Nov 25 12:00:00 UTC 2026"). The audience (app client) is
  not checked: a REST API's Cognito authorizer accepts ID tokens of any client of its pool.
- ``FunctionRoutes`` sends ``POST /api/chat`` to the chat function and every other route to
  the API function, as the REST API's integrations do.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from noticebot.domain.errors import Unauthorized
from noticebot.handlers.api.identity import AUTHORIZER_TIME

CHAT_ROUTE = ("POST", "/api/chat")


class CognitoAuthorizer:
    def __init__(self, issuer: str, jwks_url: str, clock=time.time):
        self.issuer, self.jwks_url, self.clock = issuer, jwks_url, clock
        self._keys: dict[str, object] | None = None

    def keys(self) -> dict[str, object]:
        if self._keys is None:
            import jwt
            import requests

            document = requests.get(self.jwks_url, timeout=10).json()
            self._keys = {k["kid"]: jwt.PyJWK(k).key for k in document["keys"]}
        return self._keys

    def verify(self, token: str) -> dict:
        import jwt

        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys().get(kid)
            if key is None:
                raise Unauthorized("the token is not signed by a key of this user pool")
            claims = jwt.decode(token, key, algorithms=["RS256"], issuer=self.issuer,
                                options={"verify_aud": False,
                                         "require": ["exp", "iat", "iss", "sub", "token_use"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token is not valid: {exc}") from None
        if claims.get("token_use") != "id":
            raise Unauthorized("the authorizer takes ID tokens")
        return authorizer_claims(claims)


def authorizer_claims(claims: dict) -> dict[str, str]:
    """A decoded token's claims as a REST API's Cognito authorizer hands them on."""
    out = {}
    for name, value in claims.items():
        if name in ("iat", "exp", "auth_time"):
            value = datetime.fromtimestamp(int(value), timezone.utc).strftime(AUTHORIZER_TIME)
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        out[name] = str(value)
    return out


class FunctionRoutes:
    """The REST API's integrations: ``(event, context)`` to the function that serves it."""

    def __init__(self, api_handler, chat_handler):
        self.api_handler, self.chat_handler = api_handler, chat_handler

    def __call__(self, event: dict, context=None) -> dict:
        if (event.get("httpMethod"), event.get("path")) == CHAT_ROUTE:
            return self.chat_handler(event, context)
        return self.api_handler(event, context)
