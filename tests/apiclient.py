"""Calls the API Lambda handler with API Gateway REST events shaped like the recorded fixture."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "events"
TEMPLATE = json.loads((FIXTURES / "apigw_rest_cognito.json").read_text())


def claims_for(user: str, workspace: str | None, editor: bool = False) -> dict:
    claims = dict(TEMPLATE["requestContext"]["authorizer"]["claims"])
    claims.update({"sub": user, "cognito:username": user,
                   "cognito:groups": "editors" if editor else ""})
    if workspace is None:
        claims.pop("custom:workspace", None)
    else:
        claims["custom:workspace"] = workspace
    return claims


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = "----noticebot" + uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                f"{value}\r\n").encode()
    for name, (filename, data, ctype) in files.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


class ApiClient:
    def __init__(self, handler):
        self.handler = handler
        self.last_response: dict = {}

    def call(self, method: str, path: str, json_body=None, claims: dict | None = None,
             raw_body: bytes | None = None, content_type: str | None = None,
             query: dict | None = None, event_overrides: dict | None = None,
             ) -> tuple[int, dict | None]:
        event = copy.deepcopy(TEMPLATE)
        event["httpMethod"] = method
        event["path"] = path
        event["pathParameters"] = {"proxy": path.lstrip("/")}
        event["requestContext"]["httpMethod"] = method
        event["requestContext"]["path"] = "/prod" + path
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
        if claims is None:
            del event["requestContext"]["authorizer"]
        else:
            event["requestContext"]["authorizer"] = {"claims": claims}
        if json_body is not None:
            raw_body = json.dumps(json_body).encode()
            content_type = "application/json"
        if raw_body is not None:
            if content_type is not None:  # None: a body sent without a Content-Type
                event["headers"]["Content-Type"] = content_type
                event["multiValueHeaders"]["Content-Type"] = [content_type]
            # Multipart is one of the REST API's binary media types (cdk/constructs/api.py).
            if (content_type or "").lower().startswith("multipart/"):
                event["body"] = base64.b64encode(raw_body).decode()
                event["isBase64Encoded"] = True
            else:
                event["body"] = raw_body.decode("utf-8", "replace")
        event.update(event_overrides or {})
        response = self.last_response = self.handler(event, None)
        body = response.get("body")
        return response["statusCode"], (json.loads(body) if body else None)
