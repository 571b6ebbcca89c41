"""Latency / throughput benchmark of EmbeddedHybridIndex on synthetic workspaces.

    .venv/bin/python bench/index_latency.py [--sizes 10000 100000] [--queries 200] [--k 5]

Builds a workspace per size from random unit vectors (384-d) and ~120-word texts drawn
from a Zipfian vocabulary of 30k pseudo-words, then prints one JSON dict with upsert
throughput, restart (rebuild-from-SQLite) time, memory and p50/p95 search latency for
hybrid, bm25 and dense. ``measure_latency`` is reusable by the project benchmark.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import string
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lambdas"))

from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex  # noqa: E402
from noticebot.domain.models import Chunk  # noqa: E402
from noticebot.ports.vector_index import SearchQuery  # noqa: E402

DIM = 384
VOCAB = 30_000
WORDS_PER_CHUNK = 120
WORKSPACE = "bench-ws"


def measure_latency(
    index,
    workspace: str,
    queries: Sequence[SearchQuery | tuple[str, np.ndarray]],
    k: int,
    modes: Sequence[str] = ("hybrid", "bm25", "dense"),
    warmup: int = 5,
) -> dict[str, dict[str, float]]:
    """Search latency per mode over ``queries`` (SearchQuery or (text, vector) pairs).

    Each query's mode and top_k are overridden; the first ``warmup`` queries run
    unmeasured. Returns {mode: {p50_ms, p95_ms, mean_ms, max_ms, cpu_p50_ms, cpu_p95_ms, n}};
    the cpu_* figures (process CPU time) separate our cost from other load on the machine.
    """
    base = [q if isinstance(q, SearchQuery) else SearchQuery(text=q[0], vector=q[1]) for q in queries]
    out = {}
    for mode in modes:
        runs = [dataclasses.replace(q, mode=mode, top_k=k) for q in base]
        for q in runs[:warmup]:
            index.search(workspace, q)
        times, cpu = [], []
        for q in runs:
            start, start_cpu = time.perf_counter(), time.process_time()
            index.search(workspace, q)
            times.append((time.perf_counter() - start) * 1000.0)
            cpu.append((time.process_time() - start_cpu) * 1000.0)
        t, c = np.asarray(times), np.asarray(cpu)
        out[mode] = {
            "p50_ms": round(float(np.percentile(t, 50)), 2),
            "p95_ms": round(float(np.percentile(t, 95)), 2),
            "mean_ms": round(float(t.mean()), 2),
            "max_ms": round(float(t.max()), 2),
            "cpu_p50_ms": round(float(np.percentile(c, 50)), 2),
            "cpu_p95_ms": round(float(np.percentile(c, 95)), 2),
            "n": len(t),
        }
    return out


def synthetic_corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    letters = np.array(list(string.ascii_lowercase))
    lengths = rng.integers(4, 11, VOCAB)
    # "q" prefix: pseudo-words never collide with stop words or stem into each other much.
    vocab = np.array(["q" + "".join(rng.choice(letters, ln)) for ln in lengths])
    p = 1.0 / np.arange(1, VOCAB + 1)
    words = vocab[rng.choice(VOCAB, size=(n, WORDS_PER_CHUNK), p=p / p.sum())]
    texts = [" ".join(row) for row in words]
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return texts, vectors


def make_queries(texts, vectors, count: int, seed: int = 1) -> list[SearchQuery]:
    """Query text = 3-8 words of a random chunk (Zipf mix: frequent words have long postings,
    the worst case for BM25); vector = that chunk's vector plus noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.integers(0, len(texts), count):
        words = texts[i].split()
        picked = rng.choice(len(words), rng.integers(3, 9), replace=False)
        vec = vectors[i] + rng.standard_normal(DIM).astype(np.float32) * 0.05
        out.append(SearchQuery(text=" ".join(words[j] for j in picked), vector=vec / np.linalg.norm(vec)))
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def bench_size(n: int, n_queries: int, k: int, batch: int) -> dict:
    texts, vectors = synthetic_corpus(n)
    chunks = [
        Chunk(chunk_id=f"c{i}", document_id=f"d{i // 20}", ordinal=i % 20, text=t,
              title=f"Document {i // 20}", vector=vectors[i])
        for i, t in enumerate(texts)
    ]
    result: dict = {"chunks": n}
    with tempfile.TemporaryDirectory() as tmp:
        rss0 = rss_mb()
        index = EmbeddedHybridIndex(tmp)
        index.upsert(WORKSPACE, chunks[:batch])
        index.search(WORKSPACE, SearchQuery("warm", vector=vectors[0], mode="bm25"))  # load segment
        start = time.perf_counter()
        for s in range(batch, n, batch):
            index.upsert(WORKSPACE, chunks[s : s + batch])  # SQLite + live segment, like ingest
        took = time.perf_counter() - start
        result["upsert_chunks_per_s"] = round((n - batch) / took)
        result["upsert_batch"] = batch
        result["rss_after_build_mb"] = round(rss_mb() - rss0)
        queries = make_queries(texts, vectors, n_queries)
        result["latency"] = measure_latency(index, WORKSPACE, queries, k)
        start = time.perf_counter()  # re-ingest one 20-chunk document: tombstone + append
        index.upsert(WORKSPACE, chunks[:20])
        result["reupsert_document_ms"] = round((time.perf_counter() - start) * 1000, 2)
        index.close()
        del index
        restarted = EmbeddedHybridIndex(tmp)  # a new process: rebuild the segment from SQLite
        start, start_cpu = time.perf_counter(), time.process_time()
        restarted.search(WORKSPACE, queries[0])
        result["restart_first_search_s"] = round(time.perf_counter() - start, 2)
        result["restart_first_search_cpu_s"] = round(time.process_time() - start_cpu, 2)
        seg = restarted._segments[WORKSPACE]
        postings = sum(a.nbytes for a in seg.bm25._rows) + sum(a.nbytes for a in seg.bm25._tfs)
        result["segment_mb"] = {
            "vectors": round(seg.vectors.nbytes / 2**20),
            "postings": round(postings / 2**20),
            "terms": len(seg.bm25.vocab),
        }
        result["sqlite_mb"] = round(sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20)
        result["latency_after_restart"] = measure_latency(restarted, WORKSPACE, queries, k)
        restarted.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    report = {"cpus": os.cpu_count(), "dim": DIM, "k": args.k, "target": "hybrid p95 < 50 ms at 100k"}
    report["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    for n in args.sizes:
        report[str(n)] = bench_size(n, args.queries, args.k, args.batch)
    report["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
