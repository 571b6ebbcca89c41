"""The real local model endpoint (SmolLM2-135M GGUF on llama.cpp) behind EndpointChatModel."""

import json

import pytest

from noticebot.adapters.endpoint_chat_model import EndpointChatModel
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.models import Message
from noticebot.llm.content_handlers import ChatMLContentHandler
from noticebot.ports.chat_model import GenerationParams

pytestmark = pytest.mark.models

MSGS = [Message("system", "You answer in one short sentence."), Message("user", "What colour is the sky?")]
GREEDY = GenerationParams(max_new_tokens=16, temperature=0.0)


@pytest.fixture(scope="module")
def chat(local_endpoint):
    return EndpointChatModel(local_endpoint, ChatMLContentHandler(), "smollm2-135m-instruct")


def test_generate_returns_text_within_budget(chat):
    out = chat.generate(MSGS, GREEDY)
    assert out.text.strip()
    assert 0 < out.completion_tokens <= 16 and out.prompt_tokens > 10
    assert "<|im_end|>" not in out.text


def test_stream_matches_greedy_generate(chat):
    stream = chat.stream(MSGS, GREEDY)
    pieces = list(stream)
    assert len(pieces) > 1 and "".join(pieces).strip()
    blocking = chat.generate(MSGS, GREEDY)
    assert "".join(pieces) == blocking.text
    # The server's end line: the same prompt, counted by the same tokenizer.
    assert stream.usage.prompt_tokens == blocking.prompt_tokens > 10


def test_raw_endpoint_speaks_tgi(local_endpoint):
    body = ChatMLContentHandler().transform_input(MSGS, GenerationParams(max_new_tokens=4, temperature=0.7))
    out = json.loads(local_endpoint.invoke(body))
    assert isinstance(out["generated_text"], str)
    assert out["details"]["generated_tokens"] <= 4 and out["details"]["prompt_tokens"] > 0
    lines = list(local_endpoint.invoke_stream(body))
    assert all(line.startswith(b"data:") and line.endswith(b"\n\n") for line in lines)
    assert "generated_text" in json.loads(lines[-1][5:])


def test_unknown_adapter_is_not_deployed(local_endpoint):
    with pytest.raises(ModelUnavailable, match="not deployed"):
        local_endpoint.invoke(b'{"inputs": "hi", "parameters": {}}', target="workspace-42")
