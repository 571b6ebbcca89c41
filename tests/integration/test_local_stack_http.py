"""The local stack end to end over real HTTP: dev server, JWTs, worker thread, real
embedder, real embedded index and the real local language model."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from apiclient import multipart
from noticebot.config import Settings
from noticebot.entrypoints.sample_board import seed_sample_board
from noticebot.entrypoints.local_stack import local_stack
from noticebot.entrypoints.server import LocalServer

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    container = local_stack(Settings(data_dir=tmp_path_factory.mktemp("data")),
                            start_worker=True)
    server = LocalServer(container, "127.0.0.1", 0).start()
    seed_sample_board(container, "demo", "dev-editor")
    yield container, server.url
    server.stop()
    container.queue.stop()


def call(url, method="GET", token=None, body=None, content_type="application/json"):
    headers = {"Content-Type": content_type} if body is not None else {}
    headers["Origin"] = "http://localhost:8081"  # as the web build of the app sends
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None, resp.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), err.headers


def wait_indexed(base, token, document_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, doc, _ = call(f"{base}/api/documents/{document_id}", token=token)
        if doc["status"] in ("indexed", "failed"):
            return doc
        time.sleep(0.2)
    raise AssertionError(f"document {document_id} still {doc['status']}")


def upload(base, token, path: Path):
    body, ctype = multipart({"metadata": json.dumps({"title": path.stem})},
                            {"file": (path.name, path.read_bytes(), "application/octet-stream")})
    status, out, _ = call(f"{base}/api/upload", "POST", token, body, ctype)
    assert status == 202, out
    return out["document_id"]


def test_sample_board_is_answered_with_citations(stack):
    container, base = stack
    token = container.auth.issue("sam", "demo")  # a member
    for doc in container.metadata.list_documents("demo", source="upload"):
        assert wait_indexed(base, token, doc.document_id)["status"] == "indexed"
    status, hits, headers = call(f"{base}/api/search", "POST", token,
                                 {"query": "How much does a locker cost?", "top_k": 3})
    assert status == 200
    assert headers.get("Access-Control-Allow-Origin") == "*"
    assert "30 EUR" in hits["results"][0]["snippet"]

    status, answer, _ = call(f"{base}/api/chat", "POST", token,
                             {"query": "When is the summer party?"})
    assert status == 200 and answer["grounded"] is True
    assert answer["answer"].strip()
    assert any(c["title"].startswith("Summer party") for c in answer["citations"])
    assert answer["usage"]["completion_tokens"] > 0


def test_tokens_are_verified_like_the_cognito_authorizer(stack):
    container, base = stack
    assert call(f"{base}/api/notices")[0] == 401
    assert call(f"{base}/api/notices", token="forged.token.here")[0] == 401
    assert call(f"{base}/api/health")[0] == 200


@pytest.mark.corpus
def test_corrupt_and_encrypted_pdfs_fail_with_reasons(stack, tmp_path):
    if not CORPUS.exists():
        pytest.skip("../shared/corpus not present")
    container, base = stack
    token = container.auth.issue("dev-editor", "demo", editor=True)
    encrypted = wait_indexed(base, token, upload(base, token, CORPUS / "pypdf/encryption/r2-user-password.pdf"))
    assert encrypted["status"] == "failed" and "password" in encrypted["error"].lower()
    # a download cut short: the first 400 bytes of a real PDF
    truncated = tmp_path / "crazyones-truncated.pdf"
    truncated.write_bytes((CORPUS / "pypdf/crazyones.pdf").read_bytes()[:400])
    corrupt = wait_indexed(base, token, upload(base, token, truncated))
    assert corrupt["status"] == "failed" and corrupt["error"]
    opens = wait_indexed(base, token, upload(base, token, CORPUS / "pypdf/encryption/r2-empty-password.pdf"))
    assert opens["status"] == "indexed" and opens["chunk_count"] > 0 and opens["page_count"] >= 1
