"""LoRA adapters served by transformers + PEFT, behind the same endpoint contract.

Why a second backend: llama.cpp runs the base model from its GGUF file, but the fine-tunes
that ``sagemaker/training/train.py`` writes are PEFT adapters (``adapter_config.json`` +
``adapter_model.safetensors``), the format SageMaker's LoRA inference components take.
llama.cpp cannot apply those; converting each one to a GGUF LoRA would need llama.cpp's
conversion script (not in the llama-cpp-python wheel) and would serve the adapter on the
4-bit Q4_1 weights it was not trained against. Here the adapter runs on exactly the
weights it was trained on: the HF-format copy of the GGUF that training used, built once
and cached (the folder name is content-based and computed as ``sagemaker/training/
base_model.py`` computes it, so training and serving share one copy). Several adapters live
on one base model in memory; each request selects one (or none: the base model).

Payloads and replies are those of ``model_server.LocalModelEndpoint`` (TGI's
``{"inputs", "parameters"}`` -> ``{"generated_text", "details"}``, or ``data:`` lines when
streaming). Decoding is a plain loop over the KV cache, so stop strings end generation as
soon as they appear and streamed pieces never carry part of one. torch, transformers and
peft are imported on first use: constructing this costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from noticebot.domain.errors import InvalidRequest, ModelUnavailable
from noticebot.ports.chat_model import ModelEndpoint

ENV_MODEL_CACHE = "NOTICEBOT_MODEL_CACHE"
COMPLETE_MARKER = ".noticebot-complete"
ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # an inference component name
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


# ---- the HF-format copy of a GGUF model (same rules as sagemaker/training/base_model.py) ---
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


def hf_copy_of_gguf(gguf: Path, cache_root: Path | None = None) -> Path:
    """The fp32 safetensors copy of a GGUF model: ~15 s to build once, 0.2 s to load after."""
    gguf = Path(gguf)
    target = Path(cache_root or default_cache_root()) / gguf_cache_name(gguf)
    if (target / COMPLETE_MARKER).is_file():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the GGUF loader's bars would fill the logs

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, **_dtype_kwargs(torch.float32))
        fresh = type(loaded)(loaded.config)  # without the GGUF loader's quantization bookkeeping
        fresh.load_state_dict(loaded.state_dict())
        fresh.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        (tmp / COMPLETE_MARKER).write_text(str(gguf))
        del loaded, fresh
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / COMPLETE_MARKER).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _dtype_kwargs(dtype) -> dict:
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


# ---- the payload contract -------------------------------------------------------------------
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
        raise InvalidRequest("payload must be JSON with 'inputs' and 'parameters'") from exc
    if not isinstance(prompt, str) or not prompt:
        raise InvalidRequest("'inputs' must be a non-empty string")
    if not isinstance(params, dict):
        raise InvalidRequest("'parameters' must be an object")
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
        raise InvalidRequest(f"bad generation parameter: {exc}") from exc


def check_adapter_name(name: str) -> str:
    """Adapter names are SageMaker inference-component names: 1-63 characters."""
    if not isinstance(name, str) or not ADAPTER_NAME.match(name):
        raise InvalidRequest(
            f"adapter name {name!r} must be 1-63 letters, digits, '.', '_' or '-', starting alphanumeric")
    return name


def check_adapter(name: str, adapter_dir: str | os.PathLike) -> Path:
    """A registrable adapter: a safe name and a folder with a PEFT config and weights."""
    check_adapter_name(name)
    path = Path(adapter_dir)
    if not path.is_dir():
        raise InvalidRequest(f"adapter folder not found: {path}")
    try:
        config = json.loads((path / "adapter_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise InvalidRequest(f"{path} has no readable adapter_config.json") from exc
    if str(config.get("peft_type", "")).upper() != "LORA":
        raise InvalidRequest(f"{path} is not a LoRA adapter (peft_type {config.get('peft_type')!r})")
    if not any((path / w).is_file() for w in ADAPTER_WEIGHTS):
        raise InvalidRequest(f"{path} has no adapter_model.safetensors")
    return path.resolve()


def _dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _stop_hold(text: str, stops: tuple[str, ...]) -> int:
    """How many trailing characters could still become a stop string."""
    hold = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), hold, -1):
            if text.endswith(stop[:n]):
                hold = n
                break
    return hold


class PeftModelEndpoint(ModelEndpoint):
    """A base model in transformers with any number of LoRA adapters; one request at a time.

    ``base_model_dir`` is an HF-format folder; or ``gguf_path``, whose HF copy is built in
    ``cache_dir`` on first use. ``target`` None runs the base model (adapters disabled).
    """

    def __init__(
        self,
        base_model_dir: str | os.PathLike | None = None,
        *,
        gguf_path: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None,
        n_ctx: int = 2048,
        seed: int = 42,
        n_threads: int | None = None,
        device: str | None = None,
    ):
        if base_model_dir is None and gguf_path is None:
            raise ValueError("a base model folder or a GGUF file is required")
        self.base_model_dir = Path(base_model_dir) if base_model_dir else None
        self.gguf_path = Path(gguf_path) if gguf_path else None
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.n_ctx = n_ctx
        self.seed = seed
        self.n_threads = n_threads
        self.device = device
        self._registered: dict[str, Path] = {}
        self._loaded: dict[str, Path] = {}  # adapters inside the PEFT model, by name
        self._broken: dict[str, str] = {}  # adapters that failed to load -> why
        self._base = None  # transformers model
        self._peft = None  # PeftModel wrapping _base once an adapter is loaded
        self._tokenizer = None
        self._cache_kw = "past_key_values"
        self._lock = threading.Lock()

    # ---- registry ---------------------------------------------------------------------------
    def register_adapter(self, name: str, adapter_dir: str | os.PathLike, *, preload: bool = False) -> Path:
        path = check_adapter(name, adapter_dir)
        with self._lock:
            if name in self._loaded and self._loaded[name] != path:
                self._unload(name)
            self._registered[name] = path
            self._broken.pop(name, None)
            if preload:
                try:
                    self._model_for(name)
                except ModelUnavailable:
                    self._registered.pop(name, None)  # refused: not left deployed but broken
                    self._broken.pop(name, None)
                    raise
        return path

    def unregister_adapter(self, name: str) -> bool:
        with self._lock:
            existed = self._registered.pop(name, None) is not None
            self._broken.pop(name, None)
            if name in self._loaded:
                self._unload(name)
        return existed

    def adapters(self) -> dict[str, Path]:
        return dict(self._registered)

    # ---- loading (caller holds the lock) -----------------------------------------------------
    def _resolve_base(self) -> Path:
        if self.base_model_dir is not None:
            if not (self.base_model_dir / "config.json").is_file():
                raise ModelUnavailable(f"base model folder {self.base_model_dir} has no config.json")
            return self.base_model_dir
        if not self.gguf_path.is_file():
            raise ModelUnavailable(f"base model file not found: {self.gguf_path}")
        try:
            self.base_model_dir = hf_copy_of_gguf(self.gguf_path, self.cache_dir)
        except Exception as exc:  # noqa: BLE001 - a missing gguf package, a bad file
            raise ModelUnavailable(f"cannot convert {self.gguf_path} for transformers: {exc}") from exc
        return self.base_model_dir

    def _load_base(self):
        if self._base is not None:
            return self._base
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ModelUnavailable(
                "fine-tuned adapters need torch, transformers and peft (requirements-train.txt)"
            ) from exc
        path = self._resolve_base()
        if self.n_threads:
            torch.set_num_threads(self.n_threads)
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModelForCausalLM.from_pretrained(str(path), **_dtype_kwargs(dtype)).to(device)
        except Exception as exc:  # noqa: BLE001
            raise ModelUnavailable(f"cannot load base model {path}: {exc}") from exc
        model.eval()
        # transformers 5 renamed the KV cache argument ``past_key_values`` -> ``cache``.
        params = inspect.signature(model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        self.device = device
        self._base = model
        return model

    def _model_for(self, target: str | None):
        """The model to run for ``target``, with that adapter active (or adapters off)."""
        if target is not None:
            if target not in self._registered:
                raise ModelUnavailable(f"adapter {target!r} not deployed")
            if target in self._broken:
                raise ModelUnavailable(self._broken[target])
        base = self._load_base()
        if target is None:
            return self._peft if self._peft is not None else base
        if target not in self._loaded:
            path = self._registered[target]
            try:
                from peft import PeftModel

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", FutureWarning)  # library deprecation chatter
                    if self._peft is None:
                        self._peft = PeftModel.from_pretrained(
                            base, str(path), adapter_name=target, is_trainable=False)
                    else:
                        self._peft.load_adapter(str(path), adapter_name=target, is_trainable=False)
            except Exception as exc:  # noqa: BLE001 - wrong base model, corrupt weights, no peft
                self._reset_models()  # a half-injected adapter must not linger in the base
                message = f"adapter {target!r} cannot be loaded on this base model: {exc}"[:1000]
                self._broken[target] = message
                raise ModelUnavailable(message) from exc
            self._peft.eval()
            self._loaded[target] = path
        self._peft.set_adapter(target)
        return self._peft

    def _unload(self, name: str) -> None:
        self._loaded.pop(name, None)
        if self._peft is None:
            return
        if not self._loaded:
            self._base = self._peft.unload()  # the base model without LoRA layers
            self._peft = None
            return
        try:
            if name in self._peft.peft_config:
                if self._peft.active_adapter == name:
                    self._peft.set_adapter(next(iter(self._loaded)))
                self._peft.delete_adapter(name)
        except Exception:  # noqa: BLE001 - start clean rather than serve a confused model
            self._reset_models()

    def _reset_models(self) -> None:
        self._base = self._peft = None
        self._loaded.clear()

    # ---- generation ---------------------------------------------------------------------------
    def _eos_ids(self, model) -> set[int]:
        ids: set[int] = set()
        config = getattr(model, "generation_config", None)
        eos = getattr(config, "eos_token_id", None) if config is not None else None
        for value in eos if isinstance(eos, (list, tuple)) else [eos]:
            if isinstance(value, int):
                ids.add(value)
        if self._tokenizer.eos_token_id is not None:
            ids.add(self._tokenizer.eos_token_id)
        return ids

    def _generate(self, model, req: GenerationRequest) -> Iterator[tuple[str, dict | None]]:
        """Yields ``(piece, None)`` while generating, then ``(full_text, details)``."""
        import torch
        from transformers import (
            LogitsProcessorList,
            RepetitionPenaltyLogitsProcessor,
            TemperatureLogitsWarper,
            TopKLogitsWarper,
            TopPLogitsWarper,
        )

        tok = self._tokenizer
        prompt_ids = tok(req.prompt, add_special_tokens=False, return_tensors="pt").input_ids.to(self.device)
        n_prompt = int(prompt_ids.shape[1])
        limit = min(self.n_ctx, int(getattr(model.config, "max_position_embeddings", self.n_ctx) or self.n_ctx))
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
        eos = self._eos_ids(model)
        generated: list[int] = []
        text, emitted, finish = "", 0, "length"
        step_input, past = prompt_ids, None
        with torch.no_grad():
            for _ in range(max_new):
                out = model(input_ids=step_input, use_cache=True, **{self._cache_kw: past})
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
                text = tok.decode(generated, skip_special_tokens=True, clean_up_tokenization_spaces=False)
                cut = min((i for i in (text.find(s) for s in req.stop) if i != -1), default=-1)
                if cut != -1:
                    text, finish = text[:cut], "stop"
                    break
                safe = len(text) - _stop_hold(text, req.stop)
                if text.endswith("\ufffd"):  # a character split across tokens
                    safe = min(safe, len(text) - 1)
                if safe > emitted:
                    yield text[emitted:safe], None
                    emitted = safe
                step_input = torch.tensor([[next_id]], dtype=torch.long, device=prompt_ids.device)
        if len(text) > emitted:
            yield text[emitted:], None
        details = {"finish_reason": finish, "prompt_tokens": n_prompt, "generated_tokens": len(generated)}
        yield (req.prompt + text if req.return_full_text else text), details

    def _adapters_off(self, target: str | None):
        """Base-model requests run with every LoRA layer bypassed."""
        if target is None and self._peft is not None:
            return self._peft.disable_adapter()
        return contextlib.nullcontext()

    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        req = parse_request(body, self.seed)
        with self._lock:
            model = self._model_for(target)
            result = None
            with self._adapters_off(target):
                for piece, details in self._generate(model, req):
                    if details is not None:
                        result = {"generated_text": piece, "details": details}
        return _dumps(result)

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        """TGI server-sent events. The lock is held until the generator ends or is closed."""
        req = parse_request(body, self.seed)
        with self._lock, contextlib.ExitStack() as stack:
            model = self._model_for(target)
            stack.enter_context(self._adapters_off(target))
            index = 0
            for piece, details in self._generate(model, req):
                if details is None:
                    token = {"id": index, "text": piece, "logprob": None, "special": False}
                    yield b"data:" + _dumps({"index": index, "token": token}) + b"\n\n"
                    index += 1
                else:
                    yield b"data:" + _dumps({"generated_text": piece, "details": details}) + b"\n\n"
