"""Content handlers: the model contract behind the port's types and the domain's errors.

The templates, payload rules and reply forms themselves are tested once, beside the
contract (tests/unit/model_contract)."""

import json

import pytest

from noticebot import model_contract
from noticebot.domain.errors import InvalidRequest, ModelUnavailable
from noticebot.domain.models import Message
from noticebot.llm.content_handlers import (
    ChatMLContentHandler,
    ContentHandler,
    Llama3ContentHandler,
    get_content_handler,
)
from noticebot.ports.chat_model import GenerationParams

CONVO = [Message("system", "Answer from the sources."), Message("user", "When is the meeting?")]


@pytest.mark.parametrize("handler", [ChatMLContentHandler(), Llama3ContentHandler()])
def test_messages_render_with_the_contracts_template(handler):
    dicts = [{"role": m.role, "content": m.content} for m in CONVO]
    assert handler.format_prompt(CONVO) == model_contract.TEMPLATES[handler.name].prompt(dicts)
    assert handler.stop_tokens == model_contract.TEMPLATES[handler.name].stop_tokens


@pytest.mark.parametrize("messages", [[], [Message("tool", "x")]])
def test_messages_no_template_renders_are_invalid_requests(messages):
    with pytest.raises(InvalidRequest):
        ChatMLContentHandler().format_prompt(messages)


def test_payload_carries_the_params_and_the_templates_stop_first():
    body = ChatMLContentHandler().transform_input(
        [Message("user", "café")], GenerationParams(max_new_tokens=64, temperature=0.7, top_p=0.9,
                                                    stop=("\n\n",), repetition_penalty=1.1), stream=True)
    assert "café".encode() in body
    payload = json.loads(body)
    assert payload["inputs"].endswith("<|im_start|>assistant\n") and payload["stream"] is True
    parameters = payload["parameters"]
    assert parameters["stop"] == ["<|im_end|>", "\n\n"]
    assert (parameters["max_new_tokens"], parameters["temperature"], parameters["top_p"],
            parameters["repetition_penalty"]) == (64, 0.7, 0.9, 1.1)


def test_replies_are_cut_at_the_templates_stop():
    handler = Llama3ContentHandler()
    body = b'{"generated_text": "Answer.<|eot_id|><|start_header_id|>user", "details": {"generated_tokens": 4}}'
    assert handler.transform_output(body) == "Answer."
    assert handler.parse_output(body).completion_tokens == 4


@pytest.mark.parametrize("call", [
    lambda h: h.parse_output(b'{"error": "CUDA OOM"}'),
    lambda h: h.parse_output(b"not json"),
    lambda h: h.parse_stream_line(b'data:{"error":"overloaded"}'),
    lambda h: h.parse_stream_line(b"data: not-json"),
])
def test_replies_that_break_the_contract_are_model_unavailable(call):
    with pytest.raises(ModelUnavailable):
        call(ChatMLContentHandler())


def test_stream_lines_give_their_text():
    assert ChatMLContentHandler().parse_stream_line(b'data:{"token":{"text":" Tue"}}') == " Tue"


def test_base_handler_needs_a_template_and_registry():
    with pytest.raises(NotImplementedError):
        ContentHandler().format_prompt([Message("user", "x")])
    assert isinstance(get_content_handler("chatml"), ChatMLContentHandler)
    assert isinstance(get_content_handler("llama3"), Llama3ContentHandler)
    with pytest.raises(ValueError):
        get_content_handler("mistral")
