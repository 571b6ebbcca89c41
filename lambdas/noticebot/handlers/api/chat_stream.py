"""Streamed chat answers for a transport that sends a response in pieces: the local gateway,
or a Lambda response-streaming runtime behind API Gateway (``responseTransferMode: STREAM``).

The contract:

- ``wants_stream(event)``: whether an API Gateway REST proxy event is a chat request that asks
  for Server-Sent Events (``POST /api/chat`` with ``"stream": true`` in its JSON body, or an
  ``Accept`` header naming ``text/event-stream``). Every other event goes to the API handler.
- ``respond(event, container)``: the ``StreamedResponse`` to it. The request is resolved by
  the API's own resolver, so the caller, the body and every error are checked and answered
  exactly as the blocking route does (``routers.chat``): an error before the first event is a
  JSON response with its status and the one error shape. Otherwise the status is 200, the
  headers say ``text/event-stream``, and ``body`` yields one SSE event per chunk as the model
  writes.
- ``body`` must be closed (``body.close()``) when the reader goes away early: that stops the
  model and records nothing. Each chunk is pulled with a blocking ``next()``; pull them off an
  event loop's thread.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from noticebot.handlers.api import sse
from noticebot.handlers.api.app import app
from noticebot.handlers.api.request_container import CONTAINER
from noticebot.handlers.api.routers.chat import STREAM_SINK

CHAT_PATH = re.compile(r"/api/chat/*")  # as the resolver matches the route
# An event stream is read as it comes: no cache, and no proxy (nginx) holding it back.
STREAM_HEADERS = {"Content-Type": sse.CONTENT_TYPE, "Cache-Control": "no-cache",
                  "X-Accel-Buffering": "no"}


@dataclass
class StreamedResponse:
    status: int
    headers: dict[str, str]
    body: Iterator[bytes]


def _header(event: dict, name: str) -> str | None:
    for key in ("headers", "multiValueHeaders"):
        for k, v in (event.get(key) or {}).items():
            if k.lower() == name:
                return ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    return None


def _json_body(event: dict):
    body = event.get("body")
    if not body:
        return None
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body
        return json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        return None  # the route answers a body it cannot read; this only asks what it wants


def wants_stream(event: dict) -> bool:
    if str(event.get("httpMethod") or "").upper() != "POST":
        return False
    if not CHAT_PATH.fullmatch(str(event.get("path") or "")):
        return False
    if sse.accepts_event_stream(_header(event, "accept")):
        return True
    body = _json_body(event)
    return isinstance(body, dict) and body.get("stream") is True


def _response_headers(result: dict) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(k)] = ", ".join(map(str, values))
    return headers


def _response_body(result: dict) -> bytes:
    body = result.get("body") or ""
    return base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")


def _once(payload: bytes) -> Iterator[bytes]:
    if payload:
        yield payload


def respond(event: dict, container, context=None) -> StreamedResponse:
    opened: list = []
    result = app.resolve(event, context,
                         request_context={CONTAINER: container, STREAM_SINK: opened})
    status = int(result.get("statusCode", 500))
    headers = _response_headers(result)
    if opened and status == 200:
        for name in [k for k in headers if k.lower() in ("content-type", "content-length")]:
            del headers[name]
        return StreamedResponse(200, {**headers, **STREAM_HEADERS}, opened[0])
    for body in opened:  # opened, then answered otherwise: the turn must not run on
        body.close()
    return StreamedResponse(status, headers, _once(_response_body(result)))
