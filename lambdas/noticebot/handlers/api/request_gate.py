"""What every request passes before a route sees it: a signed-in caller who belongs to the
workspace, then a body of the kind its route reads, parsed strictly, naming no workspace or
user.

Order matters and is fixed here: 401 (no caller, or a token signed out) before 403 (not a
member of the token's workspace: ``services.members`` admits the caller, with the role their
member record gives) before 415 (body not of the route's media type) before 400 (body not
well-formed) before 403 (body names a workspace or user) before 422 (body does not fit the
route's schema). A body is read only by a route that takes one, and only in its declared
media type: JSON routes take ``application/json`` (any letter case, ``charset=utf-8`` or
none), the upload route takes ``multipart/form-data`` with a boundary.
``application/*+json`` types are refused: they carry their own semantics (merge-patch,
problem details) that this API does not implement.

Powertools runs its request validation before any middleware registered with ``app.use``,
so this gate is that validation middleware itself, with the body reading replaced.
"""

from __future__ import annotations

import base64
import binascii
import json

from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from noticebot.domain.errors import InvalidRequest, UnsupportedMediaType
from noticebot.handlers.api.identity import (
    act_as,
    claims_from_event,
    issued_at,
    principal_from_event,
    refuse_identity_fields,
)
from noticebot.handlers.api.multipart_form import MalformedMultipart, header_params, parse_form
from noticebot.handlers.api.request_container import CONTAINER

JSON = "application/json"
MULTIPART = "multipart/form-data"
UTF8 = {"utf-8", "utf8"}


class InvalidJson(InvalidRequest):
    code = "invalid_json"


class InvalidMultipart(InvalidRequest):
    code = "invalid_multipart"


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _raw_body(event) -> bytes:
    body = event.body
    if not body:
        return b""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("the request body is not valid base64") from None
    return body.encode("utf-8", "surrogatepass")  # a lone surrogate then fails as bad JSON


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def read_json(content_type: str, body: bytes):
    if media_type(content_type) != JSON:
        raise UnsupportedMediaType(
            f"send this body as JSON with 'Content-Type: {JSON}'"
            + (f", not '{content_type}'" if content_type else ""))
    charset = header_params(content_type).get("charset")
    if charset is not None and charset.lower() not in UTF8:
        raise UnsupportedMediaType(f"JSON bodies are UTF-8; charset '{charset}' is not accepted")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError):
        raise InvalidJson("the request body is not valid JSON") from None


def read_form(content_type: str, body: bytes) -> dict:
    if media_type(content_type) != MULTIPART:
        raise UnsupportedMediaType(
            f"send this body as '{MULTIPART}'"
            + (f", not '{content_type}'" if content_type else ""))
    try:
        return parse_form(body, content_type)
    except MalformedMultipart as exc:
        raise InvalidMultipart(str(exc)) from None


def read_body(event, expected_media_type: str):
    """The parsed body of a route that takes one (None when the request has none)."""
    body = _raw_body(event)
    if not body:
        return None
    content_type = (event.headers.get("content-type") or "").strip()
    if expected_media_type == MULTIPART:
        form = read_form(content_type, body)
        refuse_identity_fields(dict.fromkeys(form))  # a part named like an identity field
        return form
    parsed = read_json(content_type, body)
    refuse_identity_fields(parsed)
    if not isinstance(parsed, dict):
        # Every JSON body of this API is an object. Said here because Powertools would
        # validate the first element of an array in its place.
        raise RequestValidationError([{"type": "model_type", "loc": ("body",),
                                       "msg": "must be a JSON object", "input": None}])
    return parsed


def admit(event: dict, container) -> None:
    """401 without a valid caller; 403 when the workspace's record refuses them; else the
    event's role becomes the record's (``identity.act_as``)."""
    principal = principal_from_event(event)
    members = getattr(container, "members", None)
    if members is None:  # a container without membership (a bare test double): token only
        return
    claims = claims_from_event(event) or {}
    email = claims.get("email")
    admitted = members.admit(principal, email=email if isinstance(email, str) else "",
                             issued_at=issued_at(claims))
    if admitted.is_editor != principal.is_editor:
        act_as(event, admitted.is_editor)


class RequestGate(OpenAPIRequestValidationMiddleware):
    def __init__(self, public_paths: frozenset[str]):
        super().__init__()
        self.public_paths = public_paths

    def handler(self, app, next_middleware):
        route = app.context["_route"]
        # Preflights carry no credentials; the public routes need none.
        if app.current_event.http_method != "OPTIONS" and route.path not in self.public_paths:
            admit(app.current_event.raw_event, app.context.get(CONTAINER))
        return super().handler(app, next_middleware)

    def _get_body(self, app):
        route = app.context["_route"]
        media = route.body_field.field_info.media_type
        body = read_body(app.current_event, media)
        if media == MULTIPART and body:
            # The reader keeps every part of a repeated name; each field this route reads
            # takes one value, and a second one would be dropped without a word.
            for param in route.dependant.body_params:
                if isinstance(body.get(param.alias), list):
                    raise InvalidMultipart(f"the part '{param.alias}' is sent more than once")
        return body


def install_request_gate(app, public_paths: frozenset[str]) -> None:
    if not hasattr(app, "_request_validation_middleware"):
        raise RuntimeError("the API resolver must be built with enable_validation=True")
    app._request_validation_middleware = RequestGate(public_paths)
