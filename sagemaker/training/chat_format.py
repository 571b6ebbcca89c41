"""Chat templates for training, and the assistant-only label mask.

Why here and not the tokenizer's ``apply_chat_template``: the LLaMA 3 tokenizer shipped
for the tests has no template, SmolLM2's differs in details, and what matters is that a
fine-tune sees byte for byte the prompts the chat service sends at serving time. Those come
from ``noticebot.llm.content_handlers`` (``Llama3ContentHandler``, ``ChatMLContentHandler``),
which a SageMaker training container does not have, so the two templates are restated here
and a unit test (tests/unit/training/test_chat_format.py) holds them equal.

An example is rendered as segments ``(text, trainable)``; each is tokenized on its own and
the ids concatenated. Labels are -100 on everything but the assistant's replies and the
end-of-turn token that closes each (the model must learn to stop). Tokenizing per segment
is what generation does too: the prompt ends with the assistant header and the reply's
tokens start fresh after it. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant")

LLAMA3_CONTROL = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
)
CHATML_CONTROL = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
CHATML_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

# Tokens each template needs as single vocabulary entries, and how a plain-text document
# (domain adaptation) is framed.
TEMPLATE_TOKENS = {
    "llama3": ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
    "chatml": ("<|im_start|>", "<|im_end|>"),
}
TEXT_FRAME = {"llama3": ("<|begin_of_text|>", "<|end_of_text|>"), "chatml": ("", "<|endoftext|>")}


@dataclass(frozen=True)
class Segment:
    text: str
    trainable: bool


def clean(content: str, template: str) -> str:
    """Drops the template's control tokens from a message, as the content handlers do."""
    for token in LLAMA3_CONTROL if template == "llama3" else CHATML_CONTROL:
        content = content.replace(token, "")
    return content


def _check(messages: Sequence[dict]) -> list[tuple[str, str]]:
    out = []
    for m in messages:
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise ValueError(f"unknown message role {role!r}")
        if not isinstance(content, str):
            raise ValueError(f"message content must be a string (role {role})")
        out.append((role, content))
    if not out:
        raise ValueError("no messages")
    return out


def render_segments(messages: Sequence[dict], template: str) -> list[Segment]:
    """A whole conversation; assistant replies (and their end-of-turn token) trainable."""
    msgs = _check(messages)
    segments: list[Segment] = []
    if template == "llama3":
        segments.append(Segment("<|begin_of_text|>", False))
        for role, content in msgs:
            content = clean(content, template).strip()
            segments.append(Segment(f"<|start_header_id|>{role}<|end_header_id|>\n\n", False))
            segments.append(Segment(f"{content}<|eot_id|>", role == "assistant"))
    elif template == "chatml":
        if msgs[0][0] != "system":
            segments.append(Segment(f"<|im_start|>system\n{CHATML_DEFAULT_SYSTEM}<|im_end|>\n", False))
        for role, content in msgs:
            content = clean(content, template)
            segments.append(Segment(f"<|im_start|>{role}\n", False))
            segments.append(Segment(f"{content}<|im_end|>", role == "assistant"))
            segments.append(Segment("\n", False))
    else:
        raise ValueError(f"unknown chat template {template!r}")
    return segments


def render_prompt(messages: Sequence[dict], template: str) -> str:
    """The generation prompt for ``messages``: what the content handler sends the endpoint."""
    text = "".join(s.text for s in render_segments(messages, template))
    if template == "llama3":
        return text + "<|start_header_id|>assistant<|end_header_id|>\n\n"
    return text + "<|im_start|>assistant\n"


def text_segments(text: str, template: str) -> list[Segment]:
    bos, eos = TEXT_FRAME[template]
    return [Segment(bos, False), Segment(text, True), Segment(eos, True)]


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
    bos, eos = TEXT_FRAME[template]
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
    return [t for t in TEMPLATE_TOKENS[template] if token_to_id(t) is None]
