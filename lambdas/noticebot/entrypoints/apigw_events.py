"""HTTP request -> API Gateway REST (v1) proxy event, and the handler's response back."""

from __future__ import annotations

import base64
import time
import uuid
from urllib.parse import parse_qs

TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


def build_event(method: str, path: str, query_string: str, headers: dict[str, str],
                body: bytes, claims: dict | None, source_ip: str = "127.0.0.1") -> dict:
    """``path`` is already percent-decoded (an encoded "?" or "#" in it is part of the path,
    never a query), ``query_string`` the raw query without its "?"."""
    query = parse_qs(query_string, keep_blank_values=True)
    content_type = headers.get("Content-Type") or headers.get("content-type") or ""
    # API Gateway base64-encodes bodies of binary media types (multipart is one).
    is_text = not body or any(t in content_type for t in TEXT_TYPES)
    request_context = {
        "resourcePath": "/{proxy+}",
        "httpMethod": method,
        "path": path,
        "stage": "local",
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
        "accountId": "000000000000",
        "apiId": "local",
        "protocol": "HTTP/1.1",
    }
    if claims is not None:
        # What the Cognito user pool authorizer gives a REST API handler.
        request_context["authorizer"] = {"claims": claims}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": request_context,
        "body": (body.decode("utf-8", "replace") if is_text else base64.b64encode(body).decode())
        if body else None,
        "isBase64Encoded": bool(body) and not is_text,
    }


def response_parts(result: dict) -> tuple[int, dict[str, list[str]], bytes]:
    headers: dict[str, list[str]] = {}
    for k, v in (result.get("headers") or {}).items():
        headers.setdefault(k, []).append(str(v))
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers[k] = [str(v) for v in values]
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return int(result.get("statusCode", 500)), headers, raw
