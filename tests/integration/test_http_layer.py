"""The local server's own HTTP layer, spoken to in raw bytes: malformed framing, lengths,
methods and bursts of connections all get a response in the API's JSON error shape."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit


def exchange(base: str, raw: bytes, timeout: float = 10.0) -> bytes:
    """Sends raw bytes on a fresh connection; returns everything until the server closes."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Splits HTTP/1.1 responses framed by Content-Length."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip()
                   for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        out.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return out


def error_code(body: bytes) -> str:
    return json.loads(body)["error"]["code"]


def request_bytes(method: str, path: str, token: str | None = None, headers: dict | None = None,
                  body: bytes = b"", close: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_malformed_content_length_is_a_json_400(fake_model_server):
    _, base = fake_model_server
    for value in ("abc", "-5", "1, 2"):
        raw = request_bytes("POST", "/api/notices", headers={
            "Content-Type": "application/json", "Content-Length": value}, body=b"{}")
        [(status, headers, body)] = responses(exchange(base, raw))
        assert status == 400, value
        assert headers["content-type"] == "application/json"
        assert error_code(body) == "bad_request"


def test_chunked_body_is_read_as_the_request_body(fake_model_server):
    container, base = fake_model_server
    token = container.auth.issue("ed", "ws1", editor=True)
    payload = json.dumps({"title": "Chunked", "body": "Sent in two chunks."}).encode()
    first, second = payload[:10], payload[10:]
    chunked = (f"{len(first):x}\r\n".encode() + first + b"\r\n"
               + f"{len(second):x}\r\n".encode() + second + b"\r\n0\r\n\r\n")
    raw = request_bytes("POST", "/api/notices", token, {
        "Content-Type": "application/json", "Transfer-Encoding": "chunked"}, chunked)
    got = responses(exchange(base, raw))
    assert [s for s, _, _ in got] == [201]  # one response: nothing left over read as a request
    assert json.loads(got[0][2])["title"] == "Chunked"
    assert [n.title for n in container.metadata.list_notices("ws1")] == ["Chunked"]


def test_oversized_bodies_are_413_before_and_while_reading(fake_model_server):
    container, base = fake_model_server
    token = container.auth.issue("ed", "ws1", editor=True)
    raw = request_bytes("POST", "/api/upload", token, {
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(50 * 1024 * 1024)})
    [(status, _, body)] = responses(exchange(base, raw))
    assert (status, error_code(body)) == (413, "payload_too_large")
    # A chunked body declares no length: it is counted as it arrives.
    chunk = b"x" * (1024 * 1024)
    chunked = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(12))
    raw = request_bytes("POST", "/api/upload", token, {
        "Content-Type": "multipart/form-data; boundary=x", "Transfer-Encoding": "chunked"},
        chunked + b"0\r\n\r\n")
    [(status, _, body)] = responses(exchange(base, raw))
    assert (status, error_code(body)) == (413, "payload_too_large")


def test_methods_the_api_does_not_serve_are_json_errors(fake_model_server):
    _, base = fake_model_server
    [(status, headers, body)] = responses(exchange(base, request_bytes("TRACE", "/api/health")))
    assert (status, error_code(body)) == (405, "method_not_allowed")
    assert "GET" in headers["allow"]
    for method in ("PROPFIND", "QUERY"):
        [(status, headers, body)] = responses(exchange(base, request_bytes(method, "/api/health")))
        assert (status, error_code(body)) == (405, "method_not_allowed")
        assert "DELETE" in headers["allow"]


def test_an_encoded_question_mark_stays_in_the_path(fake_model_server):
    container, base = fake_model_server
    token = container.auth.issue("mem", "ws1")
    for path in ("/api/notices/%3Fx", "/api/notices/%23x", "/api/documents/%3F"):
        [(status, _, body)] = responses(exchange(base, request_bytes("GET", path, token)))
        assert (status, error_code(body)) == (404, "not_found"), path


def test_head_answers_like_get_without_a_body(fake_model_server):
    _, base = fake_model_server
    [(get_status, get_headers, get_body)] = responses(
        exchange(base, request_bytes("GET", "/api/health")))
    data = exchange(base, request_bytes("HEAD", "/api/health"))
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert rest == b""
    assert f"content-length: {len(get_body)}".encode() in head.lower()
    assert get_status == 200 and json.loads(get_body)


def test_keep_alive_serves_several_requests_on_one_connection(fake_model_server):
    container, base = fake_model_server
    token = container.auth.issue("mem", "ws1")
    raw = (request_bytes("GET", "/api/health", close=False)
           + request_bytes("GET", "/api/notices", token, close=False)
           + request_bytes("GET", "/api/documents", token))
    got = responses(exchange(base, raw))
    assert [s for s, _, _ in got] == [200, 200, 200]
    assert json.loads(got[1][2]) == {"notices": []}


def test_a_burst_of_connections_is_queued_not_reset(fake_model_server):
    _, base = fake_model_server
    url = urlsplit(base)

    def health(_):
        started = time.perf_counter()
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(request_bytes("GET", "/api/health"))
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return data.split(b" ", 2)[1], time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(health, range(100)))
    assert [code for code, _ in results] == [b"200"] * 100
    assert max(t for _, t in results) < 5.0
