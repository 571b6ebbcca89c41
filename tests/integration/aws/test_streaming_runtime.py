"""The streaming runtime loop against a Runtime API on 127.0.0.1: what goes over the wire."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fake_runtime_api import FakeRuntimeApi
from noticebot.entrypoints import lambda_streaming_runtime as rt

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "fixtures" / "events"
WRAPPER = ROOT / "lambdas" / "noticebot" / "entrypoints" / "stream_bootstrap"
CHAT_EVENT = json.loads((EVENTS / "apigw_rest_chat_stream.json").read_text())


class Streamed:
    def __init__(self, status, headers, body, cookies=None):
        self.status, self.headers, self.body = status, headers, body
        if cookies is not None:
            self.cookies = cookies


class Body:
    """A body that records whether it was closed, like the chat stream's generator."""

    def __init__(self, pieces):
        self._it = iter(pieces)
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._it)

    def close(self):
        self.closed = True


@pytest.fixture
def api():
    with FakeRuntimeApi() as fake:
        yield fake


def run(api, handler, invocations=1):
    client = rt.RuntimeApiClient(api.address)
    try:
        rt.serve(client, handler, invocations=invocations)
    finally:
        client.close()


def test_the_first_chunk_reaches_the_runtime_api_while_the_handler_is_still_generating(api):
    waited = {}

    def tokens():
        yield b"event: token\ndata: {\"text\":\"The \"}\n\n"
        # Generation goes on only once the first event is out of the function.
        waited["first_chunk_seen"] = api.first_body_chunk.wait(timeout=5)
        waited["at"] = time.monotonic()
        yield b"event: token\ndata: {\"text\":\"party\"}\n\n"
        yield b"event: final\ndata: {}\n\n"

    request_id = api.invoke(CHAT_EVENT)
    run(api, lambda event, context: Streamed(200, {"Content-Type": "text/event-stream"}, tokens()))
    response = api.responses[request_id]
    assert waited["first_chunk_seen"] is True
    assert response.arrivals[0] < waited["at"]  # arrived before the handler produced more
    assert len(response.body_chunks) == 3 and response.complete
    assert response.body.startswith(b"event: token") and response.error is None


def test_the_request_speaks_the_streaming_http_integration_protocol(api):
    request_id = api.invoke(CHAT_EVENT)
    run(api, lambda e, c: Streamed(200, {"Content-Type": "text/event-stream",
                                         "Cache-Control": "no-cache"}, iter([b"data: x\n\n"])))
    response = api.responses[request_id]
    h = response.headers
    assert h["lambda-runtime-function-response-mode"] == "streaming"
    assert h["transfer-encoding"] == "chunked" and "content-length" not in h
    assert h["content-type"] == "application/vnd.awslambda.http-integration-response"
    assert {t.strip() for t in h["trailer"].split(",")} == {
        "Lambda-Runtime-Function-Error-Type", "Lambda-Runtime-Function-Error-Body"}
    assert response.prelude == {"statusCode": 200, "headers": {
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache"}}
    # The prelude, its 8 NUL bytes, then the body: exactly that on the wire.
    wire = b"".join(response.raw_chunks)
    assert wire == json.dumps(response.prelude).encode() + b"\0" * 8 + b"data: x\n\n"
    assert response.trailers == {}


def test_a_buffered_api_result_goes_out_whole_in_the_same_framing(api):
    result = {"statusCode": 422, "headers": {"Content-Type": "text/plain", "X-One": "a"},
              "multiValueHeaders": {"Content-Type": ["application/json"],
                                    "Vary": ["Origin", "Accept"], "Set-Cookie": ["a=1", "b=2"]},
              "body": json.dumps({"error": {"code": "validation_error", "message": "query"}}),
              "isBase64Encoded": False}
    request_id = api.invoke(CHAT_EVENT)
    run(api, lambda e, c: result)
    response = api.responses[request_id]
    assert response.prelude == {"statusCode": 422, "headers": {
        "X-One": "a", "Content-Type": "application/json", "Vary": "Origin, Accept"},
        "cookies": ["a=1", "b=2"]}
    assert json.loads(response.body)["error"]["code"] == "validation_error"
    assert len(response.body_chunks) == 1


def test_a_base64_result_is_sent_as_its_bytes(api):
    request_id = api.invoke(CHAT_EVENT)
    run(api, lambda e, c: {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                           "body": base64.b64encode(b"\x89PNG\0\0").decode(),
                           "isBase64Encoded": True})
    assert api.responses[request_id].body == b"\x89PNG\0\0"


def test_an_error_mid_stream_is_reported_in_the_trailers_and_the_body_closed(api):
    def failing():
        yield b"event: token\ndata: {}\n\n"
        raise RuntimeError("model stream broke")

    body = Body(failing())
    request_id = api.invoke(CHAT_EVENT)
    run(api, lambda e, c: Streamed(200, {"Content-Type": "text/event-stream"}, body))
    response = api.responses[request_id]
    assert response.body == b"event: token\ndata: {}\n\n"  # what was sent stays sent
    assert response.error["type"] == "RuntimeError"
    assert response.error["errorMessage"] == "model stream broke"
    assert body.closed


def test_an_error_before_any_byte_is_an_invocation_error(api):
    def broken(event, context):
        raise ValueError("container would not build")

    request_id = api.invoke(CHAT_EVENT)
    run(api, broken)
    (report,) = api.errors
    assert report.request_id == request_id and report.error_type == "Unhandled"
    assert report.document["errorType"] == "ValueError"
    assert report.document["errorMessage"] == "container would not build"
    assert request_id not in api.responses


def test_an_event_that_is_not_json_is_an_unmarshal_error(api):
    api.invoke(b"{not json")
    run(api, lambda e, c: pytest.fail("the handler must not run"))
    assert api.errors[0].error_type == "Runtime.UnmarshalError"


def test_the_context_and_trace_header_come_from_the_invocation(api):
    seen = {}

    def handler(event, context):
        seen.update(request=context.aws_request_id, left=context.get_remaining_time_in_millis(),
                    arn=context.invoked_function_arn, trace=os.environ.get("_X_AMZN_TRACE_ID"),
                    path=event["path"])
        return {"statusCode": 204, "headers": {}, "body": ""}

    request_id = api.invoke(CHAT_EVENT, timeout_s=30)
    run(api, handler)
    assert seen["request"] == request_id and 25_000 < seen["left"] <= 30_000
    assert seen["arn"].endswith(":function:noticebot-dev-chat")
    assert seen["trace"].startswith("Root=1-6740a1b2") and seen["path"] == "/api/chat"
    assert api.responses[request_id].prelude["statusCode"] == 204
    assert api.responses[request_id].body == b""


def test_many_invocations_on_one_connection(api):
    ids = [api.invoke({**CHAT_EVENT, "body": json.dumps({"query": f"q{n}"})}) for n in range(3)]
    run(api, lambda e, c: Streamed(200, {}, iter([e["body"].encode()])), invocations=3)
    assert [api.responses[i].body for i in ids] == [b'{"query": "q0"}', b'{"query": "q1"}',
                                                     b'{"query": "q2"}']


def test_a_refused_response_closes_the_body_and_raises(api):
    body = Body([b"a", b"b"])
    client = rt.RuntimeApiClient(api.address)
    try:
        with pytest.raises(rt.RuntimeApiError, match="400"):
            client.stream_response("never-issued", rt.prelude(200, {}), body)
    finally:
        client.close()
    assert body.closed


# ---- the process Lambda starts: the exec wrapper, then the loop ----------------------------------
HANDLER_MODULE = '''
import os, time

def handler(event, context):
    def body():
        yield b"first\\n"
        flag = os.environ["FLAG_FILE"]
        for _ in range(500):  # until the test saw the first chunk arrive (at most 5 s)
            if os.path.exists(flag):
                break
            time.sleep(0.01)
        yield ("flag seen\\n" if os.path.exists(flag) else "flag missing\\n").encode()
    return type("R", (), {"status": 200, "headers": {"Content-Type": "text/plain"},
                          "body": body()})()
'''


def start_wrapper(api, tmp_path, handler: str) -> subprocess.Popen:
    (tmp_path / "wrapped_handler.py").write_text(HANDLER_MODULE)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_LAMBDA_RUNTIME_API": api.address,
           "_HANDLER": handler, "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"),
           "PYTHONPATH": str(tmp_path), "FLAG_FILE": str(tmp_path / "flag")}
    # As Lambda calls a wrapper: the runtime's interpreter, then its own bootstrap arguments.
    return subprocess.Popen([str(WRAPPER), sys.executable, "-m", "awslambdaric", handler],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_the_wrapper_is_executable_and_runs_the_loop_on_the_runtimes_interpreter(api, tmp_path):
    assert os.access(WRAPPER, os.X_OK), "the exec wrapper must keep its executable bit"
    request_id = api.invoke(CHAT_EVENT)
    proc = start_wrapper(api, tmp_path, "wrapped_handler.handler")
    try:
        assert api.first_body_chunk.wait(timeout=20), proc.stdout.read1() if proc.poll() else ""
        (tmp_path / "flag").touch()
        api.wait_for(1, timeout_s=10)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    response = api.responses[request_id]
    assert response.prelude == {"statusCode": 200, "headers": {"Content-Type": "text/plain"}}
    assert response.body == b"first\nflag seen\n"


def test_a_handler_that_cannot_load_is_an_init_error_and_the_process_ends(api, tmp_path):
    proc = start_wrapper(api, tmp_path, "no_such_module.handler")
    try:
        assert proc.wait(timeout=20) == 1
    finally:
        if proc.poll() is None:
            proc.terminate()
    (report,) = api.errors
    assert report.request_id is None and report.error_type == "Runtime.ImportModuleError"
    assert "no_such_module" in report.document["errorMessage"]


def test_the_loop_keeps_serving_after_a_failed_invocation(api):
    calls = []

    def handler(event, context):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first one fails")
        return {"statusCode": 200, "headers": {}, "body": "ok"}

    api.invoke(CHAT_EVENT)
    second = api.invoke(CHAT_EVENT)
    thread = threading.Thread(target=run, args=(api, handler, 2), daemon=True)
    thread.start()
    api.wait_for(2)
    thread.join(timeout=5)
    assert api.responses[second].body == b"ok" and len(api.errors) == 1


def test_text_chunks_are_sent_as_utf8_and_a_chunk_of_another_type_ends_the_stream(api):
    request_id = api.invoke(CHAT_EVENT)
    run(api, lambda e, c: Streamed(200, {}, iter(["héllo ", b"bytes ", 42, b"never"])))
    response = api.responses[request_id]
    assert response.body == "héllo bytes ".encode()
    assert response.error["type"] == "TypeError"


@pytest.mark.parametrize("level, expected", [("DEBUG", 10), ("warn", 30), ("TRACE", 20),
                                             (None, 20)])
def test_the_log_level_follows_lambdas_setting(monkeypatch, level, expected):
    import logging

    root = logging.getLogger()
    before, handlers = root.level, list(root.handlers)
    if level is None:
        monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", level)
    try:
        rt.configure_logging()
        assert root.level == expected
    finally:
        root.setLevel(before)
        root.handlers[:] = handlers
