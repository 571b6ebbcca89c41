"""The OpenAPI document served at ``/api/openapi.json``.

Powertools generates it from the routes and their models (each route declares its responses,
``responses.declare``); this adds what it cannot say per route: the bearer (JWT) scheme every
route but the public ones requires. It also drops the 422 Powertools adds to every route in its
own error shape: a route that can answer 422 declares it with the one error shape
(``ErrorBody``), and a route with nothing to validate never answers it.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

BEARER = "bearerAuth"
UNUSED_POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def openapi_document(app, *, title: str, version: str, public_paths: frozenset[str]) -> str:
    doc = json.loads(app.get_openapi_json_schema(
        title=title, version=version,
        security_schemes={BEARER: HTTPBearer(
            bearerFormat="JWT",
            description="A Cognito ID token (AWS) or a locally signed token "
                        "(`noticebot token`); its claims name the user and workspace.")},
        security=[{BEARER: []}],
    ))
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            if path in public_paths:
                operation["security"] = []  # overrides the document-wide requirement
            if _powertools_422(operation["responses"].get("422")):
                del operation["responses"]["422"]
    schemas = doc.get("components", {}).get("schemas", {})
    kept = {name: s for name, s in schemas.items() if name not in UNUSED_POWERTOOLS_SCHEMAS}
    referenced = json.dumps([doc["paths"], kept])
    for name in UNUSED_POWERTOOLS_SCHEMAS:
        if f'"#/components/schemas/{name}"' not in referenced:
            schemas.pop(name, None)
    return json.dumps(doc)


def _powertools_422(response: dict | None) -> bool:
    return response is not None and "HTTPValidationError" in json.dumps(response)
