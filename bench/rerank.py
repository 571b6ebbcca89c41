"""Reranking: what the cross-encoder adds to hybrid retrieval, and what it costs per search.

    .venv/bin/python bench/rerank.py [--max-queries 100] [--lengths 128 256] [--candidates 5 8 12 16 20]

The pooled workspace is built as bench/run.py builds it (every passage uploaded, the queue
drained through the ingest handler). For each question the product's hybrid search returns
its fused candidates once; the cross-encoder then scores the first ``max(candidates)`` of them
one pair at a time, timed, at each input length. A configuration (length, n candidates)
reorders the first n and keeps the rest in fused order, as SearchService does, and its added
latency is the time of its n pairs. Adds the result to bench/report.json as "reranking" and
re-renders bench/report.md (its retrieval section shows it); --out-dir elsewhere for a trial.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.data import DATASETS, load_dataset, sample_queries  # noqa: E402
from bench.metrics import dedupe, mean_scores, percentile, retrieval_scores  # noqa: E402
from bench.retrieval import TOP_K, gold_docs  # noqa: E402

from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder  # noqa: E402
from noticebot.services.search import RERANK_CANDIDATES, SearchService  # noqa: E402

PRODUCT_TOKENS = OnnxCrossEncoder().max_tokens  # constructing it loads nothing

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", flush=True)


def _label(candidates: int, tokens: int) -> str:
    return f"rerank {candidates} @ {tokens} tok"


def _scores(ranked_doc_ids, gold) -> dict:
    s = retrieval_scores(dedupe(ranked_doc_ids), gold)
    return {"ndcg@10": s["ndcg@10"], "recall@5": s["recall@5"]}


def measure(container, embedder, samples, id_map, lengths, candidates) -> dict:
    principal = harness.editor(harness.POOLED_WS)
    fused_search = SearchService(container.index, embedder)  # no reranker: the fused order
    most = max(candidates)
    encoders = {n: OnnxCrossEncoder(max_tokens=n) for n in lengths}
    for enc in encoders.values():
        enc.score("warm up", ["the session and tokenizer load here"])
    out = {}
    for name, queries in samples.items():
        rows = {"hybrid": []}
        added = {}
        for q in queries:
            gold = gold_docs(name, q, id_map)
            fused = fused_search.search(principal, q.text, top_k=max(TOP_K, most), mode="hybrid")
            rows["hybrid"].append(_scores([p.document_id for p in fused[:TOP_K]], gold))
            for n_tok, enc in encoders.items():
                head = fused[:most]
                pair_s, pair_score = [], []
                for p in head:
                    t = time.perf_counter()
                    pair_score.append(enc.score(q.text, [p.text])[0])
                    pair_s.append(time.perf_counter() - t)
                for c in candidates:
                    order = sorted(range(min(c, len(head))), key=lambda i: -pair_score[i])
                    reranked = [fused[i] for i in order] + fused[len(order):]
                    label = _label(c, n_tok)
                    rows.setdefault(label, []).append(
                        _scores([p.document_id for p in reranked[:TOP_K]], gold))
                    added.setdefault(label, []).append(sum(pair_s[:c]))
        res = {}
        for label, r in rows.items():
            summary = mean_scores(r)
            if label in added:
                ms = [1000 * x for x in added[label]]
                summary["added_ms_p50"] = round(percentile(ms, 50), 1)
                summary["added_ms_p95"] = round(percentile(ms, 95), 1)
            res[label] = summary
            log(f"  {name:11s} {label:20s} nDCG@10={summary['ndcg@10']:.3f} "
                f"R@5={summary['recall@5']:.3f} "
                + (f"added p50={summary['added_ms_p50']} p95={summary['added_ms_p95']} ms"
                   if label in added else ""))
        out[name] = {"queries": len(queries), "variants": res}
    return out


def markdown(result: dict) -> list[str]:
    cfg = result["config"]
    chosen = _label(cfg["product_candidates"], cfg["product_tokens"])
    lines = ["### Reranking: hybrid + cross-encoder (bench/rerank.py)", "",
             f"{cfg['max_queries']} seeded questions per set (seed {cfg['seed']}), the pooled "
             f"workspace above; `{cfg['model_id']}` (ONNX, {cfg['threads']} threads, one pair "
             "per run) reorders the first n fused hybrid candidates, the rest keep the fused "
             f"order; nDCG@10 / recall@5 on the top {cfg['top_k']}. *Added*: the reranker's time "
             f"per search, p50 / p95 ms, on this machine ({cfg['machine']}). **{chosen}** is the product's "
             "setting.", ""]
    names = list(result["datasets"])
    labels = list(result["datasets"][names[0]]["variants"])
    lines += ["| variant | " + " | ".join(f"{n} nDCG@10 / R@5 / added ms" for n in names) + " |",
              "|---|" + "---:|" * len(names)]
    for label in labels:
        cells = []
        for n in names:
            v = result["datasets"][n]["variants"][label]
            added = f"{v['added_ms_p50']} / {v['added_ms_p95']}" if "added_ms_p50" in v else "-"
            cells.append(f"{v['ndcg@10']:.3f} / {v['recall@5']:.3f} / {added}")
        name = f"**{label}**" if label == chosen else label
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def record_in_report(results: dict, out_dir: Path) -> list[Path]:
    """The result as report.json's "reranking", and report.md re-rendered from that json."""
    from bench import report

    path = out_dir / "report.json"
    full = json.loads(path.read_text()) if path.exists() else {"config": {}}
    full["reranking"] = results
    path.write_text(json.dumps(full, indent=2, default=str) + "\n", encoding="utf-8")
    md = out_dir / "report.md"
    md.write_text(report.markdown(full), encoding="utf-8")
    return [path, md]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-queries", type=int, default=100)
    ap.add_argument("--lengths", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--candidates", type=int, nargs="+", default=[5, 8, 12, 16, 20])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "data-rerank")
    ap.add_argument("--out-dir", type=Path, default=ROOT / "bench", help="where report.json/md are")
    ap.add_argument("--from-json", type=Path, default=None,
                    help="record a saved bench/out/rerank.json in the report instead of measuring")
    args = ap.parse_args(argv)
    saved = ROOT / "bench" / "out" / "rerank.json"
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        results = measure_all(args)
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(results, indent=2))
    paths = record_in_report(results, args.out_dir)
    log("wrote " + ", ".join(str(p) for p in [saved, *paths]))
    return 0


def measure_all(args) -> dict:
    datasets = {name: load_dataset(name) for name in DATASETS}
    samples = {n: sample_queries(ds.queries, args.max_queries, args.seed) for n, ds in datasets.items()}
    container, embedder = harness.build_container(args.data_dir, log)
    id_map, stats = harness.ingest_passages(container, embedder, {n: ds.corpus for n, ds in datasets.items()}, log)
    log(f"ingested {stats['passages']} passages, {stats['chunks']} chunks")
    embedder.cache_queries = True  # the query vector is not what is timed here
    encoder = OnnxCrossEncoder()
    config = {"max_queries": args.max_queries, "lengths": args.lengths, "candidates": args.candidates,
              "seed": args.seed, "top_k": TOP_K, "model_id": encoder.model_id, "threads": encoder.threads,
              "product_candidates": RERANK_CANDIDATES, "product_tokens": PRODUCT_TOKENS,
              "machine": machine(), "passages": stats["passages"], "chunks": stats["chunks"]}
    return {"config": config,
            "datasets": measure(container, embedder, samples, id_map, args.lengths, args.candidates)}


def machine() -> str:
    import os

    from bench.report import _cpu_model

    return f"{os.cpu_count()} CPUs, {_cpu_model()}"


if __name__ == "__main__":
    sys.exit(main())
