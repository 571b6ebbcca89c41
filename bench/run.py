"""noticebot benchmark: retrieval quality, ingest / embedding throughput, search latency, chat.

    .venv/bin/python bench/run.py [--quick] [--max-queries N] [--skip-chat] [--skip-100k]
    .venv/bin/python bench/run.py --only server_load   # one part, into the existing report

Parts that run alone with --only (each builds what it needs; runtimes on a quiet 2-core machine):
    llm_speed      ~10 min  llama.cpp prefill / decode per weights, threads, prompt length, batch
    answers        ~12 min  answer quality, refusals, faithfulness via ChatService.chat
                            (--chat-questions N per set, --unanswerable N; --reuse-data keeps the
                            ingested workspace between runs)
    chat_latency   ~3 min   stream_chat first token / end to end, reranking's cost, with the
                            ingest worker idle and while it ingests, then the same with the
                            model server's previous settings (--latency-questions N)
    server_load    ~1 min   lambda_bundles ~20 s

Everything runs through the product: local_stack(Settings(data_dir=bench/out/data)) with the real
local adapters; an editor uploads with container.documents.upload and container.queue.drain()
delivers the S3 ObjectCreated events as SQS batches to the ingest Lambda handler. Writes
bench/report.json, bench/report.md and bench/retrieval.png (--quick: under bench/out/quick/).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import answers, chat_bench, harness, ingest_formats, lambda_bundles, latency, llm_speed, report, retrieval, server_load, splitters  # noqa: E402
from bench.data import BENCH_PDFS, DATASETS, QUICK_PDFS, load_dataset, sample_queries, shrink_corpus  # noqa: E402

T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}s] {msg}", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run (< 3 min)")
    ap.add_argument("--max-queries", type=int, default=None,
                    help="seeded sample of questions per dataset (default 400; --quick 20)")
    ap.add_argument("--skip-chat", action="store_true", help="no chat speed / quality runs")
    ap.add_argument("--skip-100k", action="store_true", help="index latency at 10k chunks only")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--only", choices=sorted(STANDALONE), default=None,
                    help="run one part that needs no datasets and update it in the existing report")
    ap.add_argument("--chat-questions", type=int, default=None,
                    help="answerable questions per set for answers (default 200; --quick 10)")
    ap.add_argument("--unanswerable", type=int, default=None,
                    help="unanswerable questions per kind for answers (default 100; --quick 10)")
    ap.add_argument("--latency-questions", type=int, default=None,
                    help="questions per condition for chat_latency (default 30; --quick 5)")
    ap.add_argument("--llm-rounds", type=int, default=None, help="rounds of llm_speed (default 3)")
    ap.add_argument("--reuse-data", action="store_true",
                    help="answers: reuse bench/out/data-answers when it holds the same corpora")
    ap.add_argument("--load-clients", type=int, default=8)
    ap.add_argument("--load-seconds", type=float, default=None)
    ap.add_argument("--out-dir", type=Path, default=None, help="where the reports go")
    ap.add_argument("--data-dir", type=Path, default=None, help="fresh data folder (deleted first)")
    args = ap.parse_args(argv)
    q = args.quick
    args.max_queries = args.max_queries or (20 if q else 400)
    args.out_dir = args.out_dir or (ROOT / "bench" / "out" / "quick" if q else ROOT / "bench")
    args.data_dir = args.data_dir or ROOT / "bench" / "out" / ("data-quick" if q else "data")
    args.distractors = 120 if q else None  # --quick: gold passages + 120 others per dataset
    args.embed_n = 64 if q else 512
    args.e2e_queries = 20 if q else 100
    args.latency_queries = 50 if q else 200
    args.sizes = [10_000] if (q or args.skip_100k) else [10_000, 100_000]
    args.chat_runs = 1 if q else 3
    args.chat_questions = args.chat_questions or (10 if q else 200)
    args.unanswerable = args.unanswerable or (10 if q else 100)
    args.latency_questions = args.latency_questions or (5 if q else 30)
    args.llm_rounds = args.llm_rounds or (1 if q else 3)
    args.pdfs = QUICK_PDFS if q else BENCH_PDFS
    args.load_seconds = args.load_seconds or (10 if q else 30)
    return args


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process and the
    subprocesses it has waited for)."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    except (OSError, ValueError):
        busy = float("nan")
    t = os.times()
    # Children count as this run (the bundler, pip, the import-time interpreters it waited on).
    return busy, t.user + t.system + t.children_user + t.children_system


def section(results: dict, name: str, fn):
    """Runs one part; a failure is recorded in the report instead of ending the run. Also
    records how much of the machine OTHER processes used meanwhile (timings are only
    comparable when that share is near 0)."""
    start, (busy0, own0) = time.perf_counter(), _cpu_seconds()
    log(f"== {name}")
    try:
        results[name] = fn()
    except Exception as exc:  # noqa: BLE001 - report and carry on
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - start
    busy1, own1 = _cpu_seconds()
    other = max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall * (os.cpu_count() or 1))
    results.setdefault("timings_s", {})[name] = round(wall, 1)
    results.setdefault("other_processes_cpu_share", {})[name] = round(other, 3)
    if other > 0.1:
        log(f"  warning: other processes used {100 * other:.0f}% of the CPUs during {name}")
    return results[name]


def _reranker():
    """The cross-encoder the local product reranks with (the harness passes its own embedder
    proxy, so the container it builds has none)."""
    from noticebot.adapters.local.onnx_cross_encoder import OnnxCrossEncoder

    return OnnxCrossEncoder()


def chat_questions(xquad, samples, n_runs: int):
    """Questions from different articles, so the timed prompts share only the system prompt."""
    title_of = {r["_id"]: r.get("title", "") for r in xquad.corpus}
    seen, picked = set(), []
    for q in samples:
        title = title_of.get(next(iter(q.gold)), "")
        if title not in seen:
            seen.add(title)
            picked.append(q.text)
        if len(picked) == n_runs:
            break
    return picked


def committed_report() -> dict:
    """bench/report.json as last committed (the previous figures new tables show beside theirs);
    the file on disk when git cannot say."""
    import subprocess

    try:
        out = subprocess.run(["git", "show", "HEAD:bench/report.json"], capture_output=True,
                             text=True, timeout=30, cwd=ROOT)
        if out.returncode == 0:
            return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    path = ROOT / "bench" / "report.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _data(args, name: str) -> Path:
    return args.data_dir.parent / f"{args.data_dir.name}-{name}"


# Parts that need no shared container: `--only NAME` reruns one of them alone.
STANDALONE = {
    "server_load": lambda args: server_load.measure(args.load_clients, args.load_seconds, log=log),
    "lambda_bundles": lambda args: lambda_bundles.measure(log=log),
    "llm_speed": lambda args: llm_speed.measure(log, rounds=args.llm_rounds) | {
        "previous": llm_speed.previous_figures(committed_report())},
    "answers": lambda args: answers.measure_answers(
        _data(args, "answers"), args.chat_questions, args.unanswerable, args.seed,
        args.reuse_data, log, previous=answers.previous_figures(committed_report())),
    "chat_latency": lambda args: answers.measure_latency(
        _data(args, "latency"), args.latency_questions, args.seed, log,
        previous=answers.previous_figures(committed_report())),
}


def run_only(args) -> int:
    path = args.out_dir / "report.json"
    results = json.loads(path.read_text()) if path.exists() else {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    section(results, args.only, lambda: STANDALONE[args.only](args))
    paths = report.write_all(results, args.out_dir)
    log(f"updated {args.only} in " + ", ".join(str(p) for p in paths))
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.only:
        return run_only(args)
    results: dict = {"config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    datasets = {name: load_dataset(name) for name in DATASETS}
    samples = {n: sample_queries(ds.queries, args.max_queries, args.seed) for n, ds in datasets.items()}
    corpora = {n: (shrink_corpus(ds, samples[n], args.distractors, args.seed) if args.distractors
                   else ds.corpus) for n, ds in datasets.items()}
    log("datasets: " + ", ".join(f"{n} {len(corpora[n])} passages / {len(samples[n])} of "
                                 f"{len(ds.queries)} questions" for n, ds in datasets.items()))
    container, embedder = harness.build_container(args.data_dir, log)
    results["machine"] = report.machine_info(container, embedder)

    id_map: dict[str, str] = {}

    def ingest():
        mapping, stats = harness.ingest_passages(container, embedder, corpora, log)
        id_map.update(mapping)
        return stats
    section(results, "ingest", ingest)
    section(results, "retrieval", lambda: retrieval.evaluate(
        container, embedder, datasets, samples, id_map, args.seed, log, reranker=_reranker()))
    section(results, "pdf_ingest", lambda: harness.ingest_pdfs(container, args.pdfs, log))
    section(results, "lambda_bundles", lambda: STANDALONE["lambda_bundles"](args))
    section(results, "server_load", lambda: STANDALONE["server_load"](args))
    section(results, "splitters", lambda: splitters.measure(
        log=log, max_queries=min(args.max_queries, 400), seed=args.seed))
    section(results, "ingest_formats", lambda: ingest_formats.measure_ingest_formats(
        max_files_per_group=5 if args.quick else None, log=log))
    section(results, "embedding", lambda: harness.embedding_throughput(
        embedder, harness.corpus_texts(corpora), args.embed_n, args.seed, log))
    pooled_questions = [q.text for qs in samples.values() for q in qs]
    e2e_texts = random.Random(args.seed).sample(pooled_questions, min(args.e2e_queries, len(pooled_questions)))
    section(results, "search_latency_e2e", lambda: latency.end_to_end(container, embedder, e2e_texts, log))

    def index_lat():
        embedder.cache_queries = True
        for t in random.Random(args.seed + 2).sample(pooled_questions, min(args.latency_queries, len(pooled_questions))):
            embedder.embed_query(t)  # cached from the quality runs; real vectors either way
        queries = latency.pick_queries(embedder._qcache, args.latency_queries, args.seed)
        embedder.cache_queries = False
        workdir = args.data_dir.parent / (args.data_dir.name + "-latency-index")
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            return latency.index_latency(embedder.recorded, queries, args.sizes, 10, workdir, args.seed, log)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    section(results, "index_latency", index_lat)
    embedder.recorded = []

    if not args.skip_chat:
        xq = samples["xquad_en"]
        section(results, "chat_speed", lambda: chat_bench.chat_speed(
            container, chat_questions(datasets["xquad_en"], xq, args.chat_runs), log))
        # Each of these builds its own local stack at make run's defaults (reranker included).
        for name in ("llm_speed", "chat_latency", "answers"):
            section(results, name, lambda name=name: STANDALONE[name](args))
    results["total_s"] = round(time.perf_counter() - T0, 1)
    paths = report.write_all(results, args.out_dir)
    log(f"done in {results['total_s']}s: " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
