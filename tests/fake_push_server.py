"""A stand-in for Expo's push service on 127.0.0.1: it checks each request has the shape
Expo documents (POST, JSON array of at most 100 messages with to/title/body/data/sound,
channelId (the app's Android channel) and priority, the
Accept, Accept-Encoding and Content-Type headers) and answers one ticket per message.
Tokens listed in ``gone`` get a DeviceNotRegistered ticket, those in ``gone_later`` an ok
ticket whose receipt (``getReceipts``: ``{"ids": [...]}``, at most 1,000) says
DeviceNotRegistered; ``fail_with`` makes the next requests answer that HTTP status instead. A request that breaks the shape is answered 400
and recorded in ``problems``, so a test fails on it."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/--/api/v2/push/send"
RECEIPTS_PATH = "/--/api/v2/push/getReceipts"
MESSAGE_FIELDS = {"to", "title", "body", "data", "sound", "channelId", "priority"}
PRIORITIES = {"default", "normal", "high"}  # Expo's documented values


class FakePushServer:
    def __init__(self, gone: set[str] | None = None, gzip_answers: bool = True,
                 gone_later: set[str] | None = None):
        self.gone = set(gone or ())
        self.gone_later = set(gone_later or ())
        self.tickets: dict[str, str] = {}  # ticket id -> the token it was sent to
        self.receipt_requests: list[list[str]] = []
        self.gzip_answers = gzip_answers
        self.requests: list[dict] = []  # {"headers", "messages"}
        self.problems: list[str] = []
        self.fail_with: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                server._answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{PATH}"

    @property
    def messages(self) -> list[dict]:
        return [m for r in self.requests for m in r["messages"]]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _check_headers(self, request: BaseHTTPRequestHandler) -> None:
        h = request.headers
        if h.get("Accept") != "application/json":
            raise ValueError(f"Accept {h.get('Accept')!r}")
        if h.get("Accept-Encoding") != "gzip, deflate":
            raise ValueError(f"Accept-Encoding {h.get('Accept-Encoding')!r}")
        if h.get("Content-Type") != "application/json":
            raise ValueError(f"Content-Type {h.get('Content-Type')!r}")

    def _check(self, request: BaseHTTPRequestHandler, body: bytes) -> list:
        if request.path != PATH:
            raise ValueError(f"path {request.path}")
        self._check_headers(request)
        messages = json.loads(body)
        if not isinstance(messages, list) or not 1 <= len(messages) <= 100:
            raise ValueError("not a JSON array of 1 to 100 messages")
        for m in messages:
            if set(m) != MESSAGE_FIELDS or m["sound"] != "default" \
                    or not isinstance(m["data"], dict) or m["priority"] not in PRIORITIES \
                    or m["channelId"] != "default":
                raise ValueError(f"message {m}")
            if not (m["to"].startswith("ExponentPushToken[") and m["to"].endswith("]")):
                raise ValueError(f"to {m['to']!r}")
        return messages

    def _answer(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        if self.fail_with:
            return self._send(request, self.fail_with.pop(0), {"errors": [{"code": "X"}]})
        try:
            if request.path == RECEIPTS_PATH:
                return self._send(request, 200, {"data": self._receipts(request, body)})
            messages = self._check(request, body)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.problems.append(str(exc))
            return self._send(request, 400, {"errors": [{"message": str(exc)}]})
        self.requests.append({"headers": dict(request.headers), "messages": messages})
        tickets = []
        for i, m in enumerate(messages):
            if m["to"] in self.gone:
                tickets.append({"status": "error", "message": f"{m['to']} is not registered",
                                "details": {"error": "DeviceNotRegistered"}})
                continue
            ticket_id = f"ticket-{len(self.messages)}-{i}"
            self.tickets[ticket_id] = m["to"]
            tickets.append({"status": "ok", "id": ticket_id})
        self._send(request, 200, {"data": tickets})

    def _receipts(self, request: BaseHTTPRequestHandler, body: bytes) -> dict:
        self._check_headers(request)
        ids = json.loads(body)["ids"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= 1000 \
                or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids: not an array of 1 to 1000 ticket ids")
        self.receipt_requests.append(ids)
        return {i: ({"status": "error", "message": "not registered",
                     "details": {"error": "DeviceNotRegistered"}}
                    if self.tickets[i] in self.gone_later else {"status": "ok"})
                for i in ids if i in self.tickets}

    def _send(self, request: BaseHTTPRequestHandler, status: int, answer: dict) -> None:
        raw = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        if self.gzip_answers:
            raw = gzip.compress(raw)
            request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(raw)))
        request.end_headers()
        request.wfile.write(raw)
