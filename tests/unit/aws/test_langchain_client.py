"""The notebook client package (clients/noticebot_langchain) against the real API handler,
through a hand-written in-process HTTP transport (no network, no mocks library)."""

import json
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

pytest.importorskip("langchain_core")
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "clients" / "noticebot_langchain"))

from apiclient import claims_for  # noqa: E402
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex  # noqa: E402
from noticebot.config import Settings  # noqa: E402
from noticebot.domain.models import Principal  # noqa: E402
from noticebot.entrypoints.apigw_events import build_event, response_parts  # noqa: E402
from noticebot.entrypoints.local_stack import local_stack  # noqa: E402
from noticebot.handlers.api.app import handle  # noqa: E402
from noticebot_langchain import (  # noqa: E402
    NoticebotAPIError,
    NoticebotChatModel,
    NoticebotClient,
    NoticebotRetriever,
)

BASE = "https://api.example.test/prod"
TOKENS = {"tok-sam": claims_for("sam", "riverside"), "tok-eve": claims_for("eve", "other-club")}


class ApiGatewayTransport:
    """Plays API Gateway + the Cognito authorizer: bearer token -> claims -> REST event ->
    the API Lambda handler -> HTTP response."""

    def __init__(self, container):
        self.container = container
        self.requests = []

    def __call__(self, method, url, headers, body, timeout):
        assert url.startswith(BASE) and timeout > 0
        self.requests.append((method, url[len(BASE):], headers, json.loads(body) if body else None))
        token = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        path, _, query = url[len(BASE):].partition("?")
        event = build_event(method, unquote(path), query, headers, body or b"",
                            TOKENS.get(token))
        return response_parts(handle(event, self.container))


@pytest.fixture
def board(tmp_path):
    c = local_stack(Settings(data_dir=tmp_path), embedder=FakeEmbedder(),
                    chat_model=FakeChatModel(), index=FakeVectorIndex())
    c.notices.create(Principal("maria", "riverside", is_editor=True), "Pool notice",
                     "The swimming pool reopens on Monday after repairs.")
    return c


def client(board, token="tok-sam", transport=None):
    return NoticebotClient(BASE, token=token, transport=transport or ApiGatewayTransport(board))


def test_retriever_returns_cited_passages_of_the_callers_workspace(board):
    transport = ApiGatewayTransport(board)
    retriever = NoticebotRetriever(client=client(board, transport=transport), top_k=3)
    docs = retriever.invoke("swimming pool")
    assert docs and docs[0].page_content.startswith("The swimming pool reopens")
    assert docs[0].metadata["title"] == "Pool notice" and docs[0].metadata["score"] > 0
    method, path, headers, payload = transport.requests[0]
    assert (method, path, payload) == ("POST", "/api/search",
                                       {"query": "swimming pool", "top_k": 3, "mode": "hybrid"})
    assert headers["Authorization"] == "Bearer tok-sam"
    assert NoticebotRetriever(client=client(board, "tok-eve")).invoke("swimming pool") == []


def test_chat_model_returns_the_grounded_answer_with_citations(board):
    transport = ApiGatewayTransport(board)
    model = NoticebotChatModel(client=client(board, transport=transport), remember=True)
    reply = model.invoke("When does the swimming pool reopen?")
    assert "Monday" in reply.content
    assert reply.response_metadata["citations"][0]["title"] == "Pool notice"
    assert reply.usage_metadata["total_tokens"] > 0
    first = reply.response_metadata["conversation_id"]
    model.invoke("And the opening hours?")
    assert transport.requests[-1][3] == {"query": "And the opening hours?", "conversation_id": first}


def test_errors_carry_the_api_error_shape(board):
    with pytest.raises(NoticebotAPIError) as err:
        NoticebotRetriever(client=client(board, token=None)).invoke("pool")
    assert (err.value.status, err.value.code) == (401, "unauthorized")

    def model_down(method, url, headers, body, timeout):
        return 503, {}, json.dumps({"error": {"code": "model_unavailable",
                                              "message": "the model is starting up"}}).encode()

    with pytest.raises(NoticebotAPIError, match="starting up") as err:
        NoticebotChatModel(client=client(board, transport=model_down)).invoke("hi")
    assert err.value.code == "model_unavailable"


def test_a_token_function_is_called_per_request(board):
    issued = []

    def fresh_token():
        issued.append(1)
        return "tok-sam"

    retriever = NoticebotRetriever(client=NoticebotClient(BASE, token=fresh_token,
                                                          transport=ApiGatewayTransport(board)))
    retriever.invoke("pool")
    retriever.invoke("pool")
    assert len(issued) == 2


def test_the_sagemaker_helper_renders_the_lambdas_llama3_prompt(aws):
    pytest.importorskip("langchain_aws")
    import boto3
    import requests
    from langchain_core.messages import HumanMessage, SystemMessage

    from noticebot import model_contract
    from noticebot_langchain.sagemaker import Llama3ChatContentHandler, llama3_sagemaker_chat

    # The client ships the contract's one file (a link the package build reads through).
    shipped = Path(__file__).resolve().parents[3] / "clients/noticebot_langchain/noticebot_langchain"
    assert (shipped / "model_contract.py").resolve() == Path(model_contract.__file__).resolve()
    messages = [{"role": "system", "content": " Cite sources. "},
                {"role": "user", "content": "Hi <|eot_id|> there"}]
    body = Llama3ChatContentHandler().transform_input(messages, {"stop": ["\n\n"], "top_k": 5})
    request = model_contract.parse_request(body)  # what the model server reads
    assert request.prompt == model_contract.TEMPLATES["llama3"].prompt(messages)
    assert request.stop == ("<|eot_id|>", "\n\n") and request.top_k == 5 and not request.greedy

    requests.post("http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
                  json={"results": [{"Body": json.dumps([{"generated_text": "Monday.<|eot_id|>"}]),
                                     "ContentType": "application/json"}]})
    chat = llama3_sagemaker_chat("noticebot-llm", inference_component="ws-riverside-v3",
                                 client=boto3.client("sagemaker-runtime", region_name="us-east-1"),
                                 max_new_tokens=32)
    reply = chat.invoke([SystemMessage("Answer briefly."), HumanMessage("When?")])
    assert reply.content == "Monday."
