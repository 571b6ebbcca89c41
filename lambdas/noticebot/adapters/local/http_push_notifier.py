"""The Notifier over Expo's push HTTP API, standard library only (no SDK to bundle).

The request Expo documents: ``POST`` a JSON array of at most 100 messages
(``{"to", "title", "body", "data", "sound"}``) with ``Accept: application/json``,
``Accept-Encoding: gzip, deflate``, ``Content-Type: application/json`` and, where the Expo
project enforces push security, ``Authorization: Bearer <access token>``. The answer is
``{"data": [ticket, ...]}``, one ticket per message in order: ``{"status": "ok", "id"}`` or
``{"status": "error", "message", "details": {"error": "DeviceNotRegistered" | ...}}``.
Network errors, 429 and 5xx are ``PushServiceUnavailable`` (retry later, with backoff);
other 4xx are ``PushRequestRefused``. Receipts: ``POST`` ``{"ids": [...]}`` (at most 1,000) to
``getReceipts`` beside the send URL, answered ``{"data": {id: receipt}}`` with receipts shaped as
tickets; ids without a receipt yet are absent.

The local outbox posts through it when a URL is configured; on AWS ``expo_push_notifier``
gives it the access token from Secrets Manager.
"""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Sequence

from noticebot.domain.notifications import (
    MAX_PUSH_BATCH,
    MAX_RECEIPT_BATCH,
    PushMessage,
    PushRequestRefused,
    PushServiceUnavailable,
    PushTicket,
)
from noticebot.ports.notifier import Notifier

EXPO_PUSH_URL = "https://exp.host/--/api/v2/push/send"


def receipts_url(send_url: str) -> str:
    """Expo's getReceipts endpoint sits beside its send endpoint."""
    base, _, _ = send_url.rpartition("/send")
    return f"{base}/getReceipts" if base else send_url.rstrip("/") + "/getReceipts"


def _decoded(raw: bytes, encoding: str) -> bytes:
    encoding = (encoding or "").strip().lower()
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        try:
            return zlib.decompress(raw)
        except zlib.error:  # raw deflate, without the zlib header
            return zlib.decompress(raw, -zlib.MAX_WBITS)
    return raw


def ticket_of(raw) -> PushTicket:
    if not isinstance(raw, dict):
        return PushTicket(status="error", message="the push service sent no ticket")
    details = raw.get("details") if isinstance(raw.get("details"), dict) else {}
    return PushTicket(status=str(raw.get("status", "error")), id=raw.get("id"),
                      message=str(raw.get("message", "")), error=str(details.get("error", "")))


class HttpPushNotifier(Notifier):
    has_receipts = True

    def __init__(self, url: str = EXPO_PUSH_URL, *,
                 access_token: Callable[[], str | None] | None = None, timeout_s: float = 10.0):
        """``access_token``: called for each request (the provider caches); None or a
        callable returning None sends no Authorization header."""
        self.url = url
        self.access_token = access_token
        self.timeout_s = timeout_s

    def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        tickets: list[PushTicket] = []
        for start in range(0, len(messages), MAX_PUSH_BATCH):
            tickets.extend(self._post(messages[start:start + MAX_PUSH_BATCH]))
        return tickets

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate",
                   "Content-Type": "application/json"}
        token = self.access_token() if self.access_token else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushTicket]:
        found: dict[str, PushTicket] = {}
        for start in range(0, len(ticket_ids), MAX_RECEIPT_BATCH):
            ids = list(ticket_ids[start:start + MAX_RECEIPT_BATCH])
            data = self._request(receipts_url(self.url), {"ids": ids})
            if not isinstance(data, dict):
                raise PushServiceUnavailable("the push service's answer was not receipts")
            found.update({i: ticket_of(data[i]) for i in ids if i in data})
        return found

    def _post(self, batch: Sequence[PushMessage]) -> list[PushTicket]:
        data = self._request(self.url, [m.wire() for m in batch])
        if not isinstance(data, list) or len(data) != len(batch):
            raise PushServiceUnavailable(
                f"the push service answered {len(data) if isinstance(data, list) else 'no'} "
                f"tickets for {len(batch)} messages")
        return [ticket_of(t) for t in data]

    def _request(self, url: str, payload) -> object:
        """The answer's ``data``."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers=self._headers())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = _decoded(response.read(), response.headers.get("Content-Encoding", ""))
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise PushServiceUnavailable(f"push service answered {exc.code}") from None
            raise PushRequestRefused(f"push service answered {exc.code}: "
                                     f"{exc.read()[:300]!r}") from None
        except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
            raise PushServiceUnavailable(f"push service unreachable: {exc}") from None
        try:
            return json.loads(raw)["data"]
        except (ValueError, KeyError, TypeError):
            raise PushServiceUnavailable("the push service's answer had no data") from None
