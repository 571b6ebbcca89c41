"""LocalModelEndpoint's payload mapping and reply shapes, over a hand-written fake llama.cpp."""

import json

import pytest

from noticebot.domain.errors import InvalidRequest
from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint


class FakeLlama:
    """Tokenizes by whitespace; 'generates' the words of ``reply``."""

    def __init__(self, reply="The sky is blue."):
        self.reply = reply
        self.calls = []

    def tokenize(self, data: bytes, add_bos=True, special=False):
        return [0] * (len(data.split()) + (1 if add_bos else 0))

    def create_completion(self, prompt, stream=False, **kwargs):
        self.calls.append(kwargs)
        words = self.reply.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)][: kwargs["max_tokens"]]
        if stream:
            return iter([{"choices": [{"text": p, "finish_reason": None}]} for p in pieces])
        usage = {"prompt_tokens": 7, "completion_tokens": len(pieces)}
        return {"choices": [{"text": "".join(pieces), "finish_reason": "stop"}], "usage": usage}


class FakeModelEndpoint(LocalModelEndpoint):
    def __init__(self, fake, **kw):
        super().__init__("/nonexistent.gguf", **kw)
        self.fake = fake

    def _model(self, target):
        return self.fake


def body(**parameters):
    return json.dumps({"inputs": "hello there", "parameters": parameters}).encode()


def test_invoke_reply_has_text_and_tgi_details():
    out = json.loads(FakeModelEndpoint(FakeLlama()).invoke(body(max_new_tokens=10, do_sample=False)))
    assert out == {
        "generated_text": "The sky is blue.",
        "details": {"finish_reason": "stop", "prompt_tokens": 7, "generated_tokens": 4},
    }


@pytest.mark.parametrize(
    "params, temperature",
    [({"do_sample": False}, 0.0), ({}, 0.0), ({"do_sample": True, "temperature": 0.7}, 0.7),
     ({"temperature": 0.5}, 0.5), ({"do_sample": True, "temperature": 0}, 0.0)],
)
def test_sampling_follows_tgi_rules(params, temperature):
    fake = FakeLlama()
    FakeModelEndpoint(fake).invoke(body(**params))
    assert fake.calls[0]["temperature"] == temperature


def test_stops_seed_and_context_room():
    fake = FakeLlama()
    endpoint = FakeModelEndpoint(fake, n_ctx=5, seed=7)
    endpoint.invoke(body(max_new_tokens=100, stop=["<|im_end|>", ""]))
    call = fake.calls[0]
    assert call["stop"] == ["<|im_end|>"] and call["seed"] == 7
    assert call["max_tokens"] == 2  # n_ctx 5 - 3 prompt tokens


@pytest.mark.parametrize("raw", [b"nope", b'{"parameters": {}}', b'{"inputs": ""}', b'{"inputs": 3}'])
def test_bad_payloads(raw):
    with pytest.raises(InvalidRequest):
        FakeModelEndpoint(FakeLlama()).invoke(raw)


def test_prompt_longer_than_context():
    with pytest.raises(InvalidRequest, match="context"):
        FakeModelEndpoint(FakeLlama(), n_ctx=2).invoke(body())


def test_stream_lines_and_lock_release():
    endpoint = FakeModelEndpoint(FakeLlama("a b c"))
    lines = list(endpoint.invoke_stream(body(max_new_tokens=10)))
    assert [json.loads(x[5:])["token"]["text"] for x in lines[:-1]] == ["a", " b", " c"]
    assert all(x.startswith(b"data:") and x.endswith(b"\n\n") for x in lines)
    last = json.loads(lines[-1][5:])
    assert last["generated_text"] == "a b c" and last["details"]["prompt_tokens"] == 3
    stream = endpoint.invoke_stream(body())
    next(stream)
    assert endpoint._lock.locked()
    stream.close()  # a reader that stops early frees the model for the next request
    assert not endpoint._lock.locked()
