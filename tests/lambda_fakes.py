"""The Lambda service's synchronous Invoke for tests: the smoke test's in-process stand-in
(moto runs functions only in Docker, which these machines lack), recording each call and able
to fail the way the service does."""

from __future__ import annotations

import json

from smoke.stand_ins import InProcessLambda


class FakeLambdaClient(InProcessLambda):
    def __init__(self, functions: dict, *, fail_with: Exception | None = None):
        """``functions`` maps a function name to a callable(event, context) -> dict."""
        super().__init__(functions)
        self.fail_with = fail_with
        self.calls: list[dict] = []

    def invoke(self, *, FunctionName, InvocationType="RequestResponse", Payload=b""):
        self.calls.append({"function": FunctionName, "event": json.loads(Payload),
                           "bytes": len(Payload)})
        if self.fail_with is not None:
            raise self.fail_with
        return super().invoke(FunctionName=FunctionName, InvocationType=InvocationType,
                              Payload=Payload)
