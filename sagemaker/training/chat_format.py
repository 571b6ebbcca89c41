"""Tokenizing rendered conversations for training: the assistant-only label mask.

The templates are the model contract's (``model_contract.py``, the same file the chat
service and the model server use), so a fine-tune sees byte for byte the prompts the chat
service sends at serving time. Not the tokenizer's ``apply_chat_template``: the LLaMA 3
tokenizer shipped for the tests has none, and SmolLM2's differs in details.

An example is rendered as segments ``(text, trainable)``; each is tokenized on its own and
the ids concatenated. Labels are -100 on everything but the assistant's replies and the
end-of-turn token that closes each (the model must learn to stop). Tokenizing per segment
is what generation does too: the prompt ends with the assistant header and the reply's
tokens start fresh after it. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import model_contract
from model_contract import Segment

IGNORE_INDEX = -100  # the label torch's cross-entropy skips
ROLES = model_contract.ROLES


def render_segments(messages: Sequence[dict], template: str) -> list[Segment]:
    """A whole conversation; assistant replies (and their end-of-turn token) trainable."""
    return model_contract.chat_template(template).segments(messages)


def render_prompt(messages: Sequence[dict], template: str) -> str:
    """The generation prompt for ``messages``: what the content handler sends the endpoint."""
    return model_contract.chat_template(template).prompt(messages)


Encode = Callable[[str], list[int]]


def encode_segments(
    segments: Sequence[Segment], encode: Encode, max_length: int
) -> tuple[list[int], list[int], bool] | None:
    """``(input_ids, labels, truncated)`` or None when no trainable token survives the cut.

    ``encode`` turns text into ids without adding special tokens (the template has them).
    """
    ids: list[int] = []
    labels: list[int] = []
    for seg in segments:
        if not seg.text:
            continue
        piece = encode(seg.text)
        ids.extend(piece)
        labels.extend(piece if seg.trainable else [IGNORE_INDEX] * len(piece))
    truncated = len(ids) > max_length
    ids, labels = ids[:max_length], labels[:max_length]
    # The first label is never predicted (labels are shifted inside the model's loss).
    if not any(label != IGNORE_INDEX for label in labels[1:]):
        return None
    return ids, labels, truncated


def encode_text_windows(
    text: str, template: str, encode: Encode, max_length: int
) -> list[tuple[list[int], list[int]]]:
    """A document for domain adaptation, cut into windows of at most ``max_length`` tokens."""
    bos, eos = model_contract.chat_template(template).text_frame
    head = encode(bos) if bos else []
    body = encode(text)
    tail = encode(eos) if eos else []
    room = max(8, max_length - len(head) - len(tail))
    windows = []
    for start in range(0, len(body), room):
        chunk = body[start : start + room]
        last = start + room >= len(body)
        ids = head + chunk + (tail if last else [])
        if len(ids) >= 2:
            windows.append((ids, list(ids)))
    return windows


def missing_template_tokens(template: str, token_to_id: Callable[[str], int | None]) -> list[str]:
    """The template's control tokens the tokenizer lacks as single entries."""
    return [t for t in model_contract.chat_template(template).vocabulary_tokens if token_to_id(t) is None]
