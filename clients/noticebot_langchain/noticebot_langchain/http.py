"""A small JSON client for the noticebot HTTP API, with a pluggable transport.

Why the standard library (urllib) and not requests/httpx: a notebook environment
already has some version of those, and this package should not fight it; the API is
a handful of JSON POSTs. The transport is one function so tests (and other stacks)
can replace it: ``transport(method, url, headers, body, timeout) -> (status, headers, body)``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Transport = Callable[[str, str, dict, "bytes | None", float], "tuple[int, dict, bytes]"]


def urllib_transport(method: str, url: str, headers: dict, body: bytes | None,
                     timeout: float) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:  # 4xx / 5xx still carry the API's error body
        return exc.code, dict(exc.headers or {}), exc.read()


class NoticebotAPIError(RuntimeError):
    """The API's error shape ``{error: {code, message}}``, with the HTTP status."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class NoticebotClient:
    def __init__(self, base_url: str, token: str | Callable[[], str] | None = None, *,
                 transport: Transport | None = None, timeout: float = 30.0,
                 auth_scheme: str = "Bearer"):
        """``token``: the Cognito ID token, or a function returning a fresh one (tokens
        expire after an hour). ``auth_scheme`` "" sends the bare token."""
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.transport = transport or urllib_transport
        self.timeout = timeout
        self.auth_scheme = auth_scheme

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = self._token() if callable(self._token) else self._token
        if token:
            headers["Authorization"] = f"{self.auth_scheme} {token}".strip()
        return headers

    def request(self, method: str, path: str, payload: dict | None = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        status, _, raw = self.transport(method, self.base_url + path, self._headers(), body,
                                        self.timeout)
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        if not 200 <= status < 300:
            error = (data or {}).get("error") if isinstance(data, dict) else None
            error = error or {"code": "http_error", "message": raw[:200].decode("utf-8", "replace")}
            raise NoticebotAPIError(status, error.get("code", "error"), error.get("message", ""))
        return data

    def post(self, path: str, payload: dict) -> Any:
        return self.request("POST", path, payload)

    def get(self, path: str) -> Any:
        return self.request("GET", path)
