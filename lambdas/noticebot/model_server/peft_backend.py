"""LoRA adapters served by transformers + PEFT, behind the model contract.

Why a second backend: llama.cpp runs the base model from its GGUF file, but the fine-tunes
that ``sagemaker/training/train.py`` writes are PEFT adapters (``adapter_config.json`` +
``adapter_model.safetensors``), the format SageMaker's LoRA inference components take.
llama.cpp cannot apply those; converting each one to a GGUF LoRA would need llama.cpp's
conversion script (not in the llama-cpp-python wheel) and would serve the adapter on the
4-bit Q4_1 weights it was not trained against. Here the adapter runs on exactly the
weights it was trained on: the HF-format copy of the GGUF that training used
(``model_contract.hf_copy_of_gguf``, one copy for both). Several adapters live on one base
model in memory; each request selects one (or none: the base model). This is also what the
SageMaker serving image runs. torch, transformers and peft are imported on first use:
constructing this costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from noticebot.domain.errors import ModelUnavailable
from noticebot.model_contract import (
    dtype_kwargs,
    hf_copy_of_gguf,
    response_body,
    stream_end_line,
    stream_token_line,
)
from noticebot.model_server.adapter_folders import check_adapter
from noticebot.model_server.decoding import cache_argument, generate
from noticebot.model_server.payloads import read_request
from noticebot.ports.chat_model import ModelEndpoint


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

    def load_all(self) -> None:
        """Loads the base model and every registered adapter now (a container does this
        before it answers /ping, so the first request does not pay for it)."""
        with self._lock:
            for name in self._registered:
                self._model_for(name)
            self._load_base()

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
            model = AutoModelForCausalLM.from_pretrained(str(path), **dtype_kwargs(dtype)).to(device)
        except Exception as exc:  # noqa: BLE001
            raise ModelUnavailable(f"cannot load base model {path}: {exc}") from exc
        model.eval()
        self._cache_kw = cache_argument(model)
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
    def _adapters_off(self, target: str | None):
        """Base-model requests run with every LoRA layer bypassed."""
        if target is None and self._peft is not None:
            return self._peft.disable_adapter()
        return contextlib.nullcontext()

    def _generate(self, model, req):
        return generate(model, self._tokenizer, req, device=self.device, n_ctx=self.n_ctx,
                        cache_kw=self._cache_kw)

    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        req = read_request(body, self.seed)
        with self._lock:
            model = self._model_for(target)
            result = None
            with self._adapters_off(target):
                for piece, details in self._generate(model, req):
                    if details is not None:
                        result = response_body(piece, details)
        return result

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        """TGI server-sent events. The lock is held until the generator ends or is closed."""
        req = read_request(body, self.seed)
        with self._lock, contextlib.ExitStack() as stack:
            model = self._model_for(target)
            stack.enter_context(self._adapters_off(target))
            index = 0
            for piece, details in self._generate(model, req):
                if details is None:
                    yield stream_token_line(index, piece)
                    index += 1
                else:
                    yield stream_end_line(piece, details)
