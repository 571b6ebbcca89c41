"""Answers through the real ChatService: quality, refusals, faithfulness, and chat latency.

    .venv/bin/python bench/run.py --only answers        [--chat-questions 200] [--unanswerable 100] [--reuse-data]
    .venv/bin/python bench/run.py --only chat_latency   [--latency-questions 30]

The container is the local product at ``make run``'s defaults: ``local_stack(Settings(...))``
with the real ONNX embedder (behind the timing proxy ``BenchEmbedder``), the ms-marco
cross-encoder (search reranking, evidence selection, support check), the llama.cpp model server
and its default thread policy; members ask through ``container.chat.chat`` /
``container.chat.stream_chat`` exactly as the API does.

answers (~12 min at 200 + 200 questions and 100 + 100 unanswerable on a quiet 2-core machine;
a fresh data folder adds ~2 min of ingest, ``--reuse-data`` keeps the last one):
- the pooled workspace (XQuAD + TAT-QA + PubMedQA passages, one document each, ingested through
  the S3 -> queue -> ingest handler path);
- *answerable*: XQuAD questions and TAT-QA span / multi-span questions (answers of <= 8 words);
  "contains gold": the shown answer contains a gold answer (SQuAD-normalised; multi-span: all);
- *refusal*: ``result.support == "not_found"`` or ``result.grounded`` is False (the reply says
  the notices and documents do not say); asked of answerable questions it is a wrong refusal;
- *unanswerable, held out*: questions of the answerable sample asked again after their gold
  passages were deleted from the workspace (same-topic passages stay: the hard case); a
  question whose gold answer is still in the retrieved passages' text (the fact is repeated
  elsewhere) is counted apart, not as unanswerable;
- *unanswerable, other set*: TAT-QA and PubMedQA questions asked in a workspace holding only
  the XQuAD passages;
- *faithfulness* of shown answers (everything but refusals), bench.metrics' definition: each
  sentence of the answer (citation marks removed) that claims something (a figure, or a
  content word beyond the question's own) must have all its figures and >= 75% of its
  content words (light stemming, stop words out) in the text of one source the answer cites;
  "cited passage" holds it against the cited passages' whole text (title included), "cited
  evidence" against only the evidence sentences the citation shows. Unsupported figures:
  figures of a shown answer that none of the passages the chat retrieved contains.

chat_latency (~3 min at 30 questions, the previous-settings rows included): a workspace of the XQuAD
passages; the same questions through
``stream_chat`` with the ingest worker idle, then while the worker (started as ``make run``
starts it, a thread of the same process) ingests the TAT-QA + PubMedQA passages uploaded in
the background. Per question: first ChatToken, the closing ChatDone (end to end), the search
with and without the cross-encoder (its added time), the evidence selection, and what the
model server did (prompt tokens, threads, thread switches).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench import harness
from bench.data import DATASETS, Dataset, Query, load_dataset, sample_queries
from bench.metrics import answer_has_gold, answers_found, best_f1, faithfulness, percentile, unsupported_figures

from noticebot.config import Settings
from noticebot.domain.models import Principal

Log = Callable[[str], None]
ANSWERABLE_SETS = ("xquad_en", "tatqa_dev")
OTHER_SET_WS = "bench-xquad-only"
LATENCY_WS = "bench-latency"
INGEST_WS = "bench-background-ingest"
MANIFEST = "bench-answers-manifest.json"
TARGETS = {"xquad_contains_gold": 0.70, "tatqa_contains_gold": 0.50, "unanswerable_refusal": 0.90,
           "answerable_refusal_max": 0.10, "faithful": 0.95, "unsupported_figures": 0,
           "chat_p50_s": 2.5, "first_token_p50_s": 1.0}
# The model saying so in its own words (reported beside the refusal rate, not counted as one).
_SAYS_UNKNOWN = re.compile(
    r"\b(?:do(?:es)?n[’']?t|do(?:es)? not|cannot|can[’']?t|could not|no)\s+"
    r"(?:know|contain|mention|say|provide|have|information|answer)", re.I)


def member(workspace: str) -> Principal:
    return Principal(user_id="bench-member", workspace_id=workspace, is_editor=False)


def refused(result) -> bool:
    return result.support == "not_found" or not result.grounded


# ---- the container --------------------------------------------------------------------------
def product_container(data_dir: Path, *, fresh: bool, log: Log):
    """The local stack at make run's defaults (its reranker included), over ``data_dir``."""
    from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder
    from noticebot.adapters.local.onnx_embedder import OnnxEmbedder
    from noticebot.entrypoints.local_stack import local_stack

    if fresh and data_dir.exists():
        shutil.rmtree(data_dir)
    embedder = harness.BenchEmbedder(OnnxEmbedder())
    container = local_stack(Settings(data_dir=data_dir), embedder=embedder,
                            reranker=OnnxCrossEncoder())
    endpoint = getattr(container.chat_model, "endpoint", None)
    log(f"  local stack on {data_dir}: embedder {embedder.model_id}, reranker on, chat "
        f"{container.chat_model.model_id} (max {getattr(endpoint, 'n_threads', '?')} threads, "
        f"fixed: {getattr(getattr(endpoint, 'governor', None), 'fixed', '?')})")
    return container, embedder


def _fingerprint(corpora: dict[str, list[dict]]) -> dict:
    return {n: [len(rows), rows[0]["_id"] if rows else None, rows[-1]["_id"] if rows else None]
            for n, rows in corpora.items()}


def pooled_workspace(data_dir: Path, datasets: dict[str, Dataset], reuse: bool, log: Log):
    """(container, embedder, id_map, ingest stats): the pooled corpora ingested once; with
    ``reuse`` a folder whose manifest matches is opened as it is."""
    corpora = {n: ds.corpus for n, ds in datasets.items()}
    manifest = data_dir / MANIFEST
    if reuse and manifest.is_file():
        saved = json.loads(manifest.read_text())
        if saved.get("fingerprint") == _fingerprint(corpora):
            container, embedder = product_container(data_dir, fresh=False, log=log)
            log(f"  reusing {data_dir} ({len(saved['id_map'])} passages)")
            return container, embedder, saved["id_map"], saved.get("stats", {}) | {"reused": True}
    container, embedder = product_container(data_dir, fresh=True, log=log)
    id_map, stats = harness.ingest_passages(container, embedder, corpora, log)
    manifest.write_text(json.dumps({"fingerprint": _fingerprint(corpora), "id_map": id_map,
                                    "stats": stats}))
    return container, embedder, id_map, stats


def _gold_doc_ids(name: str, q: Query, id_map: dict[str, str]) -> set[str]:
    return {id_map[f"{name}/{c}"] for c in q.gold if f"{name}/{c}" in id_map}


def _passage_texts(passages) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for p in passages:
        out.setdefault(p.document_id, []).append(f"{p.title}\n{p.text}")
    return {d: "\n".join(t) for d, t in out.items()}


# ---- one question ---------------------------------------------------------------------------
def ask(container, workspace: str, q: Query) -> dict:
    principal = member(workspace)
    start = time.perf_counter()
    res = container.chat.chat(principal, q.text)
    took = time.perf_counter() - start
    passages = container.search.search(principal, q.text, top_k=container.chat.top_k)
    texts = _passage_texts(passages)
    row = {"question": q.text, "gold": q.answers or q.all_answers, "answer": res.answer,
           "support": res.support, "refused": refused(res), "seconds": round(took, 2),
           "says_unknown": not refused(res) and bool(_SAYS_UNKNOWN.search(res.answer)),
           "cited_docs": [c.document_id for c in res.citations],
           "prompt_tokens": (res.usage or {}).get("prompt_tokens"),
           "answer_in_context": answers_found(list(texts.values()), q.answers, q.require_all)
           if q.answers else None}
    if q.answers:
        row["contains_gold"] = answer_has_gold(res.answer, q.answers, q.require_all)
        row["f1"] = round(best_f1(res.answer, q.answers), 4)
    if not row["refused"]:
        cited_text = [texts.get(c.document_id, f"{c.title}\n{c.snippet}") for c in res.citations]
        cited_evidence = [f"{c.title}\n{c.snippet}" for c in res.citations]
        full = faithfulness(res.answer, cited_text, q.text)
        strict = faithfulness(res.answer, cited_evidence, q.text)
        row.update({
            "claims": full["claims"], "faithful": full["faithful"],
            "unsupported_sentences": full["unsupported"], "faithful_evidence": strict["faithful"],
            "unsupported_figures": unsupported_figures(res.answer, list(texts.values())),
            "figures_not_in_cited": unsupported_figures(res.answer, cited_text),
        })
    return row


def _share(rows, key) -> float | None:
    vals = [bool(r[key]) for r in rows if r.get(key) is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def summarise(rows: list[dict]) -> dict:
    shown = [r for r in rows if not r["refused"]]
    out = {"questions": len(rows), "refusal_rate": _share(rows, "refused"),
           "says_unknown": _share(rows, "says_unknown"),
           "median_seconds": round(statistics.median(r["seconds"] for r in rows), 2) if rows else None,
           "shown": len(shown),
           "support_verdicts": {v: sum(r["support"] == v for r in rows)
                                for v in sorted({r["support"] for r in rows})}}
    graded = [r for r in rows if "contains_gold" in r]
    if graded:
        out["contains_gold"] = _share(graded, "contains_gold")
        out["contains_gold_when_shown"] = _share([r for r in graded if not r["refused"]], "contains_gold")
        out["mean_f1"] = round(sum(r["f1"] for r in graded) / len(graded), 4)
        out["answer_in_context"] = _share(graded, "answer_in_context")
    if shown:
        out["faithful"] = _share(shown, "faithful")
        out["faithful_evidence"] = _share(shown, "faithful_evidence")
        out["unsupported_figures"] = sum(len(r["unsupported_figures"]) for r in shown)
        out["figures_not_in_cited"] = sum(len(r["figures_not_in_cited"]) for r in shown)
    return out


def _run(container, workspace: str, name: str, queries: list[Query], log: Log, label: str) -> list[dict]:
    rows = []
    for i, q in enumerate(queries):
        rows.append(ask(container, workspace, q) | {"set": name})
        if (i + 1) % 25 == 0 or i + 1 == len(queries):
            s = summarise(rows)
            log(f"  {label} {name} {i + 1}/{len(queries)}: contains gold {s.get('contains_gold')}, "
                f"refused {s['refusal_rate']}, faithful {s.get('faithful')} "
                f"(load {os.getloadavg()[0]:.2f})")
    return rows


# ---- the answers section --------------------------------------------------------------------
def eligible(name: str, ds: Dataset) -> list[Query]:
    return [q for q in ds.queries if q.answers] if name in ANSWERABLE_SETS else list(ds.queries)


def measure_answers(data_dir: Path, n_answerable: int, n_unanswerable: int, seed: int,
                    reuse: bool, log: Log, previous: dict | None = None) -> dict:
    datasets = {name: load_dataset(name) for name in DATASETS}
    container, embedder, id_map, stats = pooled_workspace(data_dir, datasets, reuse, log)
    ws = harness.POOLED_WS
    out: dict = {"config": {"answerable_per_set": n_answerable,
                            "unanswerable_per_kind": n_unanswerable, "seed": seed,
                            "chat_top_k": container.chat.top_k,
                            "min_evidence_score": container.chat.min_evidence_score,
                            "ingest": {k: stats.get(k) for k in ("passages", "chunks", "wall_s", "reused")}},
                 "targets": TARGETS, "previous": previous or {}}
    timings = {}
    answerable: dict[str, list[dict]] = {}
    samples = {}
    for name in ANSWERABLE_SETS:
        samples[name] = sample_queries(eligible(name, datasets[name]), n_answerable, seed)
        t0 = time.perf_counter()
        answerable[name] = _run(container, ws, name, samples[name], log, "answerable")
        timings[f"answerable_{name}_s"] = round(time.perf_counter() - t0, 1)
    out["answerable"] = {n: summarise(r) for n, r in answerable.items()}
    all_rows = [r for rows in answerable.values() for r in rows]
    out["answerable"]["all"] = summarise(all_rows)

    # Held out: the gold passages of some answerable questions deleted, the questions again.
    t0 = time.perf_counter()
    held_rows = []
    per_set = max(1, n_unanswerable // len(ANSWERABLE_SETS))
    editor = harness.editor(ws)
    for name in ANSWERABLE_SETS:
        picked = random.Random(seed + 7).sample(samples[name], min(per_set, len(samples[name])))
        doomed = set().union(*(_gold_doc_ids(name, q, id_map) for q in picked))
        for doc_id in doomed:
            container.documents.delete(editor, doc_id)
        held_rows += _run(container, ws, name, picked, log, "held-out")
        # Put them back, so the folder stays the pooled workspace for --reuse-data.
        restore = {n: [] for n in datasets}
        by_doc = {v: k for k, v in id_map.items()}
        rows_by_key = {f"{n}/{r['_id']}": r for n, ds in datasets.items() for r in ds.corpus}
        for doc_id in doomed:
            key = by_doc[doc_id]
            restore[key.split("/", 1)[0]].append(rows_by_key[key])
        new_ids, _ = harness.ingest_passages(container, embedder, {n: r for n, r in restore.items() if r},
                                             lambda m: None)
        id_map.update(new_ids)
    (data_dir / MANIFEST).write_text(json.dumps({"fingerprint": _fingerprint(
        {n: ds.corpus for n, ds in datasets.items()}), "id_map": id_map, "stats": stats}))
    still = [r for r in held_rows if r["answer_in_context"]]
    truly = [r for r in held_rows if not r["answer_in_context"]]
    out["held_out"] = summarise(truly) | {"answer_still_retrieved": len(still),
                                           "refusal_rate_incl_those": summarise(held_rows)["refusal_rate"]}
    timings["held_out_s"] = round(time.perf_counter() - t0, 1)

    # Another set's questions in a workspace holding only the XQuAD passages.
    t0 = time.perf_counter()
    if not container.metadata.list_documents(OTHER_SET_WS):
        harness.ingest_passages(container, embedder, {"xquad_en": datasets["xquad_en"].corpus},
                                lambda m: None, workspace=OTHER_SET_WS)
    other_rows = []
    for name in ("tatqa_dev", "pubmedqa_l"):
        picked = sample_queries(datasets[name].queries, per_set, seed + 11)
        other_rows += _run(container, OTHER_SET_WS, name, picked, log, "other-set")
    out["other_set"] = summarise(other_rows)
    out["other_set"]["by_set"] = {n: summarise([r for r in other_rows if r["set"] == n])
                                  for n in ("tatqa_dev", "pubmedqa_l")}
    timings["other_set_s"] = round(time.perf_counter() - t0, 1)
    out["unanswerable"] = summarise(truly + other_rows)
    out["timings_s"] = timings
    out["rows"] = {"answerable": all_rows, "held_out": held_rows, "other_set": other_rows}
    a, u = out["answerable"]["all"], out["unanswerable"]
    log(f"  answers: XQuAD contains gold {out['answerable']['xquad_en'].get('contains_gold')}, "
        f"TAT-QA {out['answerable']['tatqa_dev'].get('contains_gold')}, refusals on answerable "
        f"{a['refusal_rate']}, on unanswerable {u['refusal_rate']}, faithful {a.get('faithful')}")
    return out


# ---- the chat latency section ---------------------------------------------------------------
def _timed_turn(container, principal, text: str) -> dict:
    from noticebot.services.chat import ChatDone, ChatToken

    start = time.perf_counter()
    first, done = None, None
    pieces = 0
    for event in container.chat.stream_chat(principal, text):
        if isinstance(event, ChatToken) and first is None:
            first = time.perf_counter() - start
        pieces += isinstance(event, ChatToken)
        if isinstance(event, ChatDone):
            done = event.result
    total = time.perf_counter() - start
    endpoint = getattr(container.chat_model, "endpoint", None)
    pacer = getattr(endpoint, "last_pacer", None)
    return {"first_token_s": round(first, 3) if first is not None else None,
            "total_s": round(total, 3), "pieces": pieces, "refused": refused(done),
            "support": done.support,
            "threads_at_start": getattr(pacer, "start_threads", None),
            "threads_end": getattr(pacer, "threads", None),
            "thread_switches": list(getattr(pacer, "switches", []) or []),
            "model_first_token_s": round(pacer.first_token_s, 3) if pacer and pacer.first_token_s else None}


def _search_costs(container, embedder, principal, text: str) -> dict:
    from noticebot.services.evidence import EvidenceSelector
    from noticebot.services.search import SearchService

    plain = SearchService(container.index, embedder, container.settings.max_query_chars)
    k = container.chat.top_k
    t0 = time.perf_counter()
    plain.search(principal, text, top_k=k)
    t1 = time.perf_counter()
    passages = container.search.search(principal, text, top_k=k)
    t2 = time.perf_counter()
    passages = [p for p in passages if container.chat.gate.admits(p)]
    container.chat.evidence.select(text, passages) if passages else None
    t3 = time.perf_counter()
    EvidenceSelector(None).select(text, passages) if passages else None
    t4 = time.perf_counter()
    return {"search_ms": round(1000 * (t1 - t0), 1), "search_rerank_ms": round(1000 * (t2 - t1), 1),
            "rerank_added_ms": round(1000 * ((t2 - t1) - (t1 - t0)), 1),
            "evidence_ms": round(1000 * (t3 - t2), 1),
            "evidence_added_ms": round(1000 * ((t3 - t2) - (t4 - t3)), 1)}


def _latency_summary(rows: list[dict]) -> dict:
    def p(key, q, only_shown=False):
        vals = [r[key] for r in rows if r.get(key) is not None and not (only_shown and r["refused"])]
        return round(percentile(vals, q), 3) if vals else None
    return {"questions": len(rows), "refused": sum(r["refused"] for r in rows),
            "first_token_p50_s": p("first_token_s", 50), "first_token_p95_s": p("first_token_s", 95),
            "chat_p50_s": p("total_s", 50), "chat_p95_s": p("total_s", 95),
            "chat_p50_answered_s": p("total_s", 50, True),
            "model_first_token_p50_s": p("model_first_token_s", 50),
            "rerank_added_p50_ms": p("rerank_added_ms", 50), "rerank_added_p95_ms": p("rerank_added_ms", 95),
            "evidence_added_p50_ms": p("evidence_added_ms", 50),
            "search_rerank_p50_ms": p("search_rerank_ms", 50),
            "two_thread_share": round(sum((r.get("threads_end") or 0) > 1 for r in rows) / len(rows), 3) if rows else None,
            "others_cpu_share": None}


# The model server's settings before bench/llm_speed.py's measurements: the shipped Q4_1 file,
# one thread always, and the ingest worker at the server's priority.
PREVIOUS_SETTINGS = {"NOTICEBOT_LLM_WEIGHTS": "as-is", "NOTICEBOT_LLM_THREADS": "1"}


def measure_latency(data_dir: Path, n_questions: int, seed: int, log: Log,
                    previous: dict | None = None, baseline: bool = True) -> dict:
    """``baseline``: the same questions again, in the same process, with PREVIOUS_SETTINGS
    (rows "... (previous settings)"), so the table compares the two under the same load."""
    datasets = {name: load_dataset(name) for name in DATASETS}
    questions = [q.text for q in sample_queries(datasets["xquad_en"].queries, n_questions, seed + 5)]
    out = {"config": {"questions": n_questions, "workspace_passages": len(datasets["xquad_en"].corpus),
                      "previous_settings": PREVIOUS_SETTINGS},
           "targets": {k: TARGETS[k] for k in ("chat_p50_s", "first_token_p50_s")},
           "previous": previous or {}}
    out |= _latency_conditions(data_dir, datasets, questions, "", log, out["config"])
    if baseline:
        saved = {k: os.environ.get(k) for k in PREVIOUS_SETTINGS}
        os.environ.update(PREVIOUS_SETTINGS)
        try:
            out |= _latency_conditions(data_dir.parent / (data_dir.name + "-previous"), datasets,
                                       questions, " (previous settings)", log, None, worker_nice=0)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return out


def _latency_conditions(data_dir: Path, datasets, questions: list[str], suffix: str, log: Log,
                        config: dict | None, worker_nice: int | None = None) -> dict:
    from bench.run import _cpu_seconds

    container, embedder = product_container(data_dir, fresh=True, log=log)
    if worker_nice is not None:
        container.queue.nice = worker_nice
    t0 = time.perf_counter()
    harness.ingest_passages(container, embedder, {"xquad_en": datasets["xquad_en"].corpus},
                            lambda m: None, workspace=LATENCY_WS)
    log(f"  latency workspace: {len(datasets['xquad_en'].corpus)} passages in {time.perf_counter() - t0:.1f}s")
    principal = member(LATENCY_WS)
    container.chat.chat(principal, "warm-up: what is this about?")  # loads the chat model
    if config is not None:
        config |= {"chat_top_k": container.chat.top_k, "max_new_tokens": container.chat.max_new_tokens}
    out: dict = {}

    def run(label: str, busy: Callable[[], bool] | None = None) -> None:
        rows = []
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        for text in questions:
            row = {"question": text, **_search_costs(container, embedder, principal, text)}
            row |= _timed_turn(container, principal, text)
            row["ingest_active"] = busy() if busy else False
            row["load_1m"] = round(os.getloadavg()[0], 2)
            rows.append(row)
        cpu1, wall1 = _cpu_seconds(), time.perf_counter()
        s = _latency_summary([r for r in rows if r["ingest_active"]] if busy else rows)
        s["others_cpu_share"] = round(max(0.0, (cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1]))
                                      / ((wall1 - wall0) * (os.cpu_count() or 1)), 3)
        s["with_ingest_running"] = sum(r["ingest_active"] for r in rows)
        out[label + suffix] = s | {"rows": rows}
        log(f"  {label}{suffix}: first token p50 {s['first_token_p50_s']} s, chat p50 {s['chat_p50_s']} s, "
            f"rerank added p50 {s['rerank_added_p50_ms']} ms, 2-thread share {s['two_thread_share']} "
            f"(others' CPU {s['others_cpu_share']})")

    run("idle")
    # Concurrent ingest: the worker thread as `make run` starts it; uploads in the background.
    uploads_done, stop_uploads = threading.Event(), threading.Event()
    corpus = [("tatqa_dev", r) for r in datasets["tatqa_dev"].corpus] + \
             [("pubmedqa_l", r) for r in datasets["pubmedqa_l"].corpus]
    editor = harness.editor(INGEST_WS)

    def uploader():
        try:
            for name, row in corpus:
                if stop_uploads.is_set():
                    break
                container.documents.upload(editor, f"{row['_id']}.txt".replace("/", "_"),
                                           row["text"].encode("utf-8"), "text/plain",
                                           title=row.get("title") or None)
        finally:
            uploads_done.set()

    def busy() -> bool:
        depth = container.queue.messages.depth()
        return not uploads_done.is_set() or bool(depth.visible or depth.in_flight)

    container.queue.start()
    thread = threading.Thread(target=uploader, name="bench-uploader", daemon=True)
    thread.start()
    time.sleep(2.0)  # the worker has started embedding
    try:
        run("concurrent_ingest", busy)
    finally:
        stop_uploads.set()
        thread.join(timeout=10)
        container.queue.stop(timeout_s=30)
    docs = container.metadata.list_documents(INGEST_WS)
    ci = out["concurrent_ingest" + suffix]
    ci["ingested_meanwhile"] = sum(d.status.value == "indexed" for d in docs)
    ci["uploaded"] = len(docs)
    endpoint = getattr(container.chat_model, "endpoint", None)
    for m in getattr(endpoint, "_models", {}).values():  # frees the model's memory now
        close = getattr(m, "close", None)
        if close:
            close()
    return out


LATENCY_LABELS = ("idle", "concurrent_ingest", "idle (previous settings)",
                  "concurrent_ingest (previous settings)")


# ---- previous figures -----------------------------------------------------------------------
def previous_figures(prev: dict) -> dict:
    """What the committed report had for the figures these sections report."""
    cq, cs = prev.get("chat_quality") or {}, prev.get("chat_speed") or {}
    ans = prev.get("answers") or {}
    lat = prev.get("chat_latency") or {}
    out = {"xquad_contains_gold": cq.get("contains_gold"), "xquad_questions": cq.get("questions"),
           "xquad_mean_f1": cq.get("mean_f1"), "chat_median_s": cq.get("median_seconds"),
           "ttft_600_cold_s": cs.get("median_ttft_s"), "total_600_128_s": cs.get("median_total_s")}
    if ans:
        out["answers"] = {k: ans.get(k) for k in ("answerable", "held_out", "other_set", "unanswerable")}
    if lat:
        out["chat_latency"] = {k: {kk: vv for kk, vv in (lat.get(k) or {}).items() if kk != "rows"}
                               for k in LATENCY_LABELS if lat.get(k)}
    return out


# ---- report tables --------------------------------------------------------------------------
def _v(x) -> str:
    return "n/a" if x is None else str(x)


def _prev(prev: dict, *path):
    cur = prev
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def markdown_answers(res: dict) -> list[str]:
    cfg, prev, t = res["config"], res.get("previous") or {}, res["targets"]
    a = res["answerable"]
    lines = ["## Answers through ChatService (bench/answers.py)", "",
             f"The pooled workspace ({_v(cfg['ingest'].get('passages'))} passages, "
             f"{_v(cfg['ingest'].get('chunks'))} chunks), the local product at make run's defaults "
             f"(reranker on, chat top_k {cfg['chat_top_k']}, min evidence score "
             f"{cfg['min_evidence_score']}); seeded samples (seed {cfg['seed']}). A refusal is "
             "`support == \"not_found\"` or `grounded` False. *previous*: the committed report "
             "(30 XQuAD questions through ChatService.chat, no reranker in its container).", "",
             "### Answer quality (answerable questions)", "",
             "| set | questions | contains gold | target | previous | mean F1 | contains gold when shown "
             "| gold answer in retrieved passages | refused | median s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, target, prev_val in (
            ("xquad_en", t["xquad_contains_gold"], _prev(prev, "xquad_contains_gold")),
            ("tatqa_dev", t["tatqa_contains_gold"], None)):
        s = a[name]
        older = _prev(prev, "answers", "answerable", name, "contains_gold")
        shown_prev = older if older is not None else prev_val
        lines.append(f"| {name} | {s['questions']} | **{_v(s.get('contains_gold'))}** | >= {target} | "
                     f"{_v(shown_prev)}{' (30 q)' if older is None and prev_val is not None else ''} | "
                     f"{_v(s.get('mean_f1'))} | {_v(s.get('contains_gold_when_shown'))} | "
                     f"{_v(s.get('answer_in_context'))} | {_v(s['refusal_rate'])} | {_v(s['median_seconds'])} |")
    u, h, o = res["unanswerable"], res["held_out"], res["other_set"]
    lines += ["", "### Refusals", "",
              "| questions | n | refusal rate | target | previous | model wrote that it does not know "
              "(not counted) |", "|---|---:|---:|---:|---:|---:|"]
    rows = [("answerable (XQuAD + TAT-QA)", a["all"], f"<= {t['answerable_refusal_max']}",
             ("answers", "answerable", "all")),
            ("unanswerable: gold passages deleted", h, f">= {t['unanswerable_refusal']}",
             ("answers", "held_out")),
            ("unanswerable: other set's questions (TAT-QA, PubMedQA in an XQuAD-only workspace)", o,
             f">= {t['unanswerable_refusal']}", ("answers", "other_set")),
            ("**unanswerable, all**", u, f">= {t['unanswerable_refusal']}", ("answers", "unanswerable"))]
    for label, s, target, path in rows:
        lines.append(f"| {label} | {s['questions']} | **{_v(s['refusal_rate'])}** | {target} | "
                     f"{_v(_prev(prev, *path, 'refusal_rate'))} | {_v(s.get('says_unknown'))} |")
    lines += ["", f"Held out: {h['answer_still_retrieved']} more questions still had their gold answer "
              f"in the retrieved passages after the deletion (the fact is repeated elsewhere) and are "
              f"left out; counting them, the refusal rate is {_v(h['refusal_rate_incl_those'])}. "
              f"Other set by source: " + ", ".join(
                  f"{n} {_v(s['refusal_rate'])} of {s['questions']}" for n, s in o["by_set"].items()) + ".",
              "", "### Faithfulness of shown answers", "",
              "A shown answer is faithful when every sentence that claims something (a figure, or a "
              "content word the question did not contain) has all its figures and >= 75% of its "
              "content words (stop words out, plural / -ed / -ing endings stripped) in the text of "
              "one source the answer cites. *cited passage*: the cited passages' whole text; "
              "*cited evidence*: only the evidence sentences the citations show. *figures in no "
              "source*: figures of shown answers that none of the retrieved passages contains.", "",
              "| questions | answers shown | faithful (cited passage) | target | faithful (cited evidence) "
              "| figures in no source | target | figures not in a cited source | verdicts | previous |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for label, s, path in (("answerable", a["all"], ("answers", "answerable", "all")),
                           ("unanswerable", u, ("answers", "unanswerable"))):
        verdicts = ", ".join(f"{k} {v}" for k, v in s["support_verdicts"].items())
        lines.append(f"| {label} | {s['shown']} | **{_v(s.get('faithful'))}** | >= {t['faithful']} | "
                     f"{_v(s.get('faithful_evidence'))} | **{_v(s.get('unsupported_figures'))}** | "
                     f"{t['unsupported_figures']} | {_v(s.get('figures_not_in_cited'))} | {verdicts} | "
                     f"{_v(_prev(prev, *path, 'faithful'))} |")
    tm = res.get("timings_s", {})
    lines += ["", "Section time: " + ", ".join(f"{k} {v}" for k, v in tm.items()) + ".", ""]
    return lines


def markdown_latency(res: dict) -> list[str]:
    prev, t, cfg = res.get("previous") or {}, res["targets"], res["config"]
    lines = ["## Chat latency at make run's defaults (bench/answers.py)", "",
             f"{cfg['questions']} XQuAD questions through `stream_chat` in a workspace of "
             f"{cfg['workspace_passages']} passages (reranker on, top_k {cfg['chat_top_k']}, up to "
             f"{cfg['max_new_tokens']} new tokens). *first token*: from the call to the first "
             "ChatToken (retrieval, reranking, evidence, prompt); *chat*: to the closing ChatDone. "
             "*rerank added*: the search with the cross-encoder minus the same search without it; "
             "*evidence*: the cross-encoder's sentence selection minus the lexical one. *2 threads*: "
             "share of turns the model server ended with 2 threads. Under concurrent ingest only "
             "turns that ran while the worker still had documents count. *previous*: the committed "
             "report (end to end: median ChatService.chat over 30 XQuAD questions; first token: "
             "TTFT of a cold ~600-token prompt; no reranking then).", "",
             "| condition | turns | first token p50 / p95 s | target | chat p50 / p95 s | target | "
             "rerank added p50 / p95 ms | evidence added p50 ms | 2 threads | others' CPU | previous "
             "first token / chat |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label in LATENCY_LABELS:
        s = res.get(label)
        if not s:
            continue
        older = _prev(prev, "chat_latency", label)
        was = (f"{_v(older.get('first_token_p50_s'))} / {_v(older.get('chat_p50_s'))}" if older
               else f"{_v(prev.get('ttft_600_cold_s'))} / {_v(prev.get('chat_median_s'))}"
               if label == "idle" else "n/a")
        idle = label.startswith("idle")
        turns = s["questions"] if idle else f"{s['with_ingest_running']} of {len(s['rows'])}"
        settings = label.partition(" ")[2]
        name = f"ingest worker {'idle' if idle else 'ingesting'}" + (f" {settings}" if settings else "")
        lines.append(f"| {name} | {turns} | "
                     f"**{_v(s['first_token_p50_s'])}** / {_v(s['first_token_p95_s'])} | < "
                     f"{t['first_token_p50_s']} | **{_v(s['chat_p50_s'])}** / {_v(s['chat_p95_s'])} | "
                     f"< {t['chat_p50_s']} | {_v(s['rerank_added_p50_ms'])} / {_v(s['rerank_added_p95_ms'])} | "
                     f"{_v(s['evidence_added_p50_ms'])} | {_v(s['two_thread_share'])} | "
                     f"{_v(s['others_cpu_share'])} | {was} |")
    if any(" (previous settings)" in k for k in res):
        lines += ["", "*(previous settings)*: the same questions right after, in the same process, "
                  "with the model server's settings before this round of work ("
                  + ", ".join(f"{k}={v}" for k, v in PREVIOUS_SETTINGS.items())
                  + ": the shipped Q4_1 weights, one thread always) and the ingest worker at the "
                  "server's priority."]
    ci = res.get("concurrent_ingest") or {}
    if ci:
        lines += ["", f"Concurrent ingest: {ci.get('uploaded')} passages uploaded in the background, "
                  f"{ci.get('ingested_meanwhile')} indexed by the worker while the turns ran.", ""]
    return lines + [""]
