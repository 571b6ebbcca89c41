"""``POST /api/chat`` as Server-Sent Events through ``chat_stream.respond``: the contract a
streaming transport (the local gateway, a Lambda response stream) relies on."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from apiclient import TEMPLATE, claims_for
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.config import Settings
from noticebot.domain.errors import ModelUnavailable
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for
from noticebot.handlers.api.chat_stream import StreamedResponse, respond, wants_stream
from noticebot.handlers.api.identity import principal_from_claims
from noticebot.handlers.api.sse import decode

QUESTION = "When is the summer party?"
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
               "X-Accel-Buffering": "no"}


class ScriptedStream(FakeChatModel):
    """Streams the fake's answer word by word; counts the pieces and whether the reader
    closed the stream; can fail after ``fail_after`` pieces."""

    def __init__(self, fail_after: int | None = None, failure: Exception | None = None):
        super().__init__()
        self.fail_after = fail_after
        self.failure = failure
        self.pieces_sent = 0
        self.closed = 0
        self.finished = 0

    def stream(self, messages, params, adapter=None):
        try:
            for piece in super().stream(messages, params, adapter):
                if self.fail_after is not None and self.pieces_sent >= self.fail_after:
                    raise self.failure
                self.pieces_sent += 1
                yield piece
            self.finished += 1
        finally:
            self.closed += 1


def stack(tmp_path, model):
    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=model, index=FakeVectorIndex())
    editor = principal_from_claims(claims_for("maria", "riverside", editor=True))
    container.notices.create(editor, title="Summer party",
                             body="The summer party is on 12 July at the boathouse. Bring food.")
    return container


@pytest.fixture
def model():
    return ScriptedStream()


@pytest.fixture
def container(tmp_path, model):
    return stack(tmp_path, model)


def chat_event(body, claims=None, accept: str | None = None, raw: bytes | None = None,
               content_type: str | None = "application/json", base64_body: bool = False) -> dict:
    event = copy.deepcopy(TEMPLATE)
    event.update(httpMethod="POST", path="/api/chat", pathParameters={"proxy": "api/chat"})
    event["requestContext"].update(httpMethod="POST", path="/prod/api/chat")
    if claims is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"] = {"claims": claims}
    for name, value in (("Content-Type", content_type), ("Accept", accept)):
        if value is not None:
            event["headers"][name] = value
            event["multiValueHeaders"][name] = [value]
    data = raw if raw is not None else json.dumps(body).encode()
    event["body"] = base64.b64encode(data).decode() if base64_body else data.decode()
    event["isBase64Encoded"] = base64_body
    return event


def read(response: StreamedResponse) -> list[tuple[str, dict]]:
    return [(e.event, json.loads(e.data)) for e in decode(response.body)]


def error_of(response: StreamedResponse) -> tuple[int, str]:
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(b"".join(response.body))
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return response.status, body["error"]["code"]


def blocking_answer(container, member, query=QUESTION) -> dict:
    result = handler_for(container)(chat_event({"query": query}, member), None)
    assert result["statusCode"] == 200
    return json.loads(result["body"])


# ---- which requests stream -----------------------------------------------------------------

@pytest.mark.parametrize("body,accept,streams", [
    ({"query": "q", "stream": True}, None, True),
    ({"query": "q"}, "text/event-stream", True),
    ({"query": "q", "stream": False}, "application/json, text/event-stream", True),
    ({"query": "q"}, None, False),
    ({"query": "q", "stream": False}, None, False),
    ({"query": "q", "stream": "true"}, None, False),  # the route answers it: a 422
    ({"query": "q", "stream": 1}, None, False),
    ({"query": "q"}, "*/*", False),
])
def test_wants_stream_asks_the_body_and_the_accept_header(body, accept, streams):
    assert wants_stream(chat_event(body, accept=accept)) is streams


def test_wants_stream_reads_a_base64_body_and_any_header_case():
    assert wants_stream(chat_event({"query": "q", "stream": True}, base64_body=True))
    event = chat_event({"query": "q"})
    event["headers"] = {"accept": "TEXT/EVENT-STREAM"}
    event["multiValueHeaders"] = {}
    assert wants_stream(event)


@pytest.mark.parametrize("method,path", [("GET", "/api/chat"), ("POST", "/api/search"),
                                         ("POST", "/api/chat/x"), ("POST", "/api/chatter")])
def test_only_post_api_chat_streams(method, path):
    event = chat_event({"query": "q", "stream": True}, accept="text/event-stream")
    event.update(httpMethod=method, path=path)
    assert not wants_stream(event)


def test_a_body_that_is_not_json_does_not_stream():
    assert not wants_stream(chat_event(None, raw=b"{not json"))
    assert not wants_stream(chat_event(None, raw=b"\xff\xfe", base64_body=True))
    assert not wants_stream(chat_event(None, raw=b"[true]"))


# ---- the stream ----------------------------------------------------------------------------

def test_tokens_then_exactly_one_final_with_the_blocking_answers_shape(container, member):
    response = respond(chat_event({"query": QUESTION, "stream": True}, member), container)
    assert response.status == 200
    assert {k: response.headers[k] for k in SSE_HEADERS} == SSE_HEADERS
    events = read(response)
    names = [name for name, _ in events]
    assert names[-1] == "final" and names.count("final") == 1
    assert set(names[:-1]) == {"token"} and len(names) >= 4
    tokens = "".join(data["text"] for name, data in events if name == "token")
    final = events[-1][1]

    blocking = blocking_answer(container, member)
    assert final.keys() == blocking.keys()
    assert {k: v for k, v in final.items() if k not in ("conversation_id", "usage")} == {
        k: v for k, v in blocking.items() if k not in ("conversation_id", "usage")}
    # The tokens are the model's raw text; the final answer is the checked one (here its
    # citation tidied), which the client shows in their place.
    assert "12 July" in tokens and "12 July" in final["answer"]
    assert final["support"] == "supported" and final["citations"][0]["title"] == "Summer party"
    # The turn is recorded like a blocking one.
    conversation = handler_for(container)(
        {**chat_event(None, member), "httpMethod": "GET",
         "path": f"/api/conversations/{final['conversation_id']}", "body": None}, None)
    turns = json.loads(conversation["body"])["turns"]
    assert [t["content"] for t in turns] == [QUESTION, final["answer"]]


def test_accept_text_event_stream_streams_without_the_body_flag(container, member):
    response = respond(chat_event({"query": QUESTION}, member, accept="text/event-stream"),
                       container)
    assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
    assert [name for name, _ in read(response)][-1] == "final"


def test_a_question_the_sources_cannot_answer_is_a_final_event_alone(container, member):
    events = read(respond(chat_event({"query": "Who won the chess final?", "stream": True},
                                     member), container))
    assert [name for name, _ in events] == ["final"]
    assert events[0][1]["support"] == "not_found" and events[0][1]["grounded"] is False


def test_a_browser_origin_gets_the_same_cors_headers_as_the_json_answer(container, member):
    event = chat_event({"query": QUESTION, "stream": True}, member)
    event["headers"]["Origin"] = "http://localhost:8081"
    event["multiValueHeaders"]["Origin"] = ["http://localhost:8081"]
    response = respond(event, container)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    response.body.close()


# ---- errors before the stream: JSON, as the blocking route answers them --------------------

def test_a_body_that_does_not_fit_is_a_json_422(container, member, model):
    response = respond(chat_event({"query": "", "stream": True}, member), container)
    assert error_of(response) == (422, "validation_error")
    response = respond(chat_event({"query": "q", "stream": True, "top_k": 99}, member), container)
    assert error_of(response) == (422, "validation_error")
    assert model.pieces_sent == 0


def test_an_unknown_conversation_is_a_json_404(container, member):
    response = respond(chat_event({"query": QUESTION, "stream": True, "conversation_id": "nope"},
                                  member), container)
    assert error_of(response) == (404, "not_found")


def test_another_users_conversation_is_a_json_404(container, member):
    first = read(respond(chat_event({"query": QUESTION, "stream": True}, member), container))
    other = claims_for("lee", "riverside")
    response = respond(chat_event({"query": QUESTION, "stream": True,
                                   "conversation_id": first[-1][1]["conversation_id"]}, other),
                       container)
    assert error_of(response) == (404, "not_found")


def test_an_unknown_model_is_a_json_404(container, member):
    response = respond(chat_event({"query": QUESTION, "stream": True, "model": "ft-none"},
                                  member), container)
    assert error_of(response) == (404, "not_found")


def test_no_caller_is_a_json_401(container):
    response = respond(chat_event({"query": QUESTION, "stream": True}), container)
    assert error_of(response) == (401, "unauthorized")


def test_the_request_gate_answers_first(container, member):
    assert error_of(respond(chat_event(None, member, raw=b'{"query": "q", "stream": true',
                                       accept="text/event-stream"), container))[0] == 400
    assert error_of(respond(chat_event({"query": "q", "stream": True}, member,
                                       content_type="text/plain"), container))[0] == 415
    assert error_of(respond(chat_event({"query": "q", "stream": True, "workspace_id": "x"},
                                       member), container)) == (403, "forbidden")


def test_a_model_that_cannot_answer_before_its_first_piece_is_a_json_503(tmp_path, member):
    model = ScriptedStream(fail_after=0, failure=ModelUnavailable("the model server is down"))
    response = respond(chat_event({"query": QUESTION, "stream": True}, member),
                       stack(tmp_path, model))
    assert error_of(response) == (503, "model_unavailable")


# ---- errors during the stream: one error event, then the end --------------------------------

@pytest.mark.parametrize("failure,code,message", [
    (ModelUnavailable("the model server went away"), "model_unavailable",
     "the model server went away"),
    (RuntimeError("secret detail"), "internal_error",
     "something went wrong on our side; try again"),
])
def test_a_failure_mid_stream_is_an_error_event_that_ends_it(tmp_path, member, failure, code,
                                                             message):
    model = ScriptedStream(fail_after=3, failure=failure)
    container = stack(tmp_path, model)
    earlier = blocking_answer(container, member)  # generate(), which does not fail
    response = respond(chat_event({"query": "Where is the summer party?", "stream": True,
                                   "conversation_id": earlier["conversation_id"]}, member),
                       container)
    assert response.status == 200
    events = read(response)
    assert [name for name, _ in events] == ["token"] * 3 + ["error"]
    assert events[-1][1] == {"error": {"code": code, "message": message}}
    assert model.closed == 1
    assert len(container.chat.get_conversation(principal_from_claims(member),
                                               earlier["conversation_id"]).turns) == 2


# ---- the reader going away ------------------------------------------------------------------

def test_closing_the_body_stops_the_model_and_records_nothing(container, member, model):
    response = respond(chat_event({"query": QUESTION, "stream": True}, member), container)
    assert [e.event for e in decode([next(response.body)])] == ["token"]
    response.body.close()
    assert model.closed == 1 and model.finished == 0 and model.pieces_sent == 1
    with pytest.raises(StopIteration):
        next(response.body)


def test_closing_the_body_before_reading_it_stops_the_model_too(container, member, model):
    response = respond(chat_event({"query": QUESTION, "stream": True}, member), container)
    response.body.close()  # the client left before the first chunk was sent
    assert model.closed == 1 and model.finished == 0


# ---- without a streaming transport ----------------------------------------------------------

def test_the_lambda_handler_answers_a_streamed_request_with_the_events_at_once(container, member):
    result = handler_for(container)(chat_event({"query": QUESTION, "stream": True}, member), None)
    assert result["statusCode"] == 200
    headers = {**result.get("headers", {}),
               **{k: v[-1] for k, v in result.get("multiValueHeaders", {}).items()}}
    assert headers["Content-Type"] == "text/event-stream"
    events = list(decode([result["body"].encode()]))
    assert [e.event for e in events][-1] == "final" and len(events) >= 2


# ---- the OpenAPI document says so -----------------------------------------------------------

def test_the_openapi_document_offers_the_event_stream_and_describes_each_event(api, container,
                                                                              member):
    _, doc = api.call("GET", "/api/openapi.json")
    ok = doc["paths"]["/api/chat"]["post"]["responses"]["200"]["content"]
    assert set(ok) == {"application/json", "text/event-stream"}
    assert ok["application/json"]["schema"] == {"$ref": "#/components/schemas/ChatOut"}
    stream = doc["components"]["schemas"]["ChatIn"]["properties"]["stream"]
    assert stream["type"] == "boolean" and "const" not in stream

    # One schema per event (OpenAPI 3.2's itemSchema reading): each event the route sends fits
    # the branch its name selects, its data the JSON schema that branch names. (The error
    # event's data is the error shape: test_a_failure_mid_stream_is_an_error_event_that_ends_it.)
    branches = {b["properties"]["event"]["const"]: b["properties"]["data"]
                for b in ok["text/event-stream"]["schema"]["oneOf"]}
    assert set(branches) == {"token", "final", "error"}

    def required_of(schema):
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].split("/")[-1]]
        return set(schema["required"])

    events = list(decode(respond(chat_event({"query": QUESTION, "stream": True}, member),
                                 container).body))
    for event in events:
        data = branches[event.event]
        assert data["contentMediaType"] == "application/json"
        assert required_of(data["contentSchema"]) <= set(json.loads(event.data)), event.event
