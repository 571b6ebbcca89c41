"""One synchronous ``Invoke`` of a model function (the embed function), its JSON answer back.

The embedder and the reranker adapters both ask the embed function; what can go wrong on the
way is the same for both and becomes the same ``ModelUnavailable`` (a 503 the user can retry),
with the AWS detail in the log only.
"""

from __future__ import annotations

import json
import logging

from noticebot.domain.errors import ModelUnavailable

logger = logging.getLogger(__name__)


def invoke_json(client, function_name: str, request: dict, service: str):
    """The function's JSON result. ``client`` is the Lambda client; ``service`` names it in
    messages ("embedding service"). Raises ModelUnavailable when the call fails, the function
    fails or its answer is not JSON; a refusal (``{"error": ...}``) is returned as it came."""
    payload = json.dumps(request).encode()
    try:
        response = client.invoke(FunctionName=function_name, InvocationType="RequestResponse",
                                 Payload=payload)
        body = response["Payload"].read()
    except Exception as exc:  # throttled after retries, timeout, network, access denied
        logger.warning("%s function %s failed: %s", service, function_name, exc)
        raise ModelUnavailable(f"the {service} is unavailable; try again shortly") from exc
    try:
        result = json.loads(body or b"null")
    except ValueError:
        result = None
    if response.get("FunctionError"):
        message = result.get("errorMessage") if isinstance(result, dict) else None
        logger.error("%s function error (%s): %s", service, response["FunctionError"],
                     str(message or body[:300]))
        raise ModelUnavailable(f"the {service} failed; try again shortly")
    if not isinstance(result, dict):
        raise ModelUnavailable(f"the {service} sent an unreadable response")
    return result


def refusal(result: dict) -> str | None:
    """The message of a refused request (a bug on the caller's side, not the user's)."""
    error = result.get("error")
    if isinstance(error, dict):
        return str(error.get("message"))
    return None
