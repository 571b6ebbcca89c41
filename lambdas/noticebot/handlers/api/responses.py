"""The responses a route declares in the OpenAPI document: its success and every error it can
answer, each error with the one error shape (``ErrorBody``).

Routes list them with ``declare(status, description, *errors)``; the groups below name the
errors that come with a kind of route rather than with what the route does.
"""

from __future__ import annotations

from noticebot.handlers.api.schemas import ErrorBody

ERROR_DESCRIPTIONS = {
    400: "Bad request: a malformed body, or a value the service refuses",
    401: "No valid bearer token",
    403: "Forbidden: the token's workspace is not valid, the caller is not an editor, or the "
         "body names a workspace or user",
    404: "Not found in the caller's workspace",
    409: "Conflicts with the current state",
    413: "Too large",
    415: "The body is not of the media type this route reads",
    422: "A body field or parameter does not fit the schema",
    503: "A model or service behind the API is unavailable; try again later",
}

# Every route that needs a signed-in caller.
SIGNED_IN = (401, 403)
# A route that reads a body: wrong media type, malformed, or not fitting the schema.
WITH_BODY = (400, 415, 422)
# A route with an id in its path.
BY_ID = (404,)
# A route whose work calls a model (the embedder, the chat model, the training launcher).
USES_MODEL = (503,)


def declare(success: int, description: str, *errors: int | tuple[int, ...],
            no_content: bool = False, model: type | None = None,
            alternatives: dict[str, dict] | None = None) -> dict[int, dict]:
    """``responses=`` for a route. The success response takes the route's return type as its
    schema, or none at all with ``no_content`` (a 204). A route that answers in more than one
    media type returns a ``Response`` and names its JSON body's ``model`` here, with the other
    media types in ``alternatives`` (media type -> OpenAPI media type object)."""
    declared: dict[int, dict] = {success: {"description": description}}
    if no_content:
        declared[success]["content"] = {}
    elif model is not None or alternatives:
        if model is None:
            raise ValueError("a response with alternatives names its JSON model")
        declared[success]["content"] = {"application/json": {"model": model},
                                        **(alternatives or {})}
    statuses = sorted({status for group in errors
                       for status in (group if isinstance(group, tuple) else (group,))})
    for status in statuses:
        declared[status] = {"description": ERROR_DESCRIPTIONS[status],
                            "content": {"application/json": {"model": ErrorBody}}}
    return declared


def throttled(description: str) -> dict[int, dict]:
    """The 429 of a route that limits its callers, with its Retry-After header."""
    return {429: {
        "description": description,
        "headers": {"Retry-After": {"description": "seconds to wait",
                                    "schema": {"type": "integer", "minimum": 1}}},
        "content": {"application/json": {"model": ErrorBody}},
    }}
