"""Many callers at once over real HTTP: every request runs as its own caller.

Two workspaces' editors write (uploads, notices) while their readers (a member of each
workspace and the other editor) list, read and search, all interleaved on threads. Nothing
may cross: every write lands in the caller's workspace under the caller's name, every read
sees only its own workspace, and no request fails.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from apiclient import multipart
from fakes import FakeChatModel

ROUNDS = 12  # per writer thread; with the readers this is several hundred requests


def request(base, token, method, path, body=None, content_type="application/json"):
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        headers["Content-Type"] = content_type
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class Ledger:
    """What each caller did and saw, appended from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.unexpected: list[tuple] = []
        self.uploaded: dict[str, list[str]] = {}  # workspace -> document ids
        self.posted: dict[str, list[str]] = {}  # workspace -> notice ids
        self.seen_titles: dict[str, set[str]] = {}  # workspace -> titles its readers saw
        self.count = 0

    def record(self, who, method, path, status, expected, body):
        with self.lock:
            self.count += 1
            if status != expected:
                self.unexpected.append((who, method, path, status, body))

    def add(self, book: dict, workspace: str, item: str):
        with self.lock:
            book.setdefault(workspace, []).append(item)

    def saw(self, workspace: str, titles):
        with self.lock:
            self.seen_titles.setdefault(workspace, set()).update(titles)


def writer(base, ledger, who, token, workspace, thread_no):
    rnd = random.Random(f"{workspace}-{thread_no}")
    for i in range(ROUNDS):
        title = f"{workspace} file {thread_no}-{i}"
        text = f"{title}. Only {workspace} keeps this record number {rnd.random()}.\n"
        body, ctype = multipart({"metadata": json.dumps({"title": title})},
                                {"file": (f"{workspace}-{thread_no}-{i}.txt", text.encode(),
                                          "text/plain")})
        status, out = request(base, token, "POST", "/api/upload", body, ctype)
        ledger.record(who, "POST", "/api/upload", status, 202, out)
        if status == 202:
            ledger.add(ledger.uploaded, workspace, out["document_id"])
        status, out = request(base, token, "POST", "/api/notices",
                              {"title": f"{workspace} notice {thread_no}-{i}",
                               "body": f"Posted for {workspace} only."})
        ledger.record(who, "POST", "/api/notices", status, 201, out)
        if status == 201:
            ledger.add(ledger.posted, workspace, out["notice_id"])
            if out["author"] != who:
                ledger.record(who, "author", out["notice_id"], out["author"], who, out)


def reader(base, ledger, who, token, workspace, stop: threading.Event):
    while not stop.is_set():
        status, out = request(base, token, "GET", "/api/documents")
        ledger.record(who, "GET", "/api/documents", status, 200, out)
        if status == 200:
            ledger.saw(workspace, [d["title"] for d in out["documents"]])
        status, out = request(base, token, "GET", "/api/notices")
        ledger.record(who, "GET", "/api/notices", status, 200, out)
        if status == 200:
            ledger.saw(workspace, [n["title"] for n in out["notices"]])
        status, out = request(base, token, "POST", "/api/search",
                              {"query": "record keeps only", "top_k": 10})
        ledger.record(who, "POST", "/api/search", status, 200, out)
        if status == 200:
            ledger.saw(workspace, [r["title"] for r in out["results"]])


@pytest.fixture
def frequent_thread_switches():
    """With the fakes a request takes a few milliseconds, shorter than the interpreter's
    default 5 ms switch interval; switching far more often makes requests interleave the
    way slow real models make them (and exposes any state two requests share)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def test_concurrent_callers_never_cross(fake_model_server, frequent_thread_switches):
    container, base = fake_model_server
    auth = container.auth
    callers = {
        "ed-x": (auth.issue("ed-x", "wsX", editor=True), "wsX"),
        "ed-y": (auth.issue("ed-y", "wsY", editor=True), "wsY"),
        "mem-x": (auth.issue("mem-x", "wsX"), "wsX"),
        "mem-y": (auth.issue("mem-y", "wsY"), "wsY"),
    }
    ledger = Ledger()
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=10) as pool:
        readers = [pool.submit(reader, base, ledger, who, *callers[who], stop)
                   for who in ("mem-x", "mem-y", "ed-y", "mem-y")]
        writers = [pool.submit(writer, base, ledger, who, *callers[who], n)
                   for who in ("ed-x", "ed-y") for n in (0, 1)]
        for f in writers:
            f.result()
        stop.set()
        for f in readers:
            f.result()

    assert ledger.count >= 200
    assert ledger.unexpected == []
    for workspace, editor in (("wsX", "ed-x"), ("wsY", "ed-y")):
        docs = container.metadata.list_documents(workspace, source="upload")
        assert sorted(d.document_id for d in docs) == sorted(ledger.uploaded[workspace])
        assert {d.uploaded_by for d in docs} == {editor}
        assert all(d.title.startswith(f"{workspace} file") for d in docs)
        notices = container.metadata.list_notices(workspace)
        assert sorted(n.notice_id for n in notices) == sorted(ledger.posted[workspace])
        assert {n.author for n in notices} == {editor}
        # A reader saw its own workspace's titles and never the other's.
        assert ledger.seen_titles[workspace]
        assert all(t.startswith(workspace) for t in ledger.seen_titles[workspace])


class HeldChatModel(FakeChatModel):
    """A chat that takes as long as the test says: it waits inside the model call."""

    def __init__(self):
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def generate(self, messages, params, adapter=None):
        self.entered.set()
        assert self.release.wait(30)
        return super().generate(messages, params, adapter)


def test_a_slow_chat_does_not_hold_up_other_callers(fake_model_server):
    container, base = fake_model_server
    held = HeldChatModel()
    container.chat.model = held
    editor = container.auth.issue("ed", "ws1", editor=True)
    member = container.auth.issue("mem", "ws1")
    status, _ = request(base, editor, "POST", "/api/notices", {
        "title": "Boathouse hours", "body": "The boathouse opens at 7am on weekdays."})
    assert status == 201
    with ThreadPoolExecutor(max_workers=1) as pool:
        chat = pool.submit(request, base, member, "POST", "/api/chat",
                           {"query": "When does the boathouse open?"})
        assert held.entered.wait(30), "the chat never reached the model"
        # The chat is inside the model; everyone else is still served.
        for path in ("/api/notices", "/api/documents"):
            status, _ = request(base, member, "GET", path)
            assert status == 200
        status, out = request(base, member, "POST", "/api/search", {"query": "boathouse"})
        assert status == 200 and out["results"]
        assert not chat.done()
        held.release.set()
        status, out = chat.result(30)
    assert status == 200 and out["answer"]
