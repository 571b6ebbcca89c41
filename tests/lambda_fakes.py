"""A hand-written stand-in for the Lambda service's synchronous Invoke (moto runs functions
only in Docker, which these machines lack). It runs a real handler in process and answers
with Invoke's response shape: StatusCode, an optional FunctionError, a readable Payload."""

from __future__ import annotations

import io
import json


class FakeLambdaClient:
    def __init__(self, functions: dict, *, fail_with: Exception | None = None):
        """``functions`` maps a function name to a callable(event, context) -> dict."""
        self.functions = functions
        self.fail_with = fail_with
        self.calls: list[dict] = []

    def invoke(self, *, FunctionName, InvocationType="RequestResponse", Payload=b""):
        assert InvocationType == "RequestResponse"
        event = json.loads(Payload)
        self.calls.append({"function": FunctionName, "event": event,
                           "bytes": len(Payload)})
        if self.fail_with is not None:
            raise self.fail_with
        handler = self.functions[FunctionName]
        try:
            result, error = handler(event, None), None
        except Exception as exc:  # what the Lambda runtime reports for an unhandled error
            result = {"errorMessage": str(exc), "errorType": type(exc).__name__,
                      "stackTrace": []}
            error = "Unhandled"
        response = {"StatusCode": 200, "ExecutedVersion": "$LATEST",
                    "Payload": io.BytesIO(json.dumps(result).encode())}
        if error:
            response["FunctionError"] = error
        return response
