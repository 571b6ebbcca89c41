"""Hand-written fakes for the ports: deterministic, fast, no models, no network."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np

from noticebot.domain.errors import Conflict
from noticebot.domain.models import Chunk, Message, SearchHit
from noticebot.ports import (ChatModel, Completion, Embedder, GenerationParams, Reranker, SearchQuery,
                             VectorIndex)
from noticebot.ports.identity_directory import IdentityDirectory, Invitee

WORD = re.compile(r"[a-z0-9]+")
STOP = {"the", "a", "an", "is", "are", "of", "to", "in", "on", "and", "or", "for", "what", "when",
        "who", "how", "does", "do", "at", "by", "be", "it", "this", "that", "with", "our", "from"}


def content_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOP]


class FakeEmbedder(Embedder):
    """Hashed bag of words: texts sharing content words get close vectors."""

    model_id = "fake-hash-embedder"
    dimension = 64
    max_tokens = 256

    def __init__(self):
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for w in content_words(text):
            h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little")
            v[h % self.dimension] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class FakeChatModel(ChatModel):
    """Answers with the first sentence of source [1], citing it; records the prompts."""

    model_id = "fake-chat"

    def __init__(self):
        self.requests: list[list[Message]] = []

    def generate(self, messages, params: GenerationParams, adapter=None) -> Completion:
        self.requests.append(list(messages))
        user = messages[-1].content
        m = re.search(r"\[1\][^\n]*\n(.+?)(?:\n|$)", user)
        first = m.group(1).split(". ")[0].strip() if m else "I don't know"
        return Completion(text=f"{first} [1]", model=self.model_id,
                          prompt_tokens=sum(len(x.content.split()) for x in messages),
                          completion_tokens=len(first.split()) + 1)

    def stream(self, messages, params, adapter=None) -> Iterator[str]:
        text = self.generate(messages, params, adapter).text
        yield from (w + " " for w in text.split())


class FakeVectorIndex(VectorIndex):
    """In-memory, brute force: lexical overlap as 'bm25', dot product as 'dense'."""

    def __init__(self):
        self._chunks: dict[str, dict[str, Chunk]] = {}
        self._lock = threading.Lock()

    def upsert(self, workspace_id: str, chunks: Sequence[Chunk]) -> None:
        with self._lock:
            space = self._chunks.setdefault(workspace_id, {})
            for c in chunks:
                space[c.chunk_id] = c

    def delete_document(self, workspace_id: str, document_id: str) -> int:
        with self._lock:
            space = self._chunks.get(workspace_id, {})
            doomed = [k for k, c in space.items() if c.document_id == document_id]
            for k in doomed:
                del space[k]
            return len(doomed)

    def count(self, workspace_id: str) -> int:
        return len(self._chunks.get(workspace_id, {}))

    def chunks(self, workspace_id: str, limit: int = 5000) -> list[Chunk]:
        found = sorted(self._chunks.get(workspace_id, {}).values(),
                       key=lambda c: (c.document_id, c.ordinal, c.chunk_id))
        return [replace(c, vector=None) for c in found[:limit]]

    def search(self, workspace_id: str, query: SearchQuery) -> list[SearchHit]:
        terms = set(content_words(query.text))
        hits = []
        for c in list(self._chunks.get(workspace_id, {}).values()):
            if query.now and c.expires_at and c.expires_at <= query.now:
                continue
            if query.document_ids and c.document_id not in query.document_ids:
                continue
            lexical = float(len(terms & set(content_words(f"{c.title} {c.text}"))))
            dense = float(np.dot(np.asarray(c.vector), query.vector)) if query.vector is not None else 0.0
            score = {"bm25": lexical, "dense": dense}.get(query.mode, lexical + dense)
            if query.mode == "bm25" and lexical == 0:
                continue
            hits.append(SearchHit(chunk=c, score=score, bm25_score=lexical, dense_score=dense))
        hits.sort(key=lambda h: (-h.score, h.chunk.chunk_id))
        return hits[: query.top_k]


class FakeReranker(Reranker):
    """Scores a passage by the share of its content words that are the query's: a short
    passage about the question beats a long one that mentions it in passing, which is what
    a cross-encoder does and fused lexical scores do not. Records each call; raises
    ``failure`` when one is set."""

    model_id = "fake-reranker"

    def __init__(self, failure: Exception | None = None):
        self.failure = failure
        self.calls: list[tuple[str, int]] = []

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        self.calls.append((query, len(passages)))
        if self.failure is not None:
            raise self.failure
        terms = set(content_words(query))
        scores = []
        for text in passages:
            words = content_words(text)
            scores.append(sum(w in terms for w in words) / len(words) if words else 0.0)
        return scores


def dead_process():
    """The identity of a process that has exited and been reaped: a queue receiver that
    crashed. (Its pid could be reused one day; its start time would then differ.)"""
    import socket
    import subprocess
    import sys

    from noticebot.adapters.local.process_liveness import ProcessIdentity

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return ProcessIdentity(host=socket.gethostname(), pid=child.pid, started="1")


class FakeIdentityDirectory(IdentityDirectory):
    """The identity provider as a list of the calls made to it. An invitee's user id is
    ``u-<local part>``; ``fail`` (an exception) makes every call raise it; ``existing`` maps an
    address to the workspace of an account it already has (invite answers 409 there)."""

    passwords = False

    def __init__(self, fail: Exception | None = None):
        self.calls: list[tuple] = []
        self.fail = fail
        self.existing: dict[str, str] = {}

    def _record(self, *call) -> None:
        self.calls.append(call)
        if self.fail is not None:
            raise self.fail

    def invite(self, workspace_id, email, role, *, invitation_id, expires_at) -> Invitee:
        self._record("invite", workspace_id, email, role.value)
        if email in self.existing:
            raise Conflict(f"{email} already has an account in {self.existing[email]}")
        self.existing[email] = workspace_id
        return Invitee(user_id=f"u-{email.split('@')[0]}", code=None)

    def cancel_invitation(self, user_id) -> None:
        self._record("cancel", user_id)

    def set_role(self, user_id, role) -> None:
        self._record("set_role", user_id, role.value)

    def disable(self, user_id) -> None:
        self._record("disable", user_id)

    def sign_out(self, claims) -> None:
        self._record("sign_out", claims.get("sub"))


class FakeNotifier:
    """The Notifier port in memory: records each send; answers ``ok`` tickets unless a token
    is listed in ``gone`` (DeviceNotRegistered), or raises ``fail`` when set. Receipts: a
    token in ``gone_later`` got an ok ticket whose receipt says DeviceNotRegistered."""

    has_receipts = True

    def __init__(self, gone: set[str] | None = None, fail: Exception | None = None,
                 gone_later: set[str] | None = None):
        self.sent: list[list] = []
        self.gone = gone or set()
        self.gone_later = gone_later or set()
        self.fail = fail
        self.ticketed: dict[str, str] = {}  # ticket id -> token
        self.receipt_requests: list[list[str]] = []

    def receipts(self, ticket_ids):
        from noticebot.domain.notifications import PushTicket

        if self.fail is not None:
            raise self.fail
        self.receipt_requests.append(list(ticket_ids))
        return {i: PushTicket(status="error", error="DeviceNotRegistered")
                if self.ticketed[i] in self.gone_later else PushTicket(status="ok")
                for i in ticket_ids if i in self.ticketed}

    def send(self, messages):
        from noticebot.domain.notifications import PushTicket

        if self.fail is not None:
            raise self.fail
        self.sent.append(list(messages))
        tickets = []
        for m in messages:
            if m.to in self.gone:
                tickets.append(PushTicket(status="error", message="not registered",
                                          error="DeviceNotRegistered"))
                continue
            ticket_id = f"t-{len(self.ticketed)}"
            self.ticketed[ticket_id] = m.to
            tickets.append(PushTicket(status="ok", id=ticket_id))
        return tickets

    @property
    def messages(self) -> list:
        return [m for batch in self.sent for m in batch]


class RecordingNoticeEvents:
    """The NoticeEvents port in memory: what was published, in order, and the receipt checks
    queued with their delays."""

    def __init__(self, fail: Exception | None = None):
        self.published: list = []
        self.receipt_checks: list = []
        self.fail = fail

    def publish(self, event) -> None:
        if self.fail is not None:
            raise self.fail
        self.published.append(event)

    def check_receipts_later(self, check, delay_s) -> None:
        if self.fail is not None:
            raise self.fail
        self.receipt_checks.append((check, delay_s))
