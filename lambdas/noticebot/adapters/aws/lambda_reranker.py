"""Reranker that asks the embed function to score (query, passage) pairs with its cross-encoder.

Why there: the cross-encoder (ms-marco MiniLM-L-12, ONNX, the local reranker's model) needs
onnxruntime and numpy, which the API and chat functions leave out to stay small and quick to
start, while the embed function already carries them; one more operation on it costs its
bundle 35 MB and nothing while idle. The search service reorders only its first few fused
candidates (``RERANK_CANDIDATES``), so one ``Invoke`` per search carries them all.

Any failure (the function throttled, timed out, failed, or answered nonsense) raises, and
``SearchService`` then keeps the fused order: reranking costs quality when it is down, never
the answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.adapters.aws.lambda_invoke import invoke_json, refusal
from noticebot.adapters.embedding_wire import MAX_PASSAGES, rerank_request
from noticebot.domain.errors import ModelUnavailable
from noticebot.ports.reranker import Reranker

logger = logging.getLogger(__name__)

SERVICE = "reranking service"


class LambdaReranker(Reranker):
    def __init__(self, function_name: str, client: ClientSource, *,
                 model_id: str = "ms-marco-MiniLM-L-12-v2-onnx"):
        if not function_name:
            raise ValueError("the embed function's name or ARN is required")
        self.function_name = function_name
        self.model_id = model_id
        self._client = lazy(client)

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        passages = list(passages)
        scores: list[float] = []
        for start in range(0, len(passages), MAX_PASSAGES):
            scores += self._invoke(query, passages[start : start + MAX_PASSAGES])
        return scores

    def _invoke(self, query: str, passages: list[str]) -> list[float]:
        result = invoke_json(self._client(), self.function_name,
                             rerank_request(query, passages), SERVICE)
        refused = refusal(result)
        if refused is not None:
            raise ValueError(f"the embed function refused a rerank request: {refused}")
        scores = result.get("scores")
        if not isinstance(scores, list) or len(scores) != len(passages):
            raise ModelUnavailable(f"the {SERVICE} sent an unreadable response")
        if result.get("model_id") != self.model_id:
            # Scores only order this request's passages, so another cross-encoder still ranks;
            # the log says the two deployments disagree.
            logger.warning("the embed function reranks with %s, expected %s",
                           result.get("model_id"), self.model_id)
        if not all(isinstance(s, int | float) and math.isfinite(s) for s in scores):
            raise ModelUnavailable(f"the {SERVICE} sent scores that are not numbers")
        return [float(s) for s in scores]
