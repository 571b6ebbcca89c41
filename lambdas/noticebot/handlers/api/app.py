"""The API Lambda: one resolver, one router per resource, one error shape."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable

from aws_lambda_powertools.event_handler import (
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from noticebot import __version__
from noticebot.domain.errors import NoticebotError, error_body
from noticebot.handlers.api.openapi_document import openapi_document
from noticebot.handlers.api.request_container import CONTAINER
from noticebot.handlers.api.request_gate import install_request_gate
from noticebot.handlers.api.resolver import RequestScopedRestResolver
from noticebot.handlers.api.routers import (
    auth,
    chat,
    devices,
    documents,
    finetune,
    health,
    invitations,
    members,
    models,
    notices,
    search,
    uploads,
)
from noticebot.handlers.lambda_container import lambda_container
from noticebot.handlers.lambda_logging import lambda_entry

logger = logging.getLogger(__name__)

# Routes a caller reaches without a token: accepting an invitation and signing in are how one
# gets a token (local accounts; on AWS they sit behind the authorizer and answer 404 there).
PUBLIC_PATHS = frozenset({"/api/health", "/api/openapi.json", "/api/auth/sign-in",
                          "/api/invitations/accept"})

# Request-scoped: the local server resolves many requests at once on threads.
app = RequestScopedRestResolver(
    enable_validation=True,
    cors=CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"], max_age=600),
)


def error(status: int, code: str, message: str) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(error_body(code, message)))


# Every non-public route needs a signed-in caller, and a body is read only in its route's
# media type and may not name a workspace or user (request_gate).
install_request_gate(app, PUBLIC_PATHS)


@app.exception_handler(NoticebotError)
def on_domain_error(exc: NoticebotError) -> Response:
    response = error(exc.status, exc.code, exc.message)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:  # a throttled caller is told how long to wait
        response.headers["Retry-After"] = str(retry_after)
    return response


@app.exception_handler(RequestValidationError)
def on_validation_error(exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(tuple(e.get("loc", ()))[:1] == ("response",) for e in errors):
        # Powertools reports a route's response that does not fit its own model with this
        # same exception: that is our fault, not the request's.
        logger.error("response does not fit its declared model: %s", errors)
        return error(500, "internal_error", "something went wrong on our side; try again")
    problems = []
    for e in errors:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",))
        problems.append(f"{where or 'body'}: {e.get('msg', e.get('type'))}")
    return error(422, "validation_error", "; ".join(problems) or "invalid request")


@app.exception_handler(ValidationError)
def on_model_error(exc: ValidationError) -> Response:
    return error(422, "validation_error", "; ".join(
        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


def _methods_serving(path: str) -> list[str]:
    return sorted({route.method for route in app._static_routes + app._dynamic_routes
                   if route.rule.match(path)})


@app.not_found
def on_not_found(exc: NotFoundError) -> Response:
    method, path = app.current_event.http_method, app.current_event.path
    allowed = _methods_serving(path)
    if allowed:  # the resource exists; this method is not one it answers
        response = error(405, "method_not_allowed", f"{path} does not answer {method}")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return error(404, "not_found", f"no route for {method} {path}")


@app.exception_handler(Exception)
def on_unexpected(exc: Exception) -> Response:
    # The detail goes to the log, never to the client.
    logger.exception("unhandled error")
    return error(500, "internal_error", "something went wrong on our side; try again")


app.include_router(health.router, prefix="/api")
app.include_router(documents.router, prefix="/api")
app.include_router(uploads.router, prefix="/api")
app.include_router(notices.router, prefix="/api")
app.include_router(search.router, prefix="/api")
app.include_router(chat.router, prefix="/api")
app.include_router(finetune.router, prefix="/api")
app.include_router(models.router, prefix="/api")
app.include_router(members.router, prefix="/api")
app.include_router(devices.router, prefix="/api")
app.include_router(invitations.router, prefix="/api")
app.include_router(auth.router, prefix="/api")


@functools.lru_cache(maxsize=1)
def _openapi_json() -> str:
    # The routes are fixed once imported; built on first request, never at import (cold start).
    return openapi_document(app, title="noticebot API", version=__version__,
                            public_paths=PUBLIC_PATHS)


@app.get("/api/openapi.json", include_in_schema=False)
def openapi():
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body=_openapi_json())


def handle(event: dict, container, context=None) -> dict:
    """Resolves one API Gateway event with the services of ``container``."""
    return app.resolve(event, context, request_context={CONTAINER: container})


def handler_for(container) -> Callable[[dict, object], dict]:
    """A Lambda handler's signature, ``(event, context)``, over ``container``: what the local
    gateway and the tests call."""
    return lambda event, context=None: handle(event, container, context)


@lambda_entry(correlation_id_path="requestContext.requestId")
def handler(event: dict, context) -> dict:
    return handle(event, lambda_container(), context)
