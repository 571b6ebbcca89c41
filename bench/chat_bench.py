"""The local chat model's speed on a ~600-token grounded prompt (answer quality: bench/answers.py).

llama-cpp-python reuses the KV cache of the longest common prompt prefix with the previous
call, so a repeated prompt would skip its prefill and fake a fast first token. Every timed
run therefore uses its own question (different articles, so different sources), and a short
unrelated "flush" prompt runs just before it, so the whole ~600-token prompt (system prompt
included) is prefilled: the cold case, slightly pessimistic for a server that keeps the
system prompt cached.

The small model answers a factual question in a dozen tokens and stops, which measures no
decode speed; the speed questions therefore ask for detail (SPEED_SUFFIX), and runs that
still stop early report a projection to 128 tokens from their measured decode rate.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from bench.harness import POOLED_WS
from noticebot.domain.models import Message, Principal
from noticebot.llm.prompts import build_messages
from noticebot.ports import GenerationParams

TARGET = {"prompt_tokens": 600, "new_tokens": 128, "total_s": 3.0,
          "reference_llama_cpp": {"ttft_s": 1.4, "tokens_per_s": 130}}

SPEED_SUFFIX = " Explain in detail, going through each source."
FLUSH = [Message("user", "Say OK.")]

MEMBER = Principal(user_id="bench-member", workspace_id=POOLED_WS, is_editor=False)


def _prompt_tokens(model, messages) -> int:
    return model.generate(messages, GenerationParams(max_new_tokens=1, temperature=0.0)).prompt_tokens


def _fit_prompt(container, question: str, target: int) -> tuple[list, int]:
    """Messages from the question's real retrieved passages, about ``target`` prompt tokens
    (the model's own count): add passages, then trim the last one by words."""
    model = container.chat_model
    passages = container.search.search(MEMBER, question, top_k=10, mode="hybrid")
    for n in range(1, len(passages) + 1):
        messages = build_messages(question, passages[:n])
        if _prompt_tokens(model, messages) >= target:
            break
    words = passages[n - 1].text.split()
    lo, hi = 0, len(words)
    best = (messages, _prompt_tokens(model, messages))
    while lo < hi:  # the fewest words of the last passage that reach the target
        mid = (lo + hi) // 2
        trimmed = [*passages[: n - 1], replace(passages[n - 1], text=" ".join(words[:mid]))]
        msgs = build_messages(question, trimmed)
        tokens = _prompt_tokens(model, msgs)
        if tokens >= target:
            hi, best = mid, (msgs, tokens)
        else:
            lo = mid + 1
    return best


def chat_speed(container, questions: list[str], log: Callable[[str], None],
               target: int = 600, new_tokens: int = 128) -> dict:
    model = container.chat_model
    start = time.perf_counter()
    model.generate(build_messages("warm-up", []), GenerationParams(max_new_tokens=1, temperature=0.0))
    load_s = time.perf_counter() - start
    questions = [q + SPEED_SUFFIX for q in questions]
    prompts = [_fit_prompt(container, q, target) for q in questions]
    log(f"  model load + first call {load_s:.2f}s; prompts of {[t for _, t in prompts]} tokens")
    params = GenerationParams(max_new_tokens=new_tokens, temperature=0.0)
    runs = []
    for i, (messages, n_prompt) in enumerate(prompts):
        model.generate(FLUSH, GenerationParams(max_new_tokens=1, temperature=0.0))
        pieces, first = [], None
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        for piece in model.stream(messages, params):
            if first is None and piece:
                first = time.perf_counter() - t0
            pieces.append(piece)
        total = time.perf_counter() - t0
        done = model.generate(messages, params)  # greedy: same text, and the server's count
        n_new = done.completion_tokens or len(pieces)
        decode = (n_new - 1) / (total - first) if first is not None and n_new > 1 and total > first else None
        run = {"question": questions[i], "prompt_tokens": n_prompt, "new_tokens": n_new,
               "stream_pieces": len(pieces), "ttft_s": round(first or total, 3),
               "total_s": round(total, 3), "decode_tokens_per_s": round(decode, 1) if decode else None,
               "projected_total_s_for_128": round((first or 0) + (new_tokens - 1) / decode, 3) if decode else None,
               "same_text_as_generate": "".join(pieces).strip() == done.text.strip(),
               "finish_reason": done.extra.get("finish_reason"), "load_avg_1m": round(load, 2)}
        runs.append(run)
        log(f"  run {i + 1}: prompt {n_prompt} tok, TTFT {run['ttft_s']}s, {n_new} new tokens "
            f"at {run['decode_tokens_per_s']} tok/s, total {run['total_s']}s")

    def med(key):
        vals = [r[key] for r in runs if r[key] is not None]
        return round(statistics.median(vals), 3) if vals else None

    summary = {"model_id": model.model_id, "threads": os.cpu_count(), "load_s": round(load_s, 2),
               "runs": runs, "median_ttft_s": med("ttft_s"), "median_total_s": med("total_s"),
               "median_decode_tokens_per_s": med("decode_tokens_per_s"),
               "median_projected_total_s_for_128": med("projected_total_s_for_128"),
               "best_ttft_s": min(r["ttft_s"] for r in runs),
               "best_decode_tokens_per_s": max((r["decode_tokens_per_s"] or 0) for r in runs) or None,
               "best_total_s": min(r["total_s"] for r in runs),
               "speed_suffix": SPEED_SUFFIX, "target": TARGET}
    proj = summary["median_projected_total_s_for_128"]
    summary["meets_3s_target"] = proj is not None and proj < TARGET["total_s"]
    return summary
