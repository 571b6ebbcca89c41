"""API Gateway's part, locally: an ASGI application in front of the API Lambda handler.

For each HTTP request it does what the REST API and its Cognito authorizer do in AWS: refuse
what API Gateway would refuse (an oversized body, a method the API does not serve), verify
the bearer token, build the REST proxy event and call the same handler, then write the
handler's response back. Every refusal has the API's one JSON error shape.

The handler is synchronous and may be slow (a chat runs the language model), so it runs on
a pool of threads: a slow request never holds up the others. The API resolver keeps each
request's state to that request (``handlers.api.resolver``), which is what makes this safe.

A chat request that asks for Server-Sent Events (``chat_stream.wants_stream``) goes to the
stream handler instead, as API Gateway's response streaming sends it to a streaming Lambda:
its body is sent chunk by chunk as the model writes, each chunk pulled on the pool. When the
client goes away the body is closed, which stops the model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from noticebot.domain.errors import NoticebotError, error_body
from noticebot.entrypoints.apigw_events import build_event, response_parts
# The paths a caller reaches without a token (the API's own list): health, the OpenAPI
# document, and the two a caller signs in through.
from noticebot.handlers.api.app import PUBLIC_PATHS
from noticebot.handlers.api.chat_stream import StreamedResponse, wants_stream

logger = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload cap
# Any other method (TRACE, CONNECT, WebDAV's, QUERY...) is a 405 naming these.
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
ALLOW = ", ".join(API_METHODS)

LambdaHandler = Callable[[dict, object], dict]
StreamHandler = Callable[[dict], StreamedResponse]


class LocalApiGateway:
    def __init__(self, auth, api_handler: LambdaHandler, *,
                 stream_handler: StreamHandler | None = None, max_body: int = MAX_BODY,
                 max_workers: int = 32):
        """``stream_handler``: answers the requests that ask for a streamed chat; without one
        the API handler answers them too, all at once."""
        self.auth = auth
        self.api_handler = api_handler
        self.stream_handler = stream_handler
        self.max_body = max_body
        self.drain_limit = 4 * max_body
        self.pool = ThreadPoolExecutor(max_workers, thread_name_prefix="api")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # no websockets; lifespan is off
            return
        started = time.perf_counter()
        status = await self._serve(scope, receive, send)
        logger.info("%s %s %s %.0fms", scope["method"], scope["path"], status,
                    (time.perf_counter() - started) * 1000)

    async def _serve(self, scope, receive, send) -> int | None:
        method = scope["method"].upper()
        head = method == "HEAD"
        if method not in API_METHODS:
            return await _send_error(send, 405, "method_not_allowed",
                                     f"this API does not serve {method}",
                                     extra_headers=[(b"allow", ALLOW.encode())])
        headers = _headers(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.drain_limit:
            return await _send_error(send, 413, "payload_too_large",
                                     _too_large(self.max_body), close=True)
        body = await _read_body(receive, self.max_body, self.drain_limit)
        if body is None:
            return None  # the client went away
        if body is _TOO_LARGE:
            return await _send_error(send, 413, "payload_too_large",
                                     _too_large(self.max_body), close=True)

        path = scope["path"]
        claims = None
        if path not in PUBLIC_PATHS and method != "OPTIONS":
            auth = headers.get("authorization", "")
            if not auth.lower().startswith("bearer "):
                return await _send_error(send, 401, "unauthorized",
                                         "send 'Authorization: Bearer <token>'", head=head)
            try:
                claims = self.auth.verify(auth[7:].strip())
            except NoticebotError as exc:
                return await _send_error(send, 401, "unauthorized", exc.message, head=head)

        query = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client") or ("127.0.0.1", 0)
        # API Gateway answers HEAD from the GET route; the body is dropped on the way out.
        event = build_event("GET" if head else method, path, query, headers, body, claims,
                            client[0])
        if self.stream_handler is not None and wants_stream(event):
            return await self._stream(event, receive, send)
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.pool, self.api_handler, event, None)
            status, out_headers, payload = response_parts(result)
        except Exception:  # the handler maps its own errors; this is a bug, logged here
            logger.exception("the API handler raised")
            return await _send_error(send, 500, "internal_error",
                                     "something went wrong on our side; try again", head=head)
        await _send(send, status, _header_list(out_headers), payload, head=head)
        return status

    async def _stream(self, event: dict, receive, send) -> int:
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self.pool, self.stream_handler, event)
        except Exception:  # the handler maps its own errors; this is a bug, logged here
            logger.exception("the stream handler raised")
            return await _send_error(send, 500, "internal_error",
                                     "something went wrong on our side; try again")
        if response.status != 200:
            # An error answered before the stream began: one JSON body, sent as any other.
            payload = await loop.run_in_executor(self.pool, b"".join, response.body)
            await _send(send, response.status,
                        _header_list({k: [v] for k, v in response.headers.items()}), payload)
            return response.status
        gone = asyncio.ensure_future(_disconnected(receive))
        pulling: asyncio.Future | None = None
        try:
            await send({"type": "http.response.start", "status": response.status,
                        "headers": _header_list({k: [v] for k, v in response.headers.items()})})
            while True:
                pulling = loop.run_in_executor(self.pool, next, response.body, _END)
                await asyncio.wait({pulling, gone}, return_when=asyncio.FIRST_COMPLETED)
                if not pulling.done():
                    break  # the client left while the model works on the next piece
                chunk = pulling.result()
                if chunk is _END:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if gone.done():
                    break
        except OSError:
            pass  # the client left; a server may say so by failing the send
        except Exception:  # the body frames its own errors; this is a bug, logged here
            logger.exception("a streamed response failed")
        finally:
            gone.cancel()
            # A generator cannot be closed while a pull runs it: the pull in flight ends
            # first (at the model's next piece), then closing stops the model.
            if pulling is not None and not pulling.done():
                await asyncio.wait({pulling})
            await loop.run_in_executor(self.pool, _close, response.body)
        return response.status

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


_END = object()


def _close(body) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            logger.exception("closing a streamed response failed")


async def _disconnected(receive) -> None:
    """Returns when the client has gone (the request body was already read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


_TOO_LARGE = object()


async def _read_body(receive, limit: int, drain_limit: int):
    """The whole request body; ``_TOO_LARGE`` past ``limit`` (chunked bodies declare no
    length up front); None when the client disconnected. An oversized body is still read
    and dropped up to ``drain_limit``: closing on a client that is still sending resets the
    connection, and the client would lose the 413."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            parts.append(chunk)
        elif size > drain_limit:
            return _TOO_LARGE
        if not message.get("more_body", False):
            return b"".join(parts) if size <= limit else _TOO_LARGE


def _headers(scope) -> dict[str, str]:
    """Request headers by lower-case name; repeated headers joined as HTTP allows."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _header_list(headers: dict[str, list[str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, values in headers.items()
            if k.lower() not in ("content-length", "connection", "transfer-encoding")
            for v in values]


def _too_large(limit: int) -> str:
    return f"request body is larger than {limit // (1024 * 1024)} MB"


async def _send(send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, *,
                head: bool = False, close: bool = False) -> None:
    headers = headers + [(b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def _send_error(send, status: int, code: str, message: str, *, head: bool = False,
                      close: bool = False, extra_headers=()) -> int:
    body = json.dumps(error_body(code, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"access-control-allow-origin", b"*"),
               *extra_headers]
    await _send(send, status, headers, body, head=head, close=close)
    return status
