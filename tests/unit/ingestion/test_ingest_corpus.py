"""Every PDF, HTML, text and Markdown file of the shared corpus ends indexed or failed clearly.

A user will upload files like these; each must either give non-empty sections or raise
UnreadableDocument with a message, never another exception and never a hang. Tags in the
manifest (encrypted, no-text-layer, zero-byte) pin the expected outcome where one is known.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import re
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import chunk_sections, parse_document

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
EXTENSIONS = {".pdf", ".html", ".htm", ".txt", ".md"}
MIME_TYPES = {"application/pdf", "text/html", "text/plain", "text/markdown"}
PER_FILE_SECONDS = 20
HAS_AES = any(importlib.util.find_spec(m) for m in ("cryptography", "Crypto"))


def _rows() -> list[dict[str, str]]:
    manifest = CORPUS / "MANIFEST.csv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle)
                if Path(row["path"]).suffix.lower() in EXTENSIONS or row["mime"] in MIME_TYPES]


ROWS = _rows()


@contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging (SIGALRM works only in the main thread on Unix)."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"parsing took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _expected_failure(tags: str) -> str | None:
    """Regex the failure message must match, from the manifest tags; None when it may parse."""
    if "zero-byte" in tags:
        return r"^file is empty \(0 bytes\)$"
    if "no-text-layer" in tags:
        return r"^no extractable text \(scanned PDF without a text layer\?\)$"
    if "encrypted; password=" in tags:
        return r"^(password protected PDF|encrypted PDF): "
    return None


@pytest.mark.skipif(not ROWS, reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("row", ROWS, ids=[row["path"] for row in ROWS])
def test_corpus_file_is_indexed_or_fails_clearly(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    data = path.read_bytes()
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files are expected here
    started = time.monotonic()
    try:
        with _deadline(PER_FILE_SECONDS):
            doc = parse_document(data, path.name, row["mime"] or None)
    except UnreadableDocument as exc:
        doc, failure = None, exc.message
    assert time.monotonic() - started < PER_FILE_SECONDS

    tags = row["tags"]
    expected = _expected_failure(tags)
    if doc is None:
        assert failure.strip()
        if expected:
            assert re.match(expected, failure), failure
        elif "encrypted (opens with empty user pw)" in tags:
            assert not HAS_AES and "AES" in failure, failure  # only AES may stop these
        return

    assert expected is None, f"should have failed ({tags})"
    assert doc.sections and all(s.text.strip() for s in doc.sections)
    if doc.page_count is not None:
        pages = [s.page for s in doc.sections]
        assert all(1 <= p <= doc.page_count for p in pages) and pages == sorted(pages)
    chunks = chunk_sections(doc.sections, lambda text: len(text.split()), 200, 40)
    assert chunks and all(len(c.text.split()) <= 200 for c in chunks)
