"""The chat function as Lambda runs it: a recorded API Gateway event through the streaming
runtime loop into ``handlers.chat_function``, answered over the Runtime API on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import pytest

from fake_runtime_api import FakeRuntimeApi
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.config import Settings
from noticebot.entrypoints import lambda_streaming_runtime as rt
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers import chat_function
from noticebot.handlers.api import sse
from noticebot.handlers.api.app import handle
from noticebot.handlers.api.identity import principal_from_claims

EVENT = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "events"
                    / "apigw_rest_chat_stream.json").read_text())


class GatedChatModel(FakeChatModel):
    """Writes its first word, then waits until ``gate`` is set before writing the rest."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.gate_opened_in_time = None
        self.finished = threading.Event()
        self.closed = False

    def stream(self, messages, params, adapter=None):
        words = list(super().stream(messages, params, adapter))
        try:
            yield words[0]
            self.gate_opened_in_time = self.gate.wait(timeout=5)
            yield from words[1:]
            self.finished.set()
        finally:
            self.closed = True


@pytest.fixture
def stack(tmp_path):
    model = GatedChatModel()
    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=model, index=FakeVectorIndex())
    claims = dict(EVENT["requestContext"]["authorizer"]["claims"], **{
        "sub": "maria", "cognito:username": "maria", "cognito:groups": "editors"})
    container.notices.create(principal_from_claims(claims), title="Summer party",
                             body="The summer party is on 12 July at the boathouse. Bring food.")
    return container, model


def event_with(body: dict | None = None, accept: str | None = "text/event-stream") -> dict:
    event = copy.deepcopy(EVENT)
    if body is not None:
        event["body"] = json.dumps(body)
    for key in ("headers", "multiValueHeaders"):
        event[key].pop("Accept", None)
        if accept:
            event[key]["Accept"] = accept if key == "headers" else [accept]
    return event


def serve(api, container, invocations=1):
    client = rt.RuntimeApiClient(api.address)
    try:
        rt.serve(client, lambda e, c: chat_function.respond(e, container, c),
                 invocations=invocations)
    finally:
        client.close()


def test_a_streamed_answer_reaches_api_gateway_token_by_token(stack):
    container, model = stack
    with FakeRuntimeApi() as api:
        request_id = api.invoke(EVENT)
        # The model is held after its first word until that word is out of the function.
        opener = threading.Thread(target=lambda: api.first_body_chunk.wait(10) and model.gate.set(),
                                  daemon=True)
        opener.start()
        serve(api, container)
        response = api.responses[request_id]
    assert model.gate_opened_in_time is True
    assert response.prelude["statusCode"] == 200
    assert response.prelude["headers"]["Content-Type"] == sse.CONTENT_TYPE
    events = list(sse.decode(response.body_chunks))
    kinds = [e.event for e in events]
    assert kinds[0] == "token" and kinds[-1] == "final" and kinds.count("final") == 1
    final = json.loads(events[-1].data)
    assert "12 July" in final["answer"] and final["citations"]
    assert len(response.body_chunks) >= 3 and response.error is None


def test_a_request_that_does_not_ask_to_stream_gets_the_api_functions_answer(stack):
    container, model = stack
    model.gate.set()
    body = {"query": "When is the summer party?"}
    with FakeRuntimeApi() as api:
        request_id = api.invoke(event_with(body, accept="application/json"))
        serve(api, container)
        response = api.responses[request_id]
    expected = handle(event_with(body, accept="application/json"), container)
    assert response.prelude["statusCode"] == expected["statusCode"] == 200
    head, whole = rt.buffered_parts(expected)
    assert response.prelude == head and len(response.body_chunks) == 1
    got, want = json.loads(response.body), json.loads(whole)
    assert got.keys() == want.keys() and got["answer"] == want["answer"]
    assert got["citations"] == want["citations"]


def test_a_refusal_before_the_stream_is_a_json_error_with_its_status(stack):
    container, model = stack
    with FakeRuntimeApi() as api:
        request_id = api.invoke(event_with({"query": "", "stream": True}))
        serve(api, container)
        response = api.responses[request_id]
    assert response.prelude["statusCode"] == 422
    assert response.prelude["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(response.body)["error"]["code"] == "validation_error"
    assert model.requests == []  # the model was never asked


def test_an_unsigned_caller_is_refused_like_the_api_function_does(stack):
    container, _ = stack
    event = event_with({"query": "When?", "stream": True})
    del event["requestContext"]["authorizer"]
    with FakeRuntimeApi() as api:
        request_id = api.invoke(event)
        serve(api, container)
        response = api.responses[request_id]
    assert response.prelude["statusCode"] == handle(copy.deepcopy(event), container)["statusCode"]
    assert response.prelude["statusCode"] in (401, 403)
