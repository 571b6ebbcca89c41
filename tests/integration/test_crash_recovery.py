"""Nothing is lost when the local server dies: kill -9 it while documents are queued and one
is being indexed, start it again on the same data folder, and every document settles.

The real stack in a real process (``noticebot serve``: HTTP server, SQLite metadata, the
durable queue, the embedded index, the real embedder). The test reads the data folder's
SQLite files directly, as the truth at the moment of the kill and after recovery.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from apiclient import multipart

pytestmark = pytest.mark.models

NOTICEBOT = Path(sys.executable).with_name("noticebot")
WORKSPACE = "crash"
DOCUMENTS = 15
START_TIMEOUT_S = 180
SETTLE_TIMEOUT_S = 300

WORDS = ("rowing regatta boathouse committee treasurer locker oar hull rigging safety launch "
         "coach novice squad sculling sweep erg training schedule membership fee insurance "
         "harbour tide weather capsize drill lifejacket cox steering repair varnish trailer "
         "minutes agenda budget invoice volunteer rota cleaning kitchen barbecue trophy").split()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prose(rng: random.Random, sentences: int) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
            for _ in range(sentences)]


def make_documents() -> list[tuple[str, bytes, str]]:
    """Fifteen distinct files of text, Markdown and CSV, large enough (dozens of chunks each)
    that indexing them all takes a while."""
    rng = random.Random(7)
    files = []
    for n in range(DOCUMENTS):
        kind = ("txt", "md", "csv")[n % 3]
        if kind == "txt":
            data = "\n\n".join(" ".join(prose(rng, 6)) for _ in range(30))
            files.append((f"notes-{n}.txt", data.encode(), "text/plain"))
        elif kind == "md":
            parts = [f"# Handbook part {n}"]
            for section in range(15):
                parts += [f"## Section {section}", " ".join(prose(rng, 10))]
            files.append((f"handbook-{n}.md", "\n\n".join(parts).encode(), "text/markdown"))
        else:
            rows = ["date,boat,crew,notes"] + [
                f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},boat {rng.randint(1, 9)},"
                f"{rng.randint(1, 8)},\"{prose(rng, 1)[0]}\"" for _ in range(300)]
            files.append((f"log-{n}.csv", "\n".join(rows).encode(), "text/csv"))
    return files


class Server:
    """``noticebot serve`` as a subprocess on a data folder."""

    def __init__(self, data: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "NOTICEBOT_DATA": str(data), "PYTHONUNBUFFERED": "1"}
        self.log = log
        self.proc = subprocess.Popen(
            [str(NOTICEBOT), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--no-sample"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)  # reaped: its pid is gone, not a zombie

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def call(url: str, token: str, method: str = "GET", body: bytes | None = None,
         content_type: str | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.loads(resp.read())


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql, params).fetchall()


def statuses(data: Path) -> dict[str, str]:
    return dict(rows(data / "metadata.sqlite3",
                     "SELECT document_id, status FROM documents WHERE workspace_id=?",
                     (WORKSPACE,)))


@pytest.fixture
def servers(tmp_path):
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_a_killed_server_loses_nothing_and_strands_nothing(tmp_path, servers):
    data = tmp_path / "data"
    first = Server(data, tmp_path / "first.log")
    servers.append(first)
    first.wait_ready()
    token = subprocess.run(
        [str(NOTICEBOT), "token", "--user", "crash-tester", "--workspace", WORKSPACE, "--editor"],
        env={**os.environ, "NOTICEBOT_DATA": str(data)}, capture_output=True, text=True,
        check=True).stdout.strip().splitlines()[-1]

    uploaded = []
    for name, content, ctype in make_documents():
        body, form_type = multipart({"metadata": json.dumps({"title": name})},
                                    {"file": (name, content, ctype)})
        out = call(f"{first.url}/api/upload", token, "POST", body, form_type)
        assert out["status"] == "queued" and not out["duplicate"]
        uploaded.append(out["document_id"])

    # Kill it as soon as a document is being indexed (or, failing that, at once).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "processing" not in statuses(data).values():
        time.sleep(0.02)
    first.kill()

    at_kill = statuses(data)
    assert sorted(at_kill) == sorted(uploaded)
    unsettled = [d for d, s in at_kill.items() if s in ("queued", "processing")]
    assert unsettled, f"everything was indexed before the kill: {at_kill}"
    processing = [d for d, s in at_kill.items() if s == "processing"]

    restarted_at = time.monotonic()
    second = Server(data, tmp_path / "second.log")
    servers.append(second)
    second.wait_ready()
    ready_s = time.monotonic() - restarted_at
    deadline = restarted_at + SETTLE_TIMEOUT_S
    while True:
        listed = {d["document_id"]: d for d in call(f"{second.url}/api/documents", token)[
            "documents"]}
        if all(d["status"] in ("indexed", "failed") for d in listed.values()):
            break
        assert time.monotonic() < deadline, f"not settled in {SETTLE_TIMEOUT_S}s: {listed}"
        time.sleep(0.25)
    recovery_s = time.monotonic() - restarted_at
    print(f"\ncrash recovery: {len(unsettled)} of {DOCUMENTS} documents unsettled at the kill "
          f"({len(processing)} processing); restart -> ready {ready_s:.1f}s, "
          f"restart -> all settled {recovery_s:.1f}s")

    assert sorted(listed) == sorted(uploaded)
    failed = {d: v["error"] for d, v in listed.items() if v["status"] != "indexed"}
    assert not failed, failed  # every file is valid: each must end indexed
    # No duplicate chunks: per document, the index holds exactly its chunk_count, ids unique.
    counts = dict((doc, (n, unique)) for doc, n, unique in rows(
        data / "index" / "chunks.sqlite3",
        "SELECT document_id, COUNT(*), COUNT(DISTINCT chunk_id) FROM chunks "
        "WHERE workspace_id=? GROUP BY document_id", (WORKSPACE,)))
    for doc_id, doc in listed.items():
        assert doc["chunk_count"] > 0
        assert counts[doc_id] == (doc["chunk_count"], doc["chunk_count"]), doc_id
    # The taken-over document was indexed by its redelivered message (a second attempt).
    for doc_id in processing:
        (attempts,) = rows(data / "metadata.sqlite3",
                           "SELECT attempts FROM documents WHERE document_id=?", (doc_id,))[0]
        assert attempts == 2, doc_id
    # Nothing left in the queue, nothing dead-lettered.
    assert rows(data / "queue.sqlite3", "SELECT COUNT(*) FROM messages") == [(0,)]
    assert rows(data / "queue.sqlite3", "SELECT COUNT(*) FROM dead_letters") == [(0,)]


def test_the_cli_ingests_beside_a_server_on_the_same_folder(tmp_path, servers, monkeypatch,
                                                            capsys):
    """Both processes receive from the one queue file; whichever takes a message, the CLI
    reports the outcome of its own files."""
    from noticebot.entrypoints.cli import main

    data = tmp_path / "data"
    server = Server(data, tmp_path / "server.log")
    servers.append(server)
    server.wait_ready()
    files = []
    for name, content, _ in make_documents()[:4]:
        (tmp_path / name).write_bytes(content)
        files.append(str(tmp_path / name))
    monkeypatch.setenv("NOTICEBOT_DATA", str(data))
    assert main(["ingest", *files, "--workspace", WORKSPACE, "--quiet"]) == 0
    assert "4 indexed, 0 failed" in capsys.readouterr().out
    assert sorted(statuses(data).values()) == ["indexed"] * 4
    assert rows(data / "queue.sqlite3", "SELECT COUNT(*) FROM messages") == [(0,)]
