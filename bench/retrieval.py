"""Retrieval quality through SearchService.search on the pooled workspace."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench.data import Dataset, Query, split_dev_test
from bench.harness import POOLED_WS, editor
from bench.metrics import answers_found, dedupe, mean_scores, retrieval_scores

from noticebot.services.search import SearchService

TOP_K = 10
MODES = ("bm25", "dense", "hybrid")
# Hybrid fusion settings passed as SearchQuery.options; "hybrid" above is the product default.
FUSIONS = {
    "convex a=0.3": {"fusion": "convex", "alpha": 0.3},
    "convex a=0.5": {"fusion": "convex", "alpha": 0.5},
    "convex a=0.6": {"fusion": "convex", "alpha": 0.6},
    "convex a=0.7": {"fusion": "convex", "alpha": 0.7},
    "rrf": {"fusion": "rrf"},
}
# The product's default hybrid search with the cross-encoder reordering its candidates.
RERANKED = "hybrid + rerank"


def _variants(reranking: bool) -> list[tuple[str, str, dict | None]]:
    plain = [(m, m, None) for m in MODES] + [(n, "hybrid", o) for n, o in FUSIONS.items()]
    return plain + ([(RERANKED, "hybrid", None)] if reranking else [])


def gold_docs(ds_name: str, q: Query, id_map: dict[str, str]) -> dict[str, float]:
    gold: dict[str, float] = {}
    for cid, grade in q.gold.items():
        doc = id_map.get(f"{ds_name}/{cid}", f"missing:{cid}")  # not ingested: unreachable
        gold[doc] = max(grade, gold.get(doc, 0.0))
    return gold


def evaluate(container, embedder, datasets: dict[str, Dataset], samples: dict[str, list[Query]],
             id_map: dict[str, str], seed: int, log: Callable[[str], None], reranker=None) -> dict:
    """``reranker``: adds the RERANKED variant; every other variant is the fused order, so
    the container's own search (whatever its wiring) is not what they measure."""
    principal = editor(POOLED_WS)
    fused = SearchService(container.index, embedder, container.settings.max_query_chars)
    reranking = None if reranker is None else SearchService(
        container.index, embedder, container.settings.max_query_chars, reranker=reranker)
    embedder.cache_queries = True  # each question is embedded once for its six vector searches
    out: dict = {}
    for name, queries in samples.items():
        dev, test = split_dev_test(queries, seed)
        per_variant = {}
        for label, mode, options in _variants(reranking is not None):
            search = reranking if label == RERANKED else fused
            rows, dev_rows, test_rows, found = [], [], [], []
            start = time.perf_counter()
            for q in queries:
                passages = search.search(principal, q.text, top_k=TOP_K, mode=mode, options=options)
                ranked = dedupe(p.document_id for p in passages)
                scores = retrieval_scores(ranked, gold_docs(name, q, id_map))
                rows.append(scores)
                (dev_rows if q.qid in dev else test_rows).append(scores)
                if q.answers:  # the first five passages as returned (what a reader sees)
                    found.append(answers_found([p.text for p in passages[:5]], q.answers,
                                               q.require_all))
            took = time.perf_counter() - start
            summary = mean_scores(rows)
            summary["answer_recall@5"] = round(sum(found) / len(found), 4) if found else None
            summary["answer_n"] = len(found)
            summary["n"] = len(rows)
            summary["dev_ndcg@10"] = mean_scores(dev_rows).get("ndcg@10")
            summary["test_ndcg@10"] = mean_scores(test_rows).get("ndcg@10")
            summary["seconds"] = round(took, 2)
            summary["_ndcg"] = [r["ndcg@10"] for r in rows]
            per_variant[label] = summary
            log(f"  {name:11s} {label:15s} nDCG@10={summary['ndcg@10']:.3f} "
                f"R@5={summary['recall@5']:.3f} MRR={summary['mrr@10']:.3f} "
                f"ansR@5={summary['answer_recall@5']} ({took:.1f}s)")
        out[name] = {"queries": len(queries), "dev": len(dev), "test": len(test),
                     "answer_note": datasets[name].answer_note, "variants": per_variant}
    embedder.cache_queries = False
    _paired(out, seed)
    return {"top_k": TOP_K, "datasets": out, "selection": _select(out)}


def _paired(out: dict, seed: int, resamples: int = 2000) -> None:
    """Paired bootstrap 95% interval of hybrid minus bm25 / dense nDCG@10, per dataset."""
    rng = np.random.default_rng(seed)
    for res in out.values():
        v = res["variants"]
        hyb = np.array(v["hybrid"]["_ndcg"])
        idx = rng.integers(0, len(hyb), (resamples, len(hyb)))
        res["hybrid_minus"] = {}
        for other in ("bm25", "dense"):
            diff = hyb - np.array(v[other]["_ndcg"])
            boots = diff[idx].mean(axis=1)
            res["hybrid_minus"][other] = {
                "mean": round(float(diff.mean()), 4),
                "ci95": [round(float(np.percentile(boots, 2.5)), 4),
                         round(float(np.percentile(boots, 97.5)), 4)],
            }
        for summary in v.values():
            summary.pop("_ndcg")


def _select(out: dict) -> dict:
    """Pick the fusion setting with the best mean dev nDCG@10 over the datasets (macro), then
    report it on the held-out test halves next to BM25 and dense, so the choice is not
    scored on the questions it was chosen with."""
    labels = ["hybrid", *FUSIONS]
    dev = {lab: float(np.mean([r["variants"][lab]["dev_ndcg@10"] for r in out.values()]))
           for lab in labels}
    best = max(labels, key=lambda lab: dev[lab])
    test = {name: {lab: r["variants"][lab]["test_ndcg@10"] for lab in (best, "hybrid", *MODES[:2])}
            for name, r in out.items()}
    return {"criterion": "macro mean dev nDCG@10", "dev_macro": {k: round(x, 4) for k, x in dev.items()},
            "chosen": best, "chosen_options": FUSIONS.get(best, "product default"),
            "test_ndcg@10": test}
