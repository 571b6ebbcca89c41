"""Streamed chat over real HTTP (uvicorn and the local gateway): the first token reaches the
client while the model is still writing, and a client that leaves stops the model."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from live_server import served
from noticebot.config import Settings
from noticebot.domain.models import Principal
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.sse import Decoder

QUESTION = "When is the summer party?"
WAIT_S = 10.0


class SlowModel(FakeChatModel):
    """Writes ``pieces`` pieces, sleeping between them; after the first it may wait for
    ``release``, so a test can tell what the client had before generation went on."""

    def __init__(self, pieces: int = 8, delay_s: float = 0.05, gated: bool = False):
        super().__init__()
        self.pieces, self.delay_s = pieces, delay_s
        self.release = threading.Event()
        if not gated:
            self.release.set()
        self.pieces_sent = 0
        self.finished = threading.Event()
        self.closed = threading.Event()

    def stream(self, messages, params, adapter=None):
        words = self.generate(messages, params, adapter).text.split()
        try:
            for i in range(self.pieces):
                if i == 1 and not self.release.wait(WAIT_S):
                    raise AssertionError("the client never got the first piece")
                if i:
                    time.sleep(self.delay_s)
                self.pieces_sent += 1
                yield (words[i] if i < len(words) else "more") + " "
            self.finished.set()
        finally:
            self.closed.set()


@pytest.fixture
def slow_server(tmp_path, request):
    model = SlowModel(**getattr(request, "param", {}))
    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=model, index=FakeVectorIndex())
    container.notices.create(Principal("maria", "riverside", is_editor=True),
                             title="Summer party",
                             body="The summer party is on 12 July at the boathouse. Bring food.")
    with served(container) as url:
        yield container, model, url


def token_for(container) -> str:
    return container.auth.issue("sam", "riverside")


def post_chat(url: str, body: dict, token: str | None, accept: str = "application/json"):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT_S * 2)
    headers = {"Content-Type": "application/json", "Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", "/api/chat", json.dumps(body), headers)
    return conn, conn.getresponse()


def events_of(response, on_event=None) -> list[tuple[str, dict]]:
    decoder, out = Decoder(), []
    while chunk := response.read1(65536):
        for event in decoder.feed(chunk):
            out.append((event.event, json.loads(event.data)))
            if on_event:
                on_event(event)
    return out


@pytest.mark.parametrize("slow_server", [{"gated": True}], indirect=True)
@pytest.mark.parametrize("ask", ["body", "accept"])
def test_the_first_token_arrives_before_the_model_finishes(slow_server, ask):
    container, model, url = slow_server
    body = {"query": QUESTION, **({"stream": True} if ask == "body" else {})}
    conn, response = post_chat(url, body, token_for(container),
                               "text/event-stream" if ask == "accept" else "application/json")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    assert response.getheader("Cache-Control") == "no-cache"
    assert response.getheader("Content-Length") is None  # sent chunk by chunk

    seen_before_release: list[str] = []

    def on_event(event):
        if not model.release.is_set():
            seen_before_release.append(event.event)
            # The model holds its second piece until the client has the first: a gateway
            # that buffered the answer would never get here, and the model would give up.
            assert not model.finished.is_set()
            model.release.set()

    events = events_of(response, on_event)
    conn.close()
    assert seen_before_release == ["token"]
    assert [name for name, _ in events] == ["token"] * model.pieces + ["final"]
    final = events[-1][1]
    assert "12 July" in final["answer"] and final["citations"]
    assert model.finished.is_set()


@pytest.mark.parametrize("slow_server", [{"pieces": 400, "delay_s": 0.05}], indirect=True)
def test_a_client_that_leaves_stops_the_model(slow_server):
    container, model, url = slow_server
    token = token_for(container)
    conn, response = post_chat(url, {"query": QUESTION}, token)  # generate(): not the slow path
    conversation_id = json.loads(response.read())["conversation_id"]
    conn.close()
    parts = urlsplit(url)
    request = json.dumps({"query": "Where is the summer party?", "stream": True,
                          "conversation_id": conversation_id}).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=WAIT_S) as sock:
        sock.sendall(
            (f"POST /api/chat HTTP/1.1\r\nHost: {parts.hostname}\r\n"
             f"Authorization: Bearer {token}\r\n"
             "Content-Type: application/json\r\n"
             f"Content-Length: {len(request)}\r\n\r\n").encode() + request)
        received = b""
        while b"event: token" not in received:
            chunk = sock.recv(65536)
            assert chunk, "the server closed before the first token"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
    # The model would write for 20 s; the client left after its first piece.
    assert model.closed.wait(WAIT_S), "the model kept generating after the client left"
    assert not model.finished.is_set()
    assert model.pieces_sent < 100
    sent = model.pieces_sent
    time.sleep(0.3)
    assert model.pieces_sent == sent
    # An abandoned turn is not recorded.
    conversation = container.chat.get_conversation(Principal("sam", "riverside"),
                                                   conversation_id)
    assert [t.content for t in conversation.turns][::2] == [QUESTION]


def test_errors_before_the_stream_are_json_with_their_status(slow_server):
    container, model, url = slow_server
    token = token_for(container)
    for body, token_used, accept, status, code in [
        ({"query": QUESTION, "stream": True}, None, "application/json", 401, "unauthorized"),
        ({"query": QUESTION}, "not-a-token", "text/event-stream", 401, "unauthorized"),
        ({"query": "", "stream": True}, token, "application/json", 422, "validation_error"),
        ({"query": QUESTION, "stream": True, "conversation_id": "nope"}, token,
         "text/event-stream", 404, "not_found"),
    ]:
        conn, response = post_chat(url, body, token_used, accept)
        assert response.status == status, body
        assert response.getheader("Content-Type") == "application/json"
        payload = response.read()
        assert int(response.getheader("Content-Length")) == len(payload)
        assert json.loads(payload)["error"]["code"] == code
        conn.close()
    assert model.pieces_sent == 0


def test_a_plain_request_still_gets_one_json_answer(slow_server):
    container, model, url = slow_server
    conn, response = post_chat(url, {"query": QUESTION}, token_for(container))
    assert response.status == 200 and response.getheader("Content-Type") == "application/json"
    assert "12 July" in json.loads(response.read())["answer"]
    conn.close()
