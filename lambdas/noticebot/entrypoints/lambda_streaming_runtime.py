"""A Lambda runtime loop that streams: API Gateway REST response streaming for a Python function.

Why a runtime of our own: API Gateway streams a Lambda proxy integration only when the function
answers through the Runtime API's streaming response mode, and the Python managed runtime
(awslambdaric) answers only buffered (a handler returns one value). The choices were:

* this loop, started by the managed python3.12 runtime through ``AWS_LAMBDA_EXEC_WRAPPER``
  (``stream_bootstrap`` next to this file, in the bundle): the runtime hands the wrapper its
  interpreter and the wrapper runs this module instead of awslambdaric. Standard library
  only; the function keeps its runtime's Python, its boto3, its bundle and its tests; nothing
  listens on a port.
* a ``provided.al2023`` custom runtime: the same loop, but that image has no Python, so the
  bundle would have to carry an interpreter and we would patch it ourselves.
* the Lambda Web Adapter layer: a Rust proxy that turns invocations into HTTP requests to a
  web server inside the function. It needs an HTTP server (uvicorn, a framework) in the
  bundle and started on every cold start, a public layer ARN pinned per region, and the API
  handler would no longer be the ``handle(event, container)`` every other path (local
  gateway, tests, the other functions) calls.

The wire protocol (Runtime API 2018-06-01):

* ``GET /runtime/invocation/next`` blocks until an invocation; headers carry the request id
  (``Lambda-Runtime-Aws-Request-Id``), the deadline (``Lambda-Runtime-Deadline-Ms``, epoch ms),
  the function ARN and the X-Ray trace header (``Lambda-Runtime-Trace-Id``), the body is the
  event JSON.
* the answer is ``POST /runtime/invocation/{id}/response`` with
  ``Lambda-Runtime-Function-Response-Mode: streaming`` and ``Transfer-Encoding: chunked``; for
  an HTTP integration the content type is ``application/vnd.awslambda.http-integration-response``
  and the body is a JSON prelude ``{statusCode, headers, cookies}``, 8 NUL bytes, then the
  response body, each chunk sent as the handler yields it.
* an error after the first byte cannot change the status any more: it goes in the trailers
  ``Lambda-Runtime-Function-Error-Type`` and ``Lambda-Runtime-Function-Error-Body`` (base64 of
  ``{errorMessage, errorType, stackTrace}``), declared up front in ``Trailer``. An error before
  any byte is ``POST /runtime/invocation/{id}/error`` (API Gateway then answers its 5XX
  gateway response, which is the product's error shape); one while loading the handler is
  ``POST /runtime/init/error`` and the process exits.

The handler (``_HANDLER``, "module.function") is called ``handler(event, context)`` and returns
either a streamed response (an object with ``status``, ``headers``, ``body`` iterating bytes and
optionally ``cookies``) or a buffered API Gateway proxy result (a dict with ``statusCode``),
which is written as one chunk. Closing the body (it is closed whatever happens) is how the
handler learns that the client went away or the stream failed.
"""

from __future__ import annotations

import base64
import http.client
import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

logger = logging.getLogger("noticebot.runtime")

API_VERSION = "2018-06-01"
HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8
RESPONSE_MODE_HEADER = "Lambda-Runtime-Function-Response-Mode"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"  # also the mid-stream trailer
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"


class RuntimeApiError(RuntimeError):
    """The Runtime API refused a request (an unknown invocation, a response too large, ...)."""


@dataclass(frozen=True)
class Invocation:
    request_id: str
    deadline_ms: int
    function_arn: str
    trace_id: str | None
    client_context: str | None
    cognito_identity: str | None
    event: bytes


class LambdaContext:
    """The attributes of the managed runtime's context object that handlers and Powertools read."""

    def __init__(self, invocation: Invocation):
        self.aws_request_id = invocation.request_id
        self.invoked_function_arn = invocation.function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.client_context = _json_or_none(invocation.client_context)
        self.identity = _json_or_none(invocation.cognito_identity)
        self._deadline_ms = invocation.deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _json_or_none(text: str | None):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def error_document(exc: BaseException) -> dict:
    return {"errorMessage": str(exc), "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__)}


# ---- responses --------------------------------------------------------------------------------
def buffered_parts(result: dict) -> tuple[dict, bytes]:
    """(prelude, body) of an API Gateway proxy result, merged the way API Gateway merges a
    buffered one: ``multiValueHeaders`` wins over ``headers`` for the same name; Set-Cookie
    values travel as ``cookies``; a base64 body is sent as its bytes (a stream is binary)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in (result.get("headers") or {}).items():
        if name.lower() == "set-cookie":
            cookies.append(str(value))
        else:
            headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if name.lower() == "set-cookie":
            cookies = [str(v) for v in values]
            continue
        for known in [k for k in headers if k.lower() == name.lower()]:
            del headers[known]
        headers[name] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return prelude(int(result.get("statusCode", 200)), headers, cookies), data


def prelude(status: int, headers: dict[str, str], cookies: Iterable[str] = ()) -> dict:
    doc = {"statusCode": int(status), "headers": {k: str(v) for k, v in headers.items()}}
    cookies = list(cookies)
    if cookies:
        doc["cookies"] = cookies
    return doc


def response_parts(result) -> tuple[dict, Iterable[bytes]]:
    """(prelude, body chunks) of what a handler returned."""
    if isinstance(result, dict):
        head, data = buffered_parts(result)
        return head, [data]
    return (prelude(result.status, result.headers, getattr(result, "cookies", None) or ()),
            result.body)


# ---- the Runtime API ----------------------------------------------------------------------------
class RuntimeApiClient:
    """One keep-alive HTTP/1.1 connection to the Runtime API, used for one request at a time."""

    def __init__(self, address: str):
        host, _, port = address.rpartition(":")
        self._conn = http.client.HTTPConnection(host, int(port))  # no timeout: /next blocks

    def close(self) -> None:
        self._conn.close()

    def _request(self, method: str, path: str, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
        try:
            self._conn.request(method, f"/{API_VERSION}{path}", body=body, headers=headers or {})
            return self._conn.getresponse()
        except (OSError, http.client.HTTPException):
            self._conn.close()  # the next request reconnects
            raise

    def next_invocation(self) -> Invocation:
        response = self._request("GET", "/runtime/invocation/next")
        event = response.read()
        if response.status != 200:
            raise RuntimeApiError(f"/next answered {response.status}: {event[:200]!r}")
        h = response.headers
        return Invocation(
            request_id=h["Lambda-Runtime-Aws-Request-Id"],
            deadline_ms=int(h.get("Lambda-Runtime-Deadline-Ms") or 0),
            function_arn=h.get("Lambda-Runtime-Invoked-Function-Arn", ""),
            trace_id=h.get("Lambda-Runtime-Trace-Id"),
            client_context=h.get("Lambda-Runtime-Client-Context"),
            cognito_identity=h.get("Lambda-Runtime-Cognito-Identity"), event=event)

    def _post_error(self, path: str, exc: BaseException, error_type: str) -> None:
        body = json.dumps(error_document(exc)).encode()
        response = self._request("POST", path, body, {
            ERROR_TYPE_HEADER: error_type, "Content-Type": "application/json"})
        response.read()
        if response.status != 202:
            raise RuntimeApiError(f"{path} answered {response.status}")

    def init_error(self, exc: BaseException, error_type: str) -> None:
        self._post_error("/runtime/init/error", exc, error_type)

    def invocation_error(self, request_id: str, exc: BaseException,
                         error_type: str = "Unhandled") -> None:
        self._post_error(f"/runtime/invocation/{request_id}/error", exc, error_type)

    def stream_response(self, request_id: str, head: dict, body: Iterable[bytes]) -> None:
        """Sends the prelude, then each chunk of ``body`` as it comes. An exception raised by
        ``body`` ends the stream with the error trailers; one raised by the connection (the
        invocation was cut off) propagates. ``body`` is closed in every case."""
        conn = self._conn
        chunks = iter(body)
        try:
            try:
                conn.putrequest("POST", f"/{API_VERSION}/runtime/invocation/{request_id}/response",
                                skip_accept_encoding=True)
                conn.putheader(RESPONSE_MODE_HEADER, "streaming")
                conn.putheader("Transfer-Encoding", "chunked")
                conn.putheader("Content-Type", HTTP_INTEGRATION_CONTENT_TYPE)
                conn.putheader("Trailer", f"{ERROR_TYPE_HEADER}, {ERROR_BODY_TRAILER}")
                conn.endheaders()
                # Tokens are small writes: without this, Nagle holds them back for an ACK.
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                _send_chunk(conn, json.dumps(head).encode() + DELIMITER)
                failure = _pump(conn, chunks)
                trailers = b""
                if failure is not None:
                    logger.error("the response stream failed after it started", exc_info=failure)
                    doc = base64.b64encode(json.dumps(error_document(failure)).encode())
                    trailers = (f"{ERROR_TYPE_HEADER}: {type(failure).__name__}\r\n".encode()
                                + f"{ERROR_BODY_TRAILER}: ".encode() + doc + b"\r\n")
                conn.send(b"0\r\n" + trailers + b"\r\n")
                response = conn.getresponse()
                answer = response.read()
            except BaseException:
                conn.close()  # an unfinished response: Lambda fails this invocation
                raise
        finally:
            _close(body, chunks)  # stops generation when the stream ends early, for any reason
        if response.status != 202:
            raise RuntimeApiError(f"the streamed response was refused ({response.status}): "
                                  f"{answer[:300]!r}")


def _as_bytes(piece) -> bytes:
    if isinstance(piece, str):
        return piece.encode("utf-8")
    if isinstance(piece, bytes | bytearray | memoryview):
        return bytes(piece)
    raise TypeError(f"a response chunk must be bytes or text, not {type(piece).__name__}")


def _close(*objects) -> None:
    seen = set()
    for obj in objects:
        close = getattr(obj, "close", None)
        if close is not None and id(obj) not in seen:
            seen.add(id(obj))
            close()


def _send_chunk(conn: http.client.HTTPConnection, data: bytes) -> None:
    conn.send(f"{len(data):X}\r\n".encode() + data + b"\r\n")


def _pump(conn: http.client.HTTPConnection, chunks: Iterator[bytes]) -> BaseException | None:
    """Sends every chunk; returns the exception the body raised (or a chunk that is neither
    bytes nor text), if there was one."""
    while True:
        try:
            data = _as_bytes(next(chunks))
        except StopIteration:
            return None
        except Exception as exc:  # noqa: BLE001 - reported to Lambda through the trailers
            return exc
        if data:  # an empty chunk would end a chunked body
            _send_chunk(conn, data)


# ---- the loop -----------------------------------------------------------------------------------
def load_handler(spec: str):
    module_name, _, function = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"_HANDLER must be 'module.function', not {spec!r}")
    handler = getattr(importlib.import_module(module_name), function, None)
    if not callable(handler):
        raise AttributeError(f"{module_name} has no function {function!r}")
    return handler


def handle_one(client: RuntimeApiClient, handler) -> None:
    invocation = client.next_invocation()
    if invocation.trace_id:  # what the X-Ray SDK and Powertools read, as under awslambdaric
        os.environ["_X_AMZN_TRACE_ID"] = invocation.trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    _RequestIdFilter.request_id = invocation.request_id
    try:
        event = json.loads(invocation.event)
    except ValueError as exc:
        client.invocation_error(invocation.request_id, exc, "Runtime.UnmarshalError")
        return
    try:
        head, body = response_parts(handler(event, LambdaContext(invocation)))
    except Exception as exc:  # noqa: BLE001 - nothing was sent: Lambda reports a function error
        logger.exception("the handler failed before answering")
        client.invocation_error(invocation.request_id, exc)
        return
    try:
        client.stream_response(invocation.request_id, head, body)
    except (OSError, http.client.HTTPException, RuntimeApiError):
        # Cut off (timeout, a closed client) or refused: nothing more can reach this caller.
        logger.warning("the response to %s did not complete", invocation.request_id,
                       exc_info=True)
    except Exception:  # noqa: BLE001 - the next invocation must still be served
        logger.exception("the response to %s failed", invocation.request_id)


def serve(client: RuntimeApiClient, handler, *, invocations: int | None = None) -> None:
    """Answers invocations forever (``invocations``: that many, for tests)."""
    done = 0
    while invocations is None or done < invocations:
        handle_one(client, handler)
        done += 1


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def configure_logging() -> None:
    """stdout goes to CloudWatch; one line per record with the request id, as awslambdaric
    writes them (Powertools loggers bring their own JSON handler)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(name)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S"))
    handler.formatter.converter = time.gmtime
    root = logging.getLogger()
    root.addHandler(handler)
    # Lambda's advanced logging controls name TRACE and FATAL too, which logging lacks.
    level = logging.getLevelName((os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "INFO").upper())
    root.setLevel(level if isinstance(level, int) else logging.INFO)


def main() -> int:
    configure_logging()
    client = RuntimeApiClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:  # noqa: BLE001 - reported to Lambda, then the process ends
        logger.exception("cannot load the handler %r", os.environ.get("_HANDLER"))
        error_type = ("Runtime.ImportModuleError" if isinstance(exc, ImportError)
                      else "Runtime.HandlerNotFound")
        client.init_error(exc, error_type)
        return 1
    serve(client, handler)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
