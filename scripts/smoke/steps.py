"""The smoke steps: the product's HTTP API with a bearer token, as the app on a phone uses it.

upload (presigned POST straight to S3) -> ingest (poll until indexed) -> search -> chat (with
citations) -> fine-tune -> adapter (training done, version deployed) -> chat with the adapter.
Each step returns a one-line detail or raises ``StepFailed`` saying what it expected. Nothing
here knows which AWS answers: the target gives the API's URL, the token and how long to wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from smoke import documents
from smoke.report import Run, StepFailed


@dataclass(frozen=True)
class Waits:
    """How long each wait may take (seconds): a dry run's are short, a real stage's are the
    ingest function's cold start, the endpoint scaling from zero, a (spot) training job and
    an adapter component coming InService."""
    poll_s: float = 0.2
    ingest_s: float = 60
    model_s: float = 30  # a chat answered 503 (no model copy yet) is retried this long
    training_s: float = 120
    adapter_s: float = 30  # a chat the adapter did not answer (still loading) is retried


REAL_WAITS = Waits(poll_s=10, ingest_s=15 * 60, model_s=30 * 60, training_s=90 * 60,
                   adapter_s=30 * 60)
# Small on purpose: a smoke fine-tune proves the path, not the model.
FINE_TUNE_PARAMETERS = {"epochs": 1, "max_steps": 10, "lora_r": 8, "max_seq_length": 256}


class Target(Protocol):
    api_url: str  # ends in /api
    token: str
    waits: Waits

    def expect_answer(self, text: str) -> None:
        """What the model should say next (a dry run queues it; a real endpoint ignores)."""


class Api:
    def __init__(self, base_url: str, token: str, timeout_s: float = 60):
        import requests

        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.timeout_s = timeout_s

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        response = self.http.request(method, self.base + path, json=body, timeout=self.timeout_s)
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = {"raw": response.text[:300]}
        return response.status_code, payload


def expect(status: int, body: dict, wanted: int, what: str) -> dict:
    if status != wanted:
        error = body.get("error") if isinstance(body, dict) else None
        raise StepFailed(f"{what}: expected HTTP {wanted}, got {status} "
                         f"{(error or body)!s:.300}")
    return body


@dataclass
class SmokeState:
    """What the steps hand each other."""
    documents: dict[str, str] = field(default_factory=dict)  # document id -> filename
    conversation_id: str = ""
    job_id: str = ""
    model_id: str = ""


def poll(until: Callable[[], object], timeout_s: float, interval_s: float,
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic):
    """``until()``'s first truthy value; None when ``timeout_s`` passes first."""
    deadline = clock() + timeout_s
    while True:
        value = until()
        if value:
            return value
        if clock() >= deadline:
            return None
        sleep(interval_s)


class SmokeSteps:
    def __init__(self, target: Target, api: Api | None = None):
        self.target = target
        self.api = api or Api(target.api_url, target.token)
        self.waits = target.waits
        self.state = SmokeState()

    def run(self, run: Run) -> Run:
        for name, action in (("upload", self.upload), ("ingest", self.ingest),
                             ("search", self.search), ("chat", self.chat),
                             ("fine-tune", self.fine_tune), ("adapter", self.adapter),
                             ("chat with adapter", self.chat_with_adapter)):
            run.step(name, action)
        return run

    # ------------------------------------------------------------------ steps
    def upload(self) -> str:
        import requests

        for name, data, content_type in (
                (documents.HANDBOOK_NAME, documents.HANDBOOK, "text/markdown"),
                (documents.FAQ_NAME, documents.faq_csv(), "text/csv")):
            body = expect(*self.api.call("POST", "/uploads", {
                "filename": name, "content_type": content_type, "size_bytes": len(data)}),
                201, f"POST /uploads ({name})")
            form = body["upload"]
            if not form.get("direct"):
                raise StepFailed("the upload form is not a presigned S3 POST (is the API in "
                                 "aws mode?)")
            sent = requests.post(form["url"], data=form["fields"], timeout=120,
                                 files={form["file_field"]: (name, data, content_type)})
            if sent.status_code not in (200, 201, 204):
                raise StepFailed(f"S3 refused the presigned POST of {name}: "
                                 f"{sent.status_code} {sent.text[:300]}")
            self.state.documents[body["document_id"]] = name
        return f"{len(self.state.documents)} files POSTed straight to S3 with presigned forms"

    def ingest(self) -> str:
        chunks: dict[str, int] = {}

        def all_indexed():
            for doc_id, name in self.state.documents.items():
                if doc_id in chunks:
                    continue
                doc = expect(*self.api.call("GET", f"/documents/{doc_id}"), 200,
                             f"GET /documents/{doc_id}")
                if doc["status"] == "failed":
                    raise StepFailed(f"{name} failed to ingest: {doc.get('error')}")
                if doc["status"] == "indexed":
                    chunks[doc_id] = doc["chunk_count"]
            return len(chunks) == len(self.state.documents)

        if not poll(all_indexed, self.waits.ingest_s, self.waits.poll_s):
            waiting = [n for d, n in self.state.documents.items() if d not in chunks]
            raise StepFailed(f"not indexed after {self.waits.ingest_s:g} s: {waiting}")
        return "indexed: " + ", ".join(f"{self.state.documents[d]} ({n} chunks)"
                                       for d, n in chunks.items())

    def search(self) -> str:
        body = expect(*self.api.call("POST", "/search", {"query": documents.SEARCH_QUERY}),
                      200, "POST /search")
        found = [r["document_id"] for r in body["results"]]
        if not set(found) & set(self.state.documents):
            raise StepFailed(f"no uploaded document among the results ({found})")
        return f"{len(found)} results, the first from {self.state.documents.get(found[0], '?')}"

    def chat(self) -> str:
        answer = self._chat({"query": documents.QUESTION}, documents.ANSWER,
                            self.waits.model_s, lambda a: True)
        self.state.conversation_id = answer["conversation_id"]
        return self._describe(answer)

    def fine_tune(self) -> str:
        body = expect(*self.api.call("POST", "/fine-tune",
                                     {"parameters": FINE_TUNE_PARAMETERS}),
                      202, "POST /fine-tune")
        self.state.job_id = body["job_id"]
        dataset = body.get("dataset", {})
        return (f"job {body['job_id'][:8]} {body['status']}: dataset of "
                f"{dataset.get('train', '?')} train / {dataset.get('validation', '?')} "
                "validation examples")

    def adapter(self) -> str:
        def finished():
            job = expect(*self.api.call("GET", f"/fine-tune/{self.state.job_id}"), 200,
                         "GET /fine-tune/{job}")
            if job["status"] in ("failed", "stopped"):
                raise StepFailed(f"the fine-tune {job['status']}: {job.get('error')}")
            return job if job["status"] == "completed" else None

        job = poll(finished, self.waits.training_s, self.waits.poll_s)
        if job is None:
            raise StepFailed(f"the fine-tune did not complete in {self.waits.training_s:g} s")
        models = expect(*self.api.call("GET", "/models"), 200, "GET /models")["models"]
        version = next((m for m in models if m["model_id"] == job["model_id"]), None)
        if version is None or version["status"] != "available":
            raise StepFailed(f"model {job['model_id']} is not available: {version}")
        self.state.model_id = version["model_id"]
        losses = ", ".join(f"{k} {v:.3f}" for k, v in sorted(version["metrics"].items())
                           if k.endswith("loss"))
        return (f"{version['model_id']} ({version['name']}) available, "
                f"{'active' if version['active'] else 'not active'}; {losses or 'no losses'}")

    def chat_with_adapter(self) -> str:
        model_id = self.state.model_id
        answer = self._chat({"query": documents.QUESTION, "model": model_id},
                            documents.ANSWER, self.waits.adapter_s,
                            lambda a: a["model"] == model_id and not a.get("warning"))
        return self._describe(answer)

    # ----------------------------------------------------------------- helpers
    def _chat(self, request: dict, expected: str, wait_s: float, answered_as_asked) -> dict:
        """POST /chat until it answers as asked: a 503 (no model copy yet) and an answer
        from another model than the one asked for (the adapter still loading) are retried
        until ``wait_s`` has passed."""
        last: list = []

        def attempt():
            self.target.expect_answer(expected)
            status, body = self.api.call("POST", "/chat", request)
            last[:] = [status, body]
            if status == 503:
                return None
            answer = expect(status, body, 200, "POST /chat")
            return answer if answered_as_asked(answer) else None

        answer = poll(attempt, wait_s, self.waits.poll_s)
        if answer is None:
            status, body = last
            raise StepFailed(f"no answer as asked in {wait_s:g} s; last: HTTP {status} "
                             f"model={body.get('model')} warning={body.get('warning')} "
                             f"error={body.get('error')}")
        if not answer["answer"].strip():
            raise StepFailed("the answer is empty")
        cited = {c["document_id"] for c in answer["citations"]}
        if not cited & set(self.state.documents):
            raise StepFailed(f"no citation of an uploaded document: {answer['citations']}")
        return answer

    def _describe(self, answer: dict) -> str:
        names = sorted({self.state.documents.get(c["document_id"], "?")
                        for c in answer["citations"]})
        return (f"model {answer['model']}, support {answer['support']}, cites "
                f"{', '.join(names)}: {answer['answer'][:60]!r}")
