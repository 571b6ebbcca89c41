"""A stand-in for the Lambda Runtime API (2018-06-01) on 127.0.0.1, speaking its HTTP protocol.

``GET /runtime/invocation/next`` hands out queued events with the headers Lambda sends;
``POST /runtime/invocation/{id}/response`` is read as it arrives, chunk by chunk when the runtime
streams (``Transfer-Encoding: chunked`` with ``Lambda-Runtime-Function-Response-Mode: streaming``),
the HTTP integration prelude and its 8-NUL delimiter parsed out of the bytes wherever the chunks
cut them, trailers included; ``/error`` and ``/runtime/init/error`` are recorded. An unknown
request id is refused with 400, as Lambda does.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01"
DELIMITER = b"\0" * 8


@dataclass
class Response:
    request_id: str
    headers: dict[str, str]  # the POST's headers, names lower-cased
    raw_chunks: list[bytes] = field(default_factory=list)  # as they came off the wire
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each
    prelude: dict | None = None
    body_chunks: list[bytes] = field(default_factory=list)  # the body after the delimiter
    trailers: dict[str, str] = field(default_factory=dict)
    complete: bool = False

    @property
    def body(self) -> bytes:
        return b"".join(self.body_chunks)

    @property
    def error(self) -> dict | None:
        """The mid-stream error the trailers report, decoded."""
        if "lambda-runtime-function-error-type" not in self.trailers:
            return None
        doc = json.loads(base64.b64decode(self.trailers["lambda-runtime-function-error-body"]))
        return {"type": self.trailers["lambda-runtime-function-error-type"], **doc}


@dataclass
class ErrorReport:
    request_id: str | None  # None: an init error
    error_type: str | None  # the Lambda-Runtime-Function-Error-Type header
    document: dict


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A runtime process ended by the test drops its waiting /next: not a failure here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeRuntimeApi:
    def __init__(self):
        self._queue: deque[tuple[str, bytes, int]] = deque()
        self._issued: set[str] = set()
        self._cond = threading.Condition()
        self._closing = False
        self.responses: dict[str, Response] = {}
        self.errors: list[ErrorReport] = []
        self.first_body_chunk = threading.Event()  # set when body bytes first arrive
        self.server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                        daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def invoke(self, event, *, request_id: str | None = None, timeout_s: float = 30) -> str:
        """Queues an invocation (a dict is sent as JSON, bytes as they are)."""
        request_id = request_id or str(uuid.uuid4())
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        with self._cond:
            self._queue.append((request_id, body, int((time.time() + timeout_s) * 1000)))
            self._issued.add(request_id)
            self._cond.notify_all()
        return request_id

    def wait_for(self, count: int, timeout_s: float = 10) -> None:
        """Until ``count`` invocations were answered (response or error)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._answered() < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self._answered()} of {count} invocations answered")
                self._cond.wait(left)

    def _answered(self) -> int:
        return (sum(r.complete for r in self.responses.values())
                + sum(e.request_id is not None for e in self.errors))

    def _next(self):
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                self._cond.wait(0.05)
            return self._queue.popleft()


def _handler_for(api: FakeRuntimeApi):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _reply(self, status: int, doc: dict) -> None:
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path != f"{PREFIX}/runtime/invocation/next":
                return self._reply(404, {"errorMessage": "unknown path"})
            item = api._next()
            if item is None:
                self.close_connection = True
                return self._reply(500, {"errorMessage": "shutting down"})
            request_id, body, deadline_ms = item
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
            self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline_ms))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                             "arn:aws:lambda:us-east-1:123456789012:function:noticebot-dev-chat")
            self.send_header("Lambda-Runtime-Trace-Id",
                             "Root=1-6740a1b2-0123456789abcdef01234567;Parent=9a9197af755a6419;"
                             "Sampled=1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            parts = self.path[len(PREFIX):].strip("/").split("/")
            if parts == ["runtime", "init", "error"]:
                return self._error(None)
            if len(parts) != 4 or parts[:2] != ["runtime", "invocation"]:
                return self._reply(404, {"errorMessage": "unknown path"})
            request_id, kind = parts[2], parts[3]
            if request_id not in api._issued:
                self._drain()
                return self._reply(400, {"errorMessage": "Invalid request ID",
                                         "errorType": "InvalidRequestID"})
            if kind == "error":
                return self._error(request_id)
            if kind == "response":
                return self._response(request_id)
            return self._reply(404, {"errorMessage": "unknown path"})

        def _drain(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                for _ in self._chunks({}):
                    pass
            else:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _error(self, request_id):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            report = ErrorReport(request_id, self.headers.get("Lambda-Runtime-Function-Error-Type"),
                                 json.loads(body or b"{}"))
            with api._cond:
                api.errors.append(report)
                api._cond.notify_all()
            self._reply(202, {"status": "OK"})

        def _chunks(self, trailers: dict):
            """The chunked body's data, one chunk at a time as it arrives (RFC 9112 7.1)."""
            while True:
                size_line = self.rfile.readline()
                if not size_line:
                    raise ConnectionError("the runtime closed the stream mid-body")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    break
                data = self.rfile.read(size)
                if self.rfile.read(2) != b"\r\n":
                    raise ValueError("chunk data not followed by CRLF")
                yield data
            while True:  # the trailer section, ended by an empty line
                line = self.rfile.readline().rstrip(b"\r\n")
                if not line:
                    return
                name, _, value = line.decode("latin-1").partition(":")
                trailers[name.strip().lower()] = value.strip()

        def _response(self, request_id):
            record = Response(request_id, {k.lower(): v for k, v in self.headers.items()})
            with api._cond:
                api.responses[request_id] = record
            streaming = record.headers.get("lambda-runtime-function-response-mode") == "streaming"
            if streaming and record.headers.get("transfer-encoding", "").lower() == "chunked":
                pieces = self._chunks(record.trailers)
            else:
                pieces = iter([self.rfile.read(int(self.headers.get("Content-Length") or 0))])
            framed = (record.headers.get("content-type")
                      == "application/vnd.awslambda.http-integration-response")
            head = b""
            for data in pieces:
                record.raw_chunks.append(data)
                record.arrivals.append(time.monotonic())
                if framed and record.prelude is None:
                    head += data
                    if DELIMITER not in head:
                        continue
                    prelude, _, data = head.partition(DELIMITER)
                    record.prelude = json.loads(prelude)
                if data:
                    record.body_chunks.append(data)
                    api.first_body_chunk.set()
            with api._cond:
                record.complete = True
                api._cond.notify_all()
            self._reply(202, {"status": "OK"})

    return Handler
