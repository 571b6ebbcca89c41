"""The API Lambda: one resolver, one router per resource, one error shape."""

from __future__ import annotations

import json
import logging

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from noticebot import __version__
from noticebot.domain.errors import NoticebotError
from noticebot.handlers.api.identity import principal_from_event, reject_foreign_identity
from noticebot.handlers.api.resolver import RequestScopedRestResolver
from noticebot.handlers.api.routers import (
    chat,
    documents,
    finetune,
    health,
    models,
    notices,
    search,
    uploads,
)

logger = logging.getLogger(__name__)

PUBLIC_PATHS = {"/api/health", "/api/openapi.json"}

app = RequestScopedRestResolver(
    enable_validation=True,
    cors=CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"], max_age=600),
)


def error(status: int, code: str, message: str) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps({"error": {"code": code, "message": message}}))


def identity_guard(app: APIGatewayRestResolver, next_middleware):
    """Every non-public route needs a signed-in caller, and a JSON body may not
    name another workspace or user (a 403, never a switch)."""
    event = app.current_event
    if event.path in PUBLIC_PATHS or event.http_method == "OPTIONS":
        return next_middleware(app)
    principal = principal_from_event(event.raw_event)
    content_type = (event.headers or {}).get("content-type") or (event.headers or {}).get(
        "Content-Type") or ""
    if event.body and "json" in content_type.lower():
        try:
            body = json.loads(event.decoded_body)
        except (ValueError, UnicodeDecodeError):
            return error(400, "invalid_json", "the request body is not valid JSON")
        reject_foreign_identity(principal, body)
    return next_middleware(app)


app.use(middlewares=[identity_guard])


@app.exception_handler(NoticebotError)
def on_domain_error(exc: NoticebotError) -> Response:
    return error(exc.status, exc.code, exc.message)


@app.exception_handler(RequestValidationError)
def on_validation_error(exc: RequestValidationError) -> Response:
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",))
        if e.get("type") == "json_invalid":
            return error(400, "invalid_json", "the request body is not valid JSON")
        problems.append(f"{where or 'body'}: {e.get('msg', e.get('type'))}")
    return error(422, "validation_error", "; ".join(problems) or "invalid request")


@app.exception_handler(ValidationError)
def on_model_error(exc: ValidationError) -> Response:
    return error(422, "validation_error", "; ".join(
        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


@app.not_found
def on_not_found(exc: NotFoundError) -> Response:
    return error(404, "not_found", f"no route for {app.current_event.http_method} "
                 f"{app.current_event.path}")


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


@app.get("/api/openapi.json", include_in_schema=False)
def openapi():
    schema = app.get_openapi_json_schema(title="noticebot API", version=__version__)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=schema)


def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
