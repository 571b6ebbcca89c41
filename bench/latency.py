"""Search latency: the index alone at 10k / 100k chunks, and end-to-end through the service.

The big workspaces are built by inserting chunks straight into an EmbeddedHybridIndex (the
product's local index): the TEXT is real (the chunks the pooled ingest produced, title line
included, cycled), the VECTORS are the real bge vectors of those chunks for the first copy and
the same vectors plus small Gaussian noise (renormalised) for later copies. Embedding 100k
passages with the real model would take about an hour on two cores; brute-force dense search
costs the same whatever the vector values. Replicated text repeats the real term statistics,
so BM25 posting lists grow as they would with more documents of the same kind.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.harness import POOLED_WS, editor
from bench.index_latency import measure_latency
from bench.metrics import percentile
from noticebot.adapters.local.hybrid_index import EmbeddedHybridIndex
from noticebot.domain.models import Chunk

LAT_WS = "bench-latency"
NOISE = 0.05
BATCH = 256


def _chunks(base: Sequence[tuple[str, np.ndarray]], start: int, stop: int,
            rng: np.random.Generator) -> list[Chunk]:
    out = []
    for i in range(start, stop):
        j, copy = i % len(base), i // len(base)
        text, vec = base[j]
        vec = np.asarray(vec, dtype=np.float32)
        if copy:
            vec = vec + rng.standard_normal(vec.shape[0]).astype(np.float32) * NOISE
            vec /= np.linalg.norm(vec)
        out.append(Chunk(chunk_id=f"c{copy}-{j}", document_id=f"d{copy}-{j // 2}", ordinal=j % 2,
                         text=text, vector=vec))
    return out


def index_latency(base: Sequence[tuple[str, np.ndarray]], queries: list[tuple[str, np.ndarray]],
                  sizes: Sequence[int], k: int, workdir: Path, seed: int,
                  log: Callable[[str], None]) -> dict:
    """Grows one workspace to each size in turn and measures every mode with measure_latency."""
    rng = np.random.default_rng(seed)
    index = EmbeddedHybridIndex(workdir)
    results: dict = {"k": k, "queries": len(queries), "base_chunks": len(base),
                     "vectors": f"real for copy 0, real + N(0, {NOISE}^2) noise for copies",
                     "text": "real pooled-corpus chunks, cycled", "sizes": {}}
    n = 0
    upsert_s = 0.0
    for size in sorted(sizes):
        start = time.perf_counter()
        while n < size:
            stop = min(n + BATCH, size)
            index.upsert(LAT_WS, _chunks(base, n, stop, rng))
            n = stop
        upsert_s += time.perf_counter() - start
        assert index.count(LAT_WS) == size, (index.count(LAT_WS), size)
        lat = measure_latency(index, LAT_WS, queries, k)
        results["sizes"][str(size)] = {"latency": lat, "upsert_chunks_per_s": round(n / upsert_s)}
        log(f"  {size} chunks: " + ", ".join(
            f"{m} p50 {v['p50_ms']} / p95 {v['p95_ms']} ms" for m, v in lat.items()))
    index.close()
    return results


def end_to_end(container, embedder, texts: list[str], log: Callable[[str], None],
               modes: Sequence[str] = ("hybrid", "bm25", "dense"), warmup: int = 3) -> dict:
    """SearchService.search on the pooled workspace with real, uncached query embedding."""
    principal = editor(POOLED_WS)
    embedder.cache_queries = False
    out = {"chunks": container.index.count(POOLED_WS), "queries": len(texts)}
    for mode in modes:
        for t in texts[:warmup]:
            container.search.search(principal, t, top_k=10, mode=mode)
        times = []
        for t in texts:
            start = time.perf_counter()
            container.search.search(principal, t, top_k=10, mode=mode)
            times.append((time.perf_counter() - start) * 1000)
        out[mode] = {"p50_ms": round(percentile(times, 50), 2),
                     "p95_ms": round(percentile(times, 95), 2),
                     "mean_ms": round(sum(times) / len(times), 2)}
        log(f"  end-to-end {mode}: p50 {out[mode]['p50_ms']} / p95 {out[mode]['p95_ms']} ms")
    # The query embedding alone, for the breakdown.
    times = []
    for t in texts:
        start = time.perf_counter()
        embedder.inner.embed_query(t)
        times.append((time.perf_counter() - start) * 1000)
    out["embed_query"] = {"p50_ms": round(percentile(times, 50), 2),
                          "p95_ms": round(percentile(times, 95), 2)}
    return out


def pick_queries(cache: dict[str, np.ndarray], n: int, seed: int) -> list[tuple[str, np.ndarray]]:
    texts = sorted(cache)
    picked = random.Random(seed).sample(texts, min(n, len(texts)))
    return [(t, cache[t]) for t in picked]
