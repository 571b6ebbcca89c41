"""The model contract: the bytes that go to a chat model and come back, defined once.

Every side of the model speaks it: the chat adapters (``noticebot.llm.content_handlers``),
the model server (``noticebot.model_server``, locally and in the SageMaker serving image),
the training script (``sagemaker/training``: a fine-tune must see byte for byte the prompts
served later) and the LangChain client (``clients/noticebot_langchain``).

Standard library only, one file, no imports from ``noticebot``: the training source
directory and the LangChain client ship this same file as a top-level module (each holds a
symbolic link to it; the packaging reads through the link), so neither needs the Lambda
package. Errors are ``ValueError`` subclasses; callers translate them into their own.

What it holds:

- chat templates: LLaMA 3 Instruct (the SageMaker endpoint) and ChatML (SmolLM2, the local
  model), their control tokens, stop tokens and plain-text framing. Message contents are
  cleaned of control tokens, so documents and users' text cannot forge a ``system`` turn.
- the endpoint payload (TGI / LMI "inputs + parameters"):

      {"inputs": "<templated prompt>",
       "parameters": {"max_new_tokens": .., "temperature": .., "top_p": .., "stop": [..],
                      "do_sample": .., "return_full_text": false, "details": true}}

  answered by ``{"generated_text", "details": {"prompt_tokens", "generated_tokens",
  "finish_reason"}}`` (TGI's list form and OpenAI ``choices`` are read too), or, with
  ``"stream": true``, ``data:{"index", "token": {"text"}}`` lines and a closing
  ``data:{"generated_text", "details"}`` line.
- stop handling: cutting at a stop string, and holding back a streamed tail that may be the
  start of one.
- the HF-format copy of a GGUF model: its cache folder's name, and how it is built, so
  training and the model server share one copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROLES = ("system", "user", "assistant")


class MessageError(ValueError):
    """Messages the template cannot render."""


class RequestError(ValueError):
    """A payload that does not follow the contract (the model server's 400)."""


class OutputError(ValueError):
    """A model reply that does not follow the contract."""


# ---- chat templates -------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    """A piece of a rendered conversation; ``trainable``: the model learns to produce it."""

    text: str
    trainable: bool


def checked_messages(messages: Sequence[Mapping]) -> list[tuple[str, str]]:
    """``[(role, content)]``; at least one message, known roles, string contents."""
    out = []
    for m in messages:
        role, content = m.get("role"), m.get("content")
        if role not in ROLES:
            raise MessageError(f"unknown message role {role!r}")
        if not isinstance(content, str):
            raise MessageError(f"message content must be a string (role {role})")
        out.append((role, content))
    if not out:
        raise MessageError("at least one message is required")
    return out


class ChatTemplate:
    """How a conversation becomes the prompt text. Subclasses give the format."""

    name = "raw"
    control_tokens: tuple[str, ...] = ()
    stop_tokens: tuple[str, ...] = ()
    # Tokens the tokenizer must hold as single entries for this template to train well.
    vocabulary_tokens: tuple[str, ...] = ()
    # How a plain-text document (domain adaptation) is framed: (before, after).
    text_frame: tuple[str, str] = ("", "")

    def clean(self, content: str) -> str:
        for token in self.control_tokens:
            content = content.replace(token, "")
        return content

    def segments(self, messages: Sequence[Mapping]) -> list[Segment]:
        """The whole conversation; assistant replies and their end-of-turn token trainable."""
        raise NotImplementedError

    def generation_header(self) -> str:
        """What opens the assistant's turn the model is asked to write."""
        raise NotImplementedError

    def prompt(self, messages: Sequence[Mapping]) -> str:
        """The generation prompt: the conversation, then the assistant's header."""
        return "".join(s.text for s in self.segments(messages)) + self.generation_header()


class Llama3Template(ChatTemplate):
    """Meta LLaMA 3 Instruct: header-delimited turns, contents trimmed as Meta's template does."""

    name = "llama3"
    control_tokens = ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                      "<|end_header_id|>", "<|eot_id|>")
    stop_tokens = ("<|eot_id|>",)
    vocabulary_tokens = ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
    text_frame = ("<|begin_of_text|>", "<|end_of_text|>")

    def segments(self, messages: Sequence[Mapping]) -> list[Segment]:
        out = [Segment("<|begin_of_text|>", False)]
        for role, content in checked_messages(messages):
            out.append(Segment(f"<|start_header_id|>{role}<|end_header_id|>\n\n", False))
            out.append(Segment(f"{self.clean(content).strip()}<|eot_id|>", role == "assistant"))
        return out

    def generation_header(self) -> str:
        return "<|start_header_id|>assistant<|end_header_id|>\n\n"


class ChatMLTemplate(ChatTemplate):
    """ChatML as SmolLM2-Instruct's GGUF renders it: a default system turn when the first
    message is not ``system``, contents not trimmed (tests/integration/models/
    test_chat_template.py renders the template stored in the GGUF file)."""

    name = "chatml"
    control_tokens = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")
    stop_tokens = ("<|im_end|>",)
    vocabulary_tokens = ("<|im_start|>", "<|im_end|>")
    text_frame = ("", "<|endoftext|>")
    default_system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    def segments(self, messages: Sequence[Mapping]) -> list[Segment]:
        msgs = checked_messages(messages)
        out = []
        if msgs[0][0] != "system":
            out.append(Segment(f"<|im_start|>system\n{self.default_system}<|im_end|>\n", False))
        for role, content in msgs:
            out.append(Segment(f"<|im_start|>{role}\n", False))
            out.append(Segment(f"{self.clean(content)}<|im_end|>", role == "assistant"))
            out.append(Segment("\n", False))
        return out

    def generation_header(self) -> str:
        return "<|im_start|>assistant\n"


TEMPLATES: dict[str, ChatTemplate] = {"llama3": Llama3Template(), "chatml": ChatMLTemplate()}


def chat_template(name: str) -> ChatTemplate:
    """By config name: "llama3" (the SageMaker model) or "chatml" (SmolLM2 locally)."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise MessageError(f"unknown chat template {name!r}; known: {sorted(TEMPLATES)}") from None


# ---- stops ----------------------------------------------------------------------------------
def merge_stops(*groups: Iterable[str]) -> list[str]:
    """Stop strings in order, without blanks or repeats."""
    seen: list[str] = []
    for group in groups:
        for s in group or ():
            if isinstance(s, str) and s and s not in seen:
                seen.append(s)
    return seen


def cut_at_stop(text: str, stops: Iterable[str]) -> str:
    """Text up to the first stop string (TGI returns the stop sequence it hit)."""
    cut = len(text)
    for stop in stops:
        if stop:
            at = text.find(stop)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]


def stop_hold(text: str, stops: Iterable[str]) -> int:
    """How many trailing characters of ``text`` could still become a stop string."""
    hold = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), hold, -1):
            if text.endswith(stop[:n]):
                hold = n
                break
    return hold


class StopFilter:
    """Streaming :func:`cut_at_stop`: a stop string can arrive split over several pieces, so
    the tail that could start one is held back until the next piece decides it."""

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
        hold = stop_hold(text, self.stops)
        self._held = text[len(text) - hold :] if hold else ""
        return text[: len(text) - hold]

    def flush(self) -> str:
        """What was held back when the stream ended without a stop string."""
        held, self._held = ("" if self.done else self._held), ""
        return held


# ---- the payload (client side) ----------------------------------------------------------------
def encode_json(obj) -> bytes:
    """UTF-8 JSON, non-ASCII text unescaped (what every side of the contract sends)."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def build_payload(prompt: str, *, max_new_tokens: int, temperature: float, top_p: float,
                  stop: Sequence[str], repetition_penalty: float | None = None,
                  stream: bool = False) -> dict:
    """TGI rejects ``temperature <= 0`` and ``top_p >= 1``: greedy decoding is sent as
    ``do_sample: false`` without those two fields, and a ``top_p`` of 1 is left out.
    ``details: true`` asks for token counts (usage reporting)."""
    parameters: dict = {
        "max_new_tokens": int(max_new_tokens),
        "stop": list(stop),
        "return_full_text": False,
        "details": True,
    }
    if temperature > 0:
        parameters["do_sample"] = True
        parameters["temperature"] = float(temperature)
        if 0 < top_p < 1:
            parameters["top_p"] = float(top_p)
    else:
        parameters["do_sample"] = False
    if repetition_penalty:
        parameters["repetition_penalty"] = float(repetition_penalty)
    payload = {"inputs": prompt, "parameters": parameters}
    if stream:
        payload["stream"] = True  # TGI/LMI on SageMaker stream only when asked in the body
    return payload


@dataclass(frozen=True)
class Generation:
    """A parsed reply: the text (stop strings removed) and what the server reported."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None


def parse_response(body: bytes | str, stops: Iterable[str] = ()) -> Generation:
    """Reads ``{"generated_text"}``, TGI's ``[{"generated_text"}]`` and OpenAI ``choices``."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OutputError(f"model returned non-JSON output: {body[:200]!r}") from exc
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict):
        raise OutputError(f"unexpected model output: {str(data)[:200]}")
    if "error" in data and "generated_text" not in data:
        raise OutputError(f"model error: {str(data['error'])[:500]}")
    stops = tuple(stops)
    if "generated_text" in data:
        prompt, generated, finish = _token_counts(data.get("details"))
        return Generation(
            text=cut_at_stop(str(data["generated_text"] or ""), stops),
            prompt_tokens=prompt, completion_tokens=generated, finish_reason=finish,
        )
    choices = data.get("choices")
    if isinstance(choices, list) and choices:
        choice = choices[0]
        content = (choice.get("message") or {}).get("content")
        if content is None:
            content = choice.get("text", "")
        usage = data.get("usage") or {}
        return Generation(
            text=cut_at_stop(content or "", stops),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            finish_reason=choice.get("finish_reason"),
        )
    raise OutputError(f"unexpected model output: {str(data)[:200]}")


def _token_counts(details) -> tuple[int, int, str | None]:
    """(prompt tokens, generated tokens, finish reason) from a reply's ``details``: the
    contract's ``prompt_tokens``, or TGI's ``prefill`` list; 0 where it says nothing."""
    if not isinstance(details, dict):
        return 0, 0, None
    prompt = details.get("prompt_tokens") or len(details.get("prefill") or ())
    try:
        return (int(prompt or 0), int(details.get("generated_tokens") or 0),
                details.get("finish_reason"))
    except (TypeError, ValueError):
        return 0, 0, None


def parse_stream_end(line: bytes | str) -> Generation | None:
    """The token counts of a stream's last line (``generated_text`` with ``details``), or
    None for any other line. Never raises: counts are for reporting only."""
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    text = text.strip()
    if text.startswith("data:"):
        text = text[5:].strip()
    if not text.startswith("{") or "generated_text" not in text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or "generated_text" not in data:
        return None
    prompt, generated, finish = _token_counts(data.get("details"))
    return Generation(text="", prompt_tokens=prompt, completion_tokens=generated,
                      finish_reason=finish)


def parse_stream_line(line: bytes | str) -> str | None:
    """Text of one streamed line, or None for keep-alives, end lines and ``[DONE]``.

    TGI/LMI send ``data:{"token":{"text":..}}``; their last line repeats the whole answer in
    ``generated_text``, which is ignored here (the tokens carried it). LMI's jsonlines form is
    the same JSON without ``data:``. OpenAI-style ``choices[0].delta.content`` is accepted
    too. Special tokens are skipped.
    """
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    text = text.strip()
    if not text or text.startswith(":") or text.startswith("event:"):
        return None
    if text.startswith("data:"):
        text = text[5:].strip()
    if not text or text == "[DONE]":
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise OutputError(f"unexpected stream line: {text[:200]}") from exc
    if not isinstance(data, dict):
        return None
    if "error" in data and data.get("error"):
        raise OutputError(f"model error: {str(data['error'])[:500]}")
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


# ---- the payload (server side) ----------------------------------------------------------------
@dataclass(frozen=True)
class GenerationRequest:
    """TGI's parameters, with TGI's rules: sampling only when asked for (``do_sample``) or
    when a sampling knob is given; a temperature of 0 or less is greedy."""

    prompt: str
    max_new_tokens: int = 256
    greedy: bool = True
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 40
    repetition_penalty: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 42
    return_full_text: bool = False
    adapter: str | None = None


def parse_request(body: bytes, default_seed: int = 42) -> GenerationRequest:
    try:
        payload = json.loads(body)
        prompt = payload["inputs"]
        params = payload.get("parameters") or {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RequestError("payload must be JSON with 'inputs' and 'parameters'") from exc
    if not isinstance(prompt, str) or not prompt:
        raise RequestError("'inputs' must be a non-empty string")
    if not isinstance(params, dict):
        raise RequestError("'parameters' must be an object")
    adapter = payload.get("adapter")
    try:
        sample = bool(params.get("do_sample")) or any(k in params for k in ("temperature", "top_p", "top_k"))
        temperature = float(params.get("temperature", 1.0))
        return GenerationRequest(
            prompt=prompt,
            max_new_tokens=max(1, int(params.get("max_new_tokens", 256))),
            greedy=not sample or temperature <= 0,
            temperature=temperature,
            top_p=float(params.get("top_p", 1.0)),
            top_k=int(params.get("top_k", 40) or 40),
            repetition_penalty=float(params.get("repetition_penalty", 1.0) or 1.0),
            stop=tuple(s for s in params.get("stop") or [] if isinstance(s, str) and s),
            seed=int(params.get("seed", default_seed)),
            return_full_text=bool(params.get("return_full_text")),
            adapter=adapter if isinstance(adapter, str) and adapter else None,
        )
    except (TypeError, ValueError) as exc:
        raise RequestError(f"bad generation parameter: {exc}") from exc


def generation_details(finish_reason: str | None, prompt_tokens: int, generated_tokens: int) -> dict:
    return {"finish_reason": finish_reason, "prompt_tokens": prompt_tokens,
            "generated_tokens": generated_tokens}


def response_body(text: str, details: dict) -> bytes:
    return encode_json({"generated_text": text, "details": details})


def stream_token_line(index: int, text: str) -> bytes:
    token = {"id": index, "text": text, "logprob": None, "special": False}
    return b"data:" + encode_json({"index": index, "token": token}) + b"\n\n"


def stream_end_line(text: str, details: dict) -> bytes:
    return b"data:" + encode_json({"generated_text": text, "details": details}) + b"\n\n"


# ---- the HF-format copy of a GGUF model -------------------------------------------------------
# transformers dequantizes a GGUF to fp32 on every load (~15 s); training and the model server
# both load the one copy saved as safetensors (0.2 s). The folder name depends on the file's
# content only, so both find the same copy.
ENV_MODEL_CACHE = "NOTICEBOT_MODEL_CACHE"
COMPLETE_MARKER = ".noticebot-complete"


def default_cache_root() -> Path:
    env = os.environ.get(ENV_MODEL_CACHE)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "noticebot" / "models"


def gguf_cache_name(gguf: Path) -> str:
    """``<stem>-<12 hex>``: size plus the first and last MiB (cheap, content-based)."""
    gguf = Path(gguf)
    size = gguf.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with gguf.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        if size > (1 << 20):
            fh.seek(max(0, size - (1 << 20)))
            digest.update(fh.read(1 << 20))
    return f"{gguf.stem}-{digest.hexdigest()[:12]}"


def dtype_kwargs(dtype) -> dict:
    """transformers 5 calls it ``dtype``; 4.x before 4.56 only knew ``torch_dtype``."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def hf_copy_of_gguf(gguf: Path, cache_root: Path | None = None,
                    log: Callable[[str], object] | None = None) -> Path:
    """The fp32 safetensors copy of a GGUF model, built on first use (torch, transformers and
    gguf are imported only then)."""
    gguf = Path(gguf)
    target = Path(cache_root or default_cache_root()) / gguf_cache_name(gguf)
    if (target / COMPLETE_MARKER).is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the GGUF loader's bars would fill the logs

    if log is not None:
        log(f"converting {gguf.name} to an HF-format copy in {target} (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, **dtype_kwargs(torch.float32))
        # A fresh model of the same config: the GGUF-loaded one carries quantization
        # bookkeeping that save_pretrained would write back.
        fresh = type(loaded)(loaded.config)
        fresh.load_state_dict(loaded.state_dict())
        fresh.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        (tmp / COMPLETE_MARKER).write_text(str(gguf))
        del loaded, fresh
        try:
            os.replace(tmp, target)  # atomic; fails if another process got there first
        except OSError:
            if not (target / COMPLETE_MARKER).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
