"""The SageMaker model container's HTTP contract: ``GET /ping`` and ``POST /invocations``.

Served over any ``ModelEndpoint`` (the local endpoint, or the PEFT backend in the SageMaker
serving image), so what a client sees over HTTP is what it sees in-process.
"""

from __future__ import annotations

import itertools
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from noticebot.domain.errors import NoticebotError
from noticebot.model_contract import encode_json
from noticebot.ports.chat_model import ModelEndpoint


def make_server(endpoint: ModelEndpoint, host: str = "127.0.0.1", port: int = 8080):
    """``GET /ping`` and ``POST /invocations`` as a SageMaker container serves them.

    A payload with ``"stream": true`` is answered as ``text/event-stream`` (TGI's
    convention). The adapter is named by the inference-component header
    (``X-Amzn-SageMaker-Inference-Component``), the multi-model header
    (``X-Amzn-SageMaker-Target-Model``) or the payload's ``adapter`` field, in that order;
    none of them: the base model.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server naming)
            if self.path == "/ping":
                self._send(200, b"{}")
            else:
                self._send(404, b'{"error":"not found"}')

        def do_POST(self):  # noqa: N802
            if self.path != "/invocations":
                return self._send(404, b'{"error":"not found"}')
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                payload = {}
            wants_stream = bool(payload.get("stream"))
            adapter = payload.get("adapter") if isinstance(payload.get("adapter"), str) else None
            target = (
                self.headers.get("X-Amzn-SageMaker-Inference-Component")
                or self.headers.get("X-Amzn-SageMaker-Target-Model")
                or adapter
                or None
            )
            try:
                if not wants_stream:
                    return self._send(200, endpoint.invoke(body, target))
                lines = endpoint.invoke_stream(body, target)
                first = next(lines, b"")  # surface errors before the 200 is sent
            except NoticebotError as exc:
                return self._send(exc.status, encode_json({"error": exc.message, "error_type": exc.code}))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in itertools.chain([first] if first else [], lines):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        def _send(self, status: int, body: bytes):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # keep test and CLI output quiet
            pass

    return ThreadingHTTPServer((host, port), Handler)


def serve_endpoint(endpoint: ModelEndpoint, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted (``python -m`` style local container)."""
    server = make_server(endpoint, host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
