"""`noticebot serve`: the API on 127.0.0.1, each request run through the Lambda handler.

uvicorn does the HTTP (parsing and framing, keep-alive, chunked bodies, the listen backlog,
timeouts, graceful shutdown); ``gateway.LocalApiGateway`` plays API Gateway in front of the
handler. What uvicorn refuses itself (malformed framing) is answered in the API's JSON error
shape too.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import h11
from uvicorn import Config, Server
from uvicorn.protocols.http.h11_impl import H11Protocol

from noticebot.domain.errors import error_body
from noticebot.entrypoints.gateway import MAX_BODY, LocalApiGateway

BACKLOG = 2048  # a burst of clients queues in the kernel instead of being reset


class JsonErrorsH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, answering a request it cannot parse (a bad
    Content-Length, broken chunked framing, an invalid request line) with a JSON 400."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(error_body(
            "bad_request", f"malformed HTTP request: {msg.rstrip('.').lower()}")).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close"),
                   (b"content-length", str(len(body)).encode())]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                      h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


class GatewayServer:
    """A gateway (``LocalApiGateway``) served by uvicorn on ``host:port``. ``serve_forever``
    blocks (the CLI; Ctrl-C stops it gracefully); ``start``/``stop`` run it on a background
    thread (tests, the benchmark, the smoke test's dry run)."""

    def __init__(self, gateway: LocalApiGateway, host: str = "127.0.0.1", port: int = 8000):
        self.gateway = gateway
        # Bound here, not by uvicorn, so the port (0 = any free one) is known before serving.
        self.socket = socket.create_server((host, port), backlog=BACKLOG)
        self.host, self.port = self.socket.getsockname()[:2]
        self._server = Server(Config(
            self.gateway, http=JsonErrorsH11Protocol, lifespan="off", log_config=None,
            access_log=False, backlog=BACKLOG, timeout_keep_alive=5,
            timeout_graceful_shutdown=10, server_header=False,
            h11_max_incomplete_event_size=64 * 1024,  # request line + headers
        ))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.gateway.close()
            self.socket.close()

    def start(self, timeout: float = 10.0) -> "GatewayServer":
        self._thread = threading.Thread(target=self.serve_forever, name="api-server",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._server.should_exit = True
        if self._thread:
            self._thread.join(timeout)


class LocalServer(GatewayServer):
    """The local API server: the container's API handler and streamed chat behind the local
    gateway, which verifies the container's own tokens."""

    def __init__(self, container, host: str = "127.0.0.1", port: int = 8000, *,
                 max_workers: int = 32, max_body: int = MAX_BODY):
        from noticebot.handlers.api import chat_stream
        from noticebot.handlers.api.app import handler_for

        super().__init__(LocalApiGateway(
            container.auth, handler_for(container),
            stream_handler=lambda event: chat_stream.respond(event, container),
            max_body=max_body, max_workers=max_workers), host, port)
