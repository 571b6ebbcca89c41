"""The product under test: bootstrap() with the real local adapters, and the ingest runs.

The only thing between the product and its embedder is ``BenchEmbedder``, a transparent
proxy around the real OnnxEmbedder that (1) times what ingest spends embedding and counting
tokens, (2) can record the (text, vector) pairs ingest produced, reused as the real text and
vectors of the latency index, and (3) can memoise query vectors during the quality runs, where
the same question is searched in several modes (the embedder is deterministic, batch size 1,
so a memoised vector is bit-identical; end-to-end latency is measured with the cache off).
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.data import CORPUS_DIR, Dataset, manifest_tags

from noticebot.config import Settings
from noticebot.domain.models import DocumentStatus, Principal
from noticebot.entrypoints.local_stack import local_stack
from noticebot.ports.embedder import Embedder
from noticebot.services.documents import UploadOutcome
from noticebot.services.ingest import EMBED_BATCH

POOLED_WS = "bench-pooled"
PDF_WS = "bench-pdfs"
Log = Callable[[str], None]


class BenchEmbedder(Embedder):
    def __init__(self, inner: Embedder):
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens
        self.cache_queries = False
        self.record = False
        self.recorded: list[tuple[str, np.ndarray]] = []
        self._qcache: dict[str, np.ndarray] = {}
        self.reset_counters()

    def reset_counters(self) -> None:
        self.doc_seconds = self.token_seconds = 0.0
        self.doc_texts = self.token_calls = 0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        vectors = self.inner.embed_documents(texts)
        self.doc_seconds += time.perf_counter() - start
        self.doc_texts += len(texts)
        if self.record:
            self.recorded.extend(zip(texts, vectors))
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        if self.cache_queries and text in self._qcache:
            return self._qcache[text].copy()
        vector = self.inner.embed_query(text)
        if self.cache_queries:
            self._qcache[text] = vector.copy()
        return vector

    def count_tokens(self, text: str) -> int:
        start = time.perf_counter()
        try:
            return self.inner.count_tokens(text)
        finally:
            self.token_seconds += time.perf_counter() - start
            self.token_calls += 1


def build_container(data_dir: Path, log: Log):
    """A fresh data folder and the local stack on it as the CLI builds it, its queue
    delivering to the ingest Lambda handler (the S3 -> SQS -> handler path)."""
    from noticebot.adapters.local.onnx_embedder import OnnxEmbedder

    if data_dir.exists():
        shutil.rmtree(data_dir)  # re-uploads would be deduplicated, not re-ingested
    embedder = BenchEmbedder(OnnxEmbedder())
    container = local_stack(Settings(data_dir=data_dir), embedder=embedder)
    log(f"local stack ok: data={data_dir} embedder={embedder.model_id} "
        f"chat={getattr(container.chat_model, 'model_id', '?')}")
    return container, embedder


def editor(workspace: str) -> Principal:
    return Principal(user_id="bench-editor", workspace_id=workspace, is_editor=True)


def _filename(cid: str) -> str:
    return f"{cid}.txt".replace("/", "_")


def ingest_passages(container, embedder: BenchEmbedder, datasets: dict[str, list[dict]],
                    log: Log, batch: int = 250, workspace: str = POOLED_WS) -> tuple[dict[str, str], dict]:
    """Uploads every passage as a .txt document (title = passage title; an empty title falls
    back to the filename as for any untitled upload) and drains the queue after each batch.
    Returns ({(dataset, corpus id) key "ds/cid": document_id}, stats)."""
    principal = editor(workspace)
    items = [(name, row) for name, rows in datasets.items() for row in rows]
    id_map: dict[str, str] = {}
    embedder.reset_counters()
    embedder.record = True
    upload_s = drain_s = 0.0
    created = 0
    for start in range(0, len(items), batch):
        t0 = time.perf_counter()
        for name, row in items[start : start + batch]:
            doc, outcome = container.documents.upload(
                principal, _filename(row["_id"]), row["text"].encode("utf-8"), "text/plain",
                metadata={"dataset": name, "corpus_id": row["_id"]}, title=row.get("title") or None,
            )
            id_map[f"{name}/{row['_id']}"] = doc.document_id
            created += outcome is UploadOutcome.CREATED
        t1 = time.perf_counter()
        container.queue.drain()
        t2 = time.perf_counter()
        upload_s += t1 - t0
        drain_s += t2 - t1
        done = min(start + batch, len(items))
        log(f"  ingested {done}/{len(items)} passages ({done / (upload_s + drain_s):.1f}/s, "
            f"{embedder.doc_texts} chunks)")
    embedder.record = False
    docs = container.metadata.list_documents(workspace)
    statuses = {s.value: sum(d.status == s for d in docs) for s in DocumentStatus}
    wall = upload_s + drain_s
    chunks = sum(d.chunk_count for d in docs)
    stats = {
        "passages": len(items), "documents_created": created,
        "duplicates_deduplicated": len(items) - created, "statuses": statuses,
        "failed": [(d.title, d.error) for d in docs if d.status == DocumentStatus.FAILED][:10],
        "dead_letters": len(container.queue.messages.dead_letters()),
        "chunks": chunks, "index_count": container.index.count(workspace),
        "wall_s": round(wall, 2), "upload_s": round(upload_s, 2), "drain_s": round(drain_s, 2),
        "passages_per_s": round(len(items) / wall, 2), "chunks_per_s": round(chunks / wall, 2),
        "embed_s": round(embedder.doc_seconds, 2), "count_tokens_s": round(embedder.token_seconds, 2),
        "other_s": round(wall - embedder.doc_seconds - embedder.token_seconds, 2),
        "embedded_texts": embedder.doc_texts,
    }
    return id_map, stats


def ingest_pdfs(container, paths: Sequence[str], log: Log) -> dict:
    """Each PDF uploaded and drained on its own, in a separate workspace."""
    principal = editor(PDF_WS)
    tags = manifest_tags()
    files = []
    for rel in paths:
        tag = tags.get(rel, "")
        if "encrypt" in tag or "no-text-layer" in tag:
            continue
        data = (CORPUS_DIR / rel).read_bytes()
        t0 = time.perf_counter()
        doc, _ = container.documents.upload(principal, Path(rel).name, data, "application/pdf")
        container.queue.drain()
        took = time.perf_counter() - t0
        doc = container.metadata.get_document(PDF_WS, doc.document_id)
        files.append({"path": rel, "bytes": len(data), "status": doc.status.value,
                      "pages": doc.page_count or 0, "chunks": doc.chunk_count,
                      "seconds": round(took, 2), "error": doc.error})
        log(f"  pdf {rel}: {doc.status.value}, {doc.page_count} pages, {doc.chunk_count} chunks, "
            f"{took:.2f}s")
    ok = [f for f in files if f["status"] == "indexed"]
    pages, secs = sum(f["pages"] for f in ok), sum(f["seconds"] for f in ok)
    return {"files": files, "pages": pages, "seconds": round(secs, 2),
            "chunks": sum(f["chunks"] for f in ok),
            "pages_per_s": round(pages / secs, 2) if secs else None}


def embedding_throughput(embedder: BenchEmbedder, texts: list[str], n: int, seed: int,
                         log: Log) -> dict:
    """embed_documents on n real passages in ingest-sized batches, after a warm-up."""
    picked = random.Random(seed).sample(texts, min(n, len(texts)))
    embedder.inner.embed_documents(picked[:8])  # warm-up: session and tokenizer loaded
    start = time.perf_counter()
    for s in range(0, len(picked), EMBED_BATCH):
        embedder.inner.embed_documents(picked[s : s + EMBED_BATCH])
    took = time.perf_counter() - start
    tokens = [min(embedder.inner.count_tokens(t) + 2, embedder.max_tokens) for t in picked]
    log(f"  embedded {len(picked)} passages in {took:.1f}s")
    return {"passages": len(picked), "batch": EMBED_BATCH, "seconds": round(took, 2),
            "passages_per_s": round(len(picked) / took, 2),
            "mean_tokens_seen": round(sum(tokens) / len(tokens), 1),
            "truncated_share": round(sum(t >= embedder.max_tokens for t in tokens) / len(tokens), 3),
            "tokens_per_s": round(sum(tokens) / took)}


def corpus_texts(datasets: dict[str, Dataset | list[dict]]) -> list[str]:
    out = []
    for rows in datasets.values():
        out.extend(r["text"] for r in (rows.corpus if isinstance(rows, Dataset) else rows))
    return out
