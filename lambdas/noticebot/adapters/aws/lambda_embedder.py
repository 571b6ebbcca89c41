"""Embedder that asks the embedder function (a Lambda carrying the ONNX model) for vectors.

Why a separate function: the model and its runtime (onnxruntime, numpy, 34 MB of weights,
~130 MB unzipped) would put the API function far over its 50 MB budget and slow every cold
start, while the API embeds only a query per search or chat and a notice now and then. The
API function keeps the tokenizer (``tokenizers`` + ``tokenizer.json``, ~12 MB) so the chunker
counts tokens in process; vectors come from one synchronous ``Invoke`` per batch.

The embedder function runs the same ``OnnxEmbedder`` as a laptop and as the ingest function,
and vectors travel as float32 bytes (``embedding_wire``), so the index holds the same vector
for the same text whichever function wrote it. Each response names its model and dimension;
a mismatch with what this function was configured for is refused, since mixing two models'
vectors in one index silently ruins dense retrieval.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.adapters.aws.lambda_invoke import invoke_json, refusal
from noticebot.adapters.embedding_wire import MAX_TEXTS, WireError, decode_vector
from noticebot.adapters.tokenizer_file import TokenizerFile
from noticebot.domain.errors import ModelUnavailable
from noticebot.ports.embedder import Embedder

logger = logging.getLogger(__name__)


class LambdaEmbedder(Embedder):
    def __init__(self, function_name: str, client: ClientSource, *, tokenizer_path,
                 model_id: str = "bge-small-en-onnx", dimension: int = 384,
                 max_tokens: int = 256, batch_size: int = 32):
        if not function_name:
            raise ValueError("the embedder function's name or ARN is required")
        self.function_name = function_name
        self.model_id = model_id
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.batch_size = max(1, min(batch_size, MAX_TEXTS))
        self._client = lazy(client)
        self._tokens = TokenizerFile(tokenizer_path)

    # ---- Embedder ------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return self._tokens.count(text)

    def embed_query(self, text: str) -> list[float]:
        return self._invoke("query", [text])[0]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        texts = list(texts)
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            out += self._invoke("documents", texts[start : start + self.batch_size])
        return out

    # ---- transport -------------------------------------------------------------------------
    def _invoke(self, kind: str, texts: list[str]) -> list[list[float]]:
        result = invoke_json(self._client(), self.function_name, {"kind": kind, "texts": texts},
                             "embedding service")
        return self._vectors(result, len(texts))

    def _vectors(self, result: dict, expected: int) -> list[list[float]]:
        refused = refusal(result)
        if refused is not None:
            # The function refused the request: a bug on this side, not the user's.
            raise ValueError(f"embedder function refused the request: {refused}")
        if not isinstance(result.get("vectors"), list):
            raise ModelUnavailable("the embedding service sent an unreadable response")
        if result.get("model_id") != self.model_id or result.get("dimension") != self.dimension:
            logger.error("embedder function serves %s/%s, this function expects %s/%s",
                         result.get("model_id"), result.get("dimension"), self.model_id,
                         self.dimension)
            raise ModelUnavailable("the embedding service runs a different model than the "
                                   "search index expects; redeploy both together")
        vectors = result["vectors"]
        if len(vectors) != expected:
            raise ModelUnavailable(f"the embedding service returned {len(vectors)} vectors "
                                   f"for {expected} texts")
        try:
            return [decode_vector(v, self.dimension) for v in vectors]
        except WireError as exc:
            raise ModelUnavailable(f"the embedding service sent a bad vector: {exc}") from exc
