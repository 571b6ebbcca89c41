"""Token-by-token decoding of a transformers model with TGI's parameters.

Why a plain loop over the KV cache rather than ``model.generate``: stop strings end
generation as soon as they appear in the decoded text, and streamed pieces never carry
part of one (the tail that could start a stop string is held back, as clients do). torch
and transformers are imported on first use.
"""

from __future__ import annotations

from collections.abc import Iterator

from noticebot.domain.errors import InvalidRequest
from noticebot.model_contract import GenerationRequest, generation_details, stop_hold


def eos_ids(model, tokenizer) -> set[int]:
    """Every end-of-sequence id the model's generation config and tokenizer name."""
    ids: set[int] = set()
    config = getattr(model, "generation_config", None)
    eos = getattr(config, "eos_token_id", None) if config is not None else None
    for value in eos if isinstance(eos, (list, tuple)) else [eos]:
        if isinstance(value, int):
            ids.add(value)
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def cache_argument(model) -> str:
    """transformers 5 renamed the KV cache argument ``past_key_values`` -> ``cache``."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def generate(model, tokenizer, req: GenerationRequest, *, device: str, n_ctx: int,
             cache_kw: str) -> Iterator[tuple[str, dict | None]]:
    """Yields ``(piece, None)`` while generating, then ``(full_text, details)``."""
    import torch
    from transformers import (
        LogitsProcessorList,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    prompt_ids = tokenizer(req.prompt, add_special_tokens=False, return_tensors="pt").input_ids.to(device)
    n_prompt = int(prompt_ids.shape[1])
    limit = min(n_ctx, int(getattr(model.config, "max_position_embeddings", n_ctx) or n_ctx))
    room = limit - n_prompt
    if room < 1:
        raise InvalidRequest(f"prompt is {n_prompt} tokens; the context holds {limit}")
    max_new = max(1, min(req.max_new_tokens, room))
    processors = LogitsProcessorList()
    if req.repetition_penalty and req.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(req.repetition_penalty))
    if not req.greedy:
        processors.append(TemperatureLogitsWarper(req.temperature))
        if req.top_k > 0:
            processors.append(TopKLogitsWarper(req.top_k))
        if 0 < req.top_p < 1:
            processors.append(TopPLogitsWarper(req.top_p))
    generator = torch.Generator(device="cpu").manual_seed(req.seed)
    eos = eos_ids(model, tokenizer)
    generated: list[int] = []
    text, emitted, finish = "", 0, "length"
    step_input, past = prompt_ids, None
    with torch.no_grad():
        for _ in range(max_new):
            out = model(input_ids=step_input, use_cache=True, **{cache_kw: past})
            past = out["cache"] if "cache" in out else out["past_key_values"]
            scores = out.logits[:, -1, :].float()
            if len(processors):
                history = torch.cat([prompt_ids, torch.tensor([generated], dtype=torch.long,
                                                              device=prompt_ids.device)], dim=1)
                scores = processors(history, scores)
            if req.greedy:
                next_id = int(torch.argmax(scores, dim=-1))
            else:
                probs = torch.softmax(scores, dim=-1).cpu()
                next_id = int(torch.multinomial(probs, 1, generator=generator))
            if next_id in eos:
                finish = "stop"
                break
            generated.append(next_id)
            text = tokenizer.decode(generated, skip_special_tokens=True, clean_up_tokenization_spaces=False)
            cut = min((i for i in (text.find(s) for s in req.stop) if i != -1), default=-1)
            if cut != -1:
                text, finish = text[:cut], "stop"
                break
            safe = len(text) - stop_hold(text, req.stop)
            if text.endswith("\ufffd"):  # a character split across tokens
                safe = min(safe, len(text) - 1)
            if safe > emitted:
                yield text[emitted:safe], None
                emitted = safe
            step_input = torch.tensor([[next_id]], dtype=torch.long, device=prompt_ids.device)
    if len(text) > emitted:
        yield text[emitted:], None
    details = generation_details(finish, n_prompt, len(generated))
    yield (req.prompt + text if req.return_full_text else text), details
