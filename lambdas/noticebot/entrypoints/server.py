"""`noticebot serve`: the API on 127.0.0.1, each request run through the Lambda handler.

The server plays API Gateway's part: it verifies the bearer token (as the
Cognito authorizer would), builds the REST proxy event and returns the result.
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from noticebot.domain.errors import NoticebotError
from noticebot.entrypoints.apigw_events import build_event, response_parts

logger = logging.getLogger(__name__)
PUBLIC = {"/api/health", "/api/openapi.json"}
MAX_BODY = 12 * 1024 * 1024  # API Gateway's payload cap is 10 MB


def make_handler_class(container, api_handler):
    class ApiRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "noticebot-local"

        def log_message(self, fmt, *args):  # requests go to logging, tokens never do
            logger.info("%s %s", self.command, self.path.split("?")[0])

        def _send(self, status: int, headers: dict[str, list[str]], body: bytes) -> None:
            self.send_response(status)
            for k, values in headers.items():
                if k.lower() in ("content-length", "connection"):
                    continue
                for v in values:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            self._send(status, {"Content-Type": ["application/json"],
                                "Access-Control-Allow-Origin": ["*"]}, body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._error(413, "payload_too_large", "request body is larger than 10 MB")
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            claims = None
            if path not in PUBLIC and self.command != "OPTIONS":
                auth = self.headers.get("Authorization") or ""
                if not auth.lower().startswith("bearer "):
                    self._error(401, "unauthorized", "send 'Authorization: Bearer <token>'")
                    return
                try:
                    claims = container.auth.verify(auth[7:].strip())
                except NoticebotError as exc:
                    self._error(401, "unauthorized", exc.message)
                    return
            event = build_event(self.command, self.path, dict(self.headers.items()), body, claims,
                                self.client_address[0])
            status, headers, payload = response_parts(api_handler(event, None))
            self._send(status, headers, payload)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_OPTIONS = _handle

    return ApiRequestHandler


def make_server(container, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    from noticebot.handlers.api.app import handler as api_handler
    from noticebot.handlers.runtime import use_container

    use_container(container)
    server = ThreadingHTTPServer((host, port), make_handler_class(container, api_handler))
    server.daemon_threads = True
    return server
