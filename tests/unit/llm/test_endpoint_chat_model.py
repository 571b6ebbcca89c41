"""EndpointChatModel over a hand-written fake transport (no mocks library)."""

import json
from collections.abc import Iterator

import pytest

from noticebot.adapters.endpoint_chat_model import EndpointChatModel, iter_lines
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.models import Message
from noticebot.llm.content_handlers import ChatMLContentHandler, Llama3ContentHandler
from noticebot.ports.chat_model import GenerationParams, ModelEndpoint


class FakeEndpoint(ModelEndpoint):
    """Records what it was sent; answers with canned bytes."""

    def __init__(self, response: bytes = b"", chunks: list[bytes] | None = None, adapters=()):
        self.response = response
        self.chunks = chunks or []
        self.adapters = set(adapters)
        self.calls: list[tuple[dict, str | None]] = []
        self.closed = False

    def _record(self, body: bytes, target: str | None) -> None:
        if target is not None and target not in self.adapters:
            raise ModelUnavailable(f"adapter {target!r} not deployed")
        self.calls.append((json.loads(body), target))

    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        self._record(body, target)
        return self.response

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        self._record(body, target)
        try:
            yield from self.chunks
        finally:
            self.closed = True


MSGS = [Message("system", "Be brief."), Message("user", "When?")]


def sse(text: str) -> bytes:
    return b"data:" + json.dumps({"token": {"text": text, "special": False}}).encode() + b"\n\n"


def test_generate_sends_handler_payload_and_reads_usage():
    body = b'{"generated_text": "Tuesday.<|eot_id|>", "details": {"prompt_tokens": 20, "generated_tokens": 4, "finish_reason": "eos_token"}}'
    endpoint = FakeEndpoint(body, adapters={"ws-1"})
    model = EndpointChatModel(endpoint, Llama3ContentHandler(), "llama3-8b")
    out = model.generate(MSGS, GenerationParams(max_new_tokens=32), adapter="ws-1")
    assert out.text == "Tuesday."
    assert (out.model, out.prompt_tokens, out.completion_tokens) == ("llama3-8b", 20, 4)
    assert out.extra == {"adapter": "ws-1", "finish_reason": "eos_token"}
    payload, target = endpoint.calls[0]
    assert target == "ws-1"
    assert payload["inputs"] == Llama3ContentHandler().format_prompt(MSGS)
    assert payload["parameters"]["max_new_tokens"] == 32 and "stream" not in payload


def test_generate_without_details_reports_zero_usage_and_cuts_caller_stops():
    endpoint = FakeEndpoint(b'[{"generated_text": "one\\n\\nUser: two"}]')
    model = EndpointChatModel(endpoint, ChatMLContentHandler(), "smol")
    out = model.generate(MSGS, GenerationParams(stop=("\n\nUser:",)))
    assert (out.text, out.prompt_tokens, out.completion_tokens) == ("one", 0, 0)


def test_unknown_adapter_surfaces_model_unavailable():
    model = EndpointChatModel(FakeEndpoint(b"{}"), ChatMLContentHandler(), "smol")
    with pytest.raises(ModelUnavailable, match="not deployed"):
        model.generate(MSGS, GenerationParams(), adapter="nope")


def test_stream_yields_pieces_and_stops_at_split_stop_token():
    chunks = [sse("Tue"), sse("sday"), sse("<|im"), sse("_end|>"), sse("never")]
    endpoint = FakeEndpoint(chunks=chunks)
    pieces = list(EndpointChatModel(endpoint, ChatMLContentHandler(), "smol").stream(MSGS, GenerationParams()))
    assert pieces == ["Tue", "sday"]
    assert endpoint.calls[0][0]["stream"] is True
    assert endpoint.closed  # early stop closes the transport's generator


def test_stream_reassembles_lines_split_across_chunks():
    raw = sse("Hello") + sse(" world") + b'data:{"generated_text":"Hello world","details":{}}\n\n'
    chunks = [raw[i : i + 7] for i in range(0, len(raw), 7)]  # arbitrary SageMaker part sizes
    model = EndpointChatModel(FakeEndpoint(chunks=chunks), ChatMLContentHandler(), "smol")
    assert "".join(model.stream(MSGS, GenerationParams())) == "Hello world"


def test_stream_flushes_a_held_tail_at_end():
    model = EndpointChatModel(FakeEndpoint(chunks=[sse("a <|")]), ChatMLContentHandler(), "smol")
    assert list(model.stream(MSGS, GenerationParams())) == ["a ", "<|"]


def test_iter_lines():
    assert list(iter_lines([b"a\nb", b"c\n\n", b"d"])) == [b"a", b"bc", b"d"]


def test_a_stream_read_to_its_end_reports_the_servers_token_counts():
    end = (b'data:{"generated_text":"Hello world","details":{"finish_reason":"eos_token",'
           b'"prompt_tokens":42,"generated_tokens":2}}\n\n')
    model = EndpointChatModel(FakeEndpoint(chunks=[sse("Hello"), sse(" world"), end]),
                              ChatMLContentHandler(), "smol")
    stream = model.stream(MSGS, GenerationParams())
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (0, 0)  # not yet
    assert "".join(stream) == "Hello world"
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (42, 2)
    # TGI's last event: the prompt as its prefill tokens, beside the last token
    tgi = (b'data:{"token":{"text":"!","special":false},"generated_text":"Hi!",'
           b'"details":{"generated_tokens":2,"prefill":[{"id":1},{"id":2},{"id":3}]}}\n\n')
    stream = EndpointChatModel(FakeEndpoint(chunks=[sse("Hi"), tgi]), ChatMLContentHandler(),
                               "smol").stream(MSGS, GenerationParams())
    assert list(stream) == ["Hi", "!"]
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (3, 2)
