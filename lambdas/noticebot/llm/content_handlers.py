"""A model's request/response format, kept apart from the transport.

Why: the same bytes go to a SageMaker endpoint (LMI/TGI container) in AWS and to
the local model server on a laptop, so the chat template, the payload shape and
the parsing of every response form live here once, and transports only move
bytes. Payloads follow the TGI / LMI "inputs + parameters" contract:

    {"inputs": "<templated prompt>",
     "parameters": {"max_new_tokens": .., "temperature": .., "top_p": .., "stop": [..],
                    "do_sample": .., "return_full_text": false, "details": true}}

TGI rejects ``temperature <= 0`` and ``top_p >= 1``, so greedy decoding is sent
as ``do_sample: false`` without those two fields, and ``top_p`` of 1 is left out.
``details: true`` asks the container for token counts (usage reporting).

Message contents are cleaned of the template's control tokens: retrieved
documents and users' text must not be able to forge a ``system`` turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from noticebot.domain.errors import InvalidRequest, ModelUnavailable
from noticebot.domain.models import Message
from noticebot.ports.chat_model import GenerationParams

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class ModelOutput:
    """A parsed response: the text (stop strings removed) and what the server reported."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None


def cut_at_stop(text: str, stops: Iterable[str]) -> str:
    """Text up to the first stop string (TGI returns the stop sequence it hit)."""
    cut = len(text)
    for stop in stops:
        if stop:
            at = text.find(stop)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]


class StopFilter:
    """Streaming counterpart of :func:`cut_at_stop`.

    A stop string can arrive split over several pieces, so the tail that could be
    the start of a stop string is held back until the next piece decides it.
    """

    def __init__(self, stops: Iterable[str]):
        self.stops = tuple(s for s in stops if s)
        self.done = False
        self._held = ""

    def feed(self, piece: str) -> str:
        if self.done:
            return ""
        text = self._held + piece
        cut = cut_at_stop(text, self.stops)
        if cut != text:
            self.done, self._held = True, ""
            return cut
        hold = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(text)), hold, -1):
                if text.endswith(stop[:n]):
                    hold = n
                    break
        self._held = text[len(text) - hold :] if hold else ""
        return text[: len(text) - hold]

    def flush(self) -> str:
        """What was held back when the stream ended without a stop string."""
        held, self._held = ("" if self.done else self._held), ""
        return held


class ContentHandler:
    """Base: payload and response handling. Subclasses supply the chat template."""

    name = "raw"
    stop_tokens: tuple[str, ...] = ()
    control_tokens: tuple[str, ...] = ()

    # ---- prompt --------------------------------------------------------------
    def format_prompt(self, messages: Sequence[Message]) -> str:
        raise NotImplementedError

    def _checked(self, messages: Sequence[Message]) -> list[Message]:
        if not messages:
            raise InvalidRequest("at least one message is required")
        out = []
        for m in messages:
            if m.role not in ROLES:
                raise InvalidRequest(f"unknown message role {m.role!r}")
            out.append(Message(role=m.role, content=self.clean(m.content)))
        return out

    def clean(self, content: str) -> str:
        for token in self.control_tokens:
            content = content.replace(token, "")
        return content

    # ---- request -------------------------------------------------------------
    def stops(self, params: GenerationParams) -> list[str]:
        seen: list[str] = []
        for s in (*self.stop_tokens, *params.stop):
            if s and s not in seen:
                seen.append(s)
        return seen

    def build_payload(
        self, messages: Sequence[Message], params: GenerationParams, *, stream: bool = False
    ) -> dict:
        parameters: dict = {
            "max_new_tokens": int(params.max_new_tokens),
            "stop": self.stops(params),
            "return_full_text": False,
            "details": True,
        }
        if params.temperature > 0:
            parameters["do_sample"] = True
            parameters["temperature"] = float(params.temperature)
            if 0 < params.top_p < 1:
                parameters["top_p"] = float(params.top_p)
        else:
            parameters["do_sample"] = False
        if params.repetition_penalty:
            parameters["repetition_penalty"] = float(params.repetition_penalty)
        payload = {"inputs": self.format_prompt(messages), "parameters": parameters}
        if stream:
            payload["stream"] = True  # TGI/LMI on SageMaker stream only when asked in the body
        return payload

    def transform_input(
        self, messages: Sequence[Message], params: GenerationParams, *, stream: bool = False
    ) -> bytes:
        payload = self.build_payload(messages, params, stream=stream)
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    # ---- response ------------------------------------------------------------
    def transform_output(self, body: bytes) -> str:
        return self.parse_output(body).text

    def parse_output(self, body: bytes) -> ModelOutput:
        """Accepts ``{"generated_text"}``, TGI's ``[{"generated_text"}]`` and OpenAI ``choices``."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelUnavailable(f"model returned non-JSON output: {body[:200]!r}") from exc
        if isinstance(data, list) and data and isinstance(data[0], dict):
            data = data[0]
        if not isinstance(data, dict):
            raise ModelUnavailable(f"unexpected model output: {str(data)[:200]}")
        if "error" in data and "generated_text" not in data:
            raise ModelUnavailable(f"model error: {str(data['error'])[:500]}")
        if "generated_text" in data:
            details = data.get("details") or {}
            prompt = details.get("prompt_tokens") or len(details.get("prefill") or ())
            return ModelOutput(
                text=cut_at_stop(str(data["generated_text"] or ""), self.stop_tokens),
                prompt_tokens=int(prompt or 0),
                completion_tokens=int(details.get("generated_tokens") or 0),
                finish_reason=details.get("finish_reason"),
            )
        choices = data.get("choices")
        if isinstance(choices, list) and choices:
            choice = choices[0]
            content = (choice.get("message") or {}).get("content")
            if content is None:
                content = choice.get("text", "")
            usage = data.get("usage") or {}
            return ModelOutput(
                text=cut_at_stop(content or "", self.stop_tokens),
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=choice.get("finish_reason"),
            )
        raise ModelUnavailable(f"unexpected model output: {str(data)[:200]}")

    def parse_stream_line(self, line: bytes) -> str | None:
        """Text of one streamed line, or None for keep-alives, end lines and [DONE].

        TGI/LMI send ``data:{"token":{"text":..}}``; their last line repeats the whole
        answer in ``generated_text``, which is ignored here (the tokens carried it).
        LMI's jsonlines form is the same JSON without ``data:``. OpenAI-style
        ``choices[0].delta.content`` is accepted too. Special tokens are skipped.
        """
        text = line.decode("utf-8", errors="replace").strip()
        if not text or text.startswith(":") or text.startswith("event:"):
            return None
        if text.startswith("data:"):
            text = text[5:].strip()
        if not text or text == "[DONE]":
            return None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ModelUnavailable(f"unexpected stream line: {text[:200]}") from exc
        if not isinstance(data, dict):
            return None
        if "error" in data and data.get("error"):
            raise ModelUnavailable(f"model error: {str(data['error'])[:500]}")
        token = data.get("token")
        if isinstance(token, dict):
            if token.get("special"):
                return None
            return token.get("text") or None
        choices = data.get("choices")
        if isinstance(choices, list) and choices:
            delta = choices[0].get("delta") or {}
            return delta.get("content") or choices[0].get("text") or None
        return None


class ChatMLContentHandler(ContentHandler):
    """SmolLM2-Instruct (ChatML). Checked against the chat template in the GGUF file.

    The GGUF's ``tokenizer.chat_template`` inserts a default system turn when the
    first message is not ``system`` and does not trim contents; this does the same
    (tests/integration/models/test_chat_template.py renders the stored template).
    """

    name = "chatml"
    stop_tokens = ("<|im_end|>",)
    control_tokens = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
    default_system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    def format_prompt(self, messages: Sequence[Message]) -> str:
        msgs = self._checked(messages)
        parts = []
        if msgs[0].role != "system" and self.default_system is not None:
            parts.append(f"<|im_start|>system\n{self.default_system}<|im_end|>\n")
        for m in msgs:
            parts.append(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n")
        parts.append("<|im_start|>assistant\n")
        return "".join(parts)


class Llama3ContentHandler(ContentHandler):
    """Meta LLaMA 3 Instruct: header-delimited turns, contents trimmed as Meta's template does."""

    name = "llama3"
    stop_tokens = ("<|eot_id|>",)
    control_tokens = (
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
    )

    def format_prompt(self, messages: Sequence[Message]) -> str:
        parts = ["<|begin_of_text|>"]
        for m in self._checked(messages):
            parts.append(
                f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content.strip()}<|eot_id|>"
            )
        parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
        return "".join(parts)


HANDLERS = {"chatml": ChatMLContentHandler, "llama3": Llama3ContentHandler}


def get_content_handler(name: str) -> ContentHandler:
    """By config name ("chatml" for SmolLM2 locally, "llama3" for the SageMaker model)."""
    try:
        return HANDLERS[name]()
    except KeyError:
        raise ValueError(f"unknown content handler {name!r}; known: {sorted(HANDLERS)}") from None
