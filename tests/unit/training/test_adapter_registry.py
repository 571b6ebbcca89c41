"""LocalModelEndpoint's adapter registry and the HTTP server's adapter selection (nothing loads here)."""

import http.client
import json
import threading

import pytest

from noticebot.domain.errors import InvalidRequest, ModelUnavailable
from noticebot.model_server.http_server import make_server
from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint
from noticebot.ports.chat_model import ModelEndpoint


def adapter_dir(tmp_path, name="a", peft_type="LORA", weights=True):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": peft_type, "r": 8}))
    if weights:
        (folder / "adapter_model.safetensors").write_bytes(b"{}")
    return folder


def test_register_list_replace_unregister(tmp_path):
    endpoint = LocalModelEndpoint(tmp_path / "absent.gguf", hf_model_dir=tmp_path / "base")
    first, second = adapter_dir(tmp_path, "one"), adapter_dir(tmp_path, "two")
    assert endpoint.adapters() == {}
    assert endpoint.register_adapter("ws-1", first) == first.resolve()
    endpoint.register_adapter("ws-2.v3", second)
    assert endpoint.adapters() == {"ws-1": first.resolve(), "ws-2.v3": second.resolve()}
    endpoint.register_adapter("ws-1", second)  # a new version replaces the old
    assert endpoint.adapters()["ws-1"] == second.resolve()
    assert endpoint.unregister_adapter("ws-1") is True
    assert endpoint.unregister_adapter("ws-1") is False
    assert list(endpoint.adapters()) == ["ws-2.v3"]
    with pytest.raises(ModelUnavailable, match="not deployed"):
        endpoint.invoke(b'{"inputs":"x","parameters":{}}', target="ws-1")


@pytest.mark.parametrize("name", ["", "-x", "a/b", "a b", "x" * 64, None])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(InvalidRequest, match="adapter name"):
        LocalModelEndpoint(tmp_path / "absent.gguf").register_adapter(name, adapter_dir(tmp_path))


def test_bad_folders_are_refused(tmp_path):
    endpoint = LocalModelEndpoint(tmp_path / "absent.gguf")
    with pytest.raises(InvalidRequest, match="not found"):
        endpoint.register_adapter("a", tmp_path / "missing")
    with pytest.raises(InvalidRequest, match="adapter_config.json"):
        endpoint.register_adapter("a", tmp_path)
    with pytest.raises(InvalidRequest, match="not a LoRA"):
        endpoint.register_adapter("a", adapter_dir(tmp_path, "ia3", peft_type="IA3"))
    with pytest.raises(InvalidRequest, match="safetensors"):
        endpoint.register_adapter("a", adapter_dir(tmp_path, "empty", weights=False))
    assert endpoint.adapters() == {}


def test_a_gguf_lora_still_goes_to_llama_cpp(tmp_path):
    lora = tmp_path / "lora.gguf"
    lora.write_bytes(b"GGUF")
    endpoint = LocalModelEndpoint(tmp_path / "absent.gguf", adapters={"old": str(lora)})
    assert endpoint.adapters() == {"old": lora}
    assert endpoint._transformers_target("old") is False
    endpoint.register_adapter("new", lora)
    assert endpoint._transformers_target("new") is False


def test_base_requests_use_transformers_only_without_a_gguf(tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    assert LocalModelEndpoint(gguf, hf_model_dir=tmp_path)._transformers_target(None) is False
    assert LocalModelEndpoint(tmp_path / "absent.gguf", hf_model_dir=tmp_path)._transformers_target(None) is True
    assert LocalModelEndpoint(tmp_path / "absent.gguf")._transformers_target(None) is False


def test_adapter_without_any_base_model_is_unavailable(tmp_path, monkeypatch):
    endpoint = LocalModelEndpoint(tmp_path / "absent.gguf")
    endpoint.model_path = None  # neither a GGUF nor an HF folder
    with pytest.raises(ModelUnavailable, match="no base model"):
        endpoint.register_adapter("a", adapter_dir(tmp_path))


def test_missing_hf_base_is_reported_as_unavailable(tmp_path):
    endpoint = LocalModelEndpoint(tmp_path / "absent.gguf", hf_model_dir=tmp_path / "nothing")
    endpoint.register_adapter("a", adapter_dir(tmp_path))
    pytest.importorskip("torch")
    with pytest.raises(ModelUnavailable, match="config.json"):
        endpoint.invoke(b'{"inputs":"x","parameters":{}}', target="a")


class Recorder(ModelEndpoint):
    def __init__(self):
        self.targets = []

    def invoke(self, body, target=None):
        self.targets.append(target)
        return b'{"generated_text": ""}'

    def invoke_stream(self, body, target=None):
        self.targets.append(target)
        yield b'data:{"generated_text": ""}\n\n'


def test_http_adapter_selection_header_model_header_or_payload():
    recorder = Recorder()
    srv = make_server(recorder, port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        def post(payload, headers=None):
            conn = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=5)
            conn.request("POST", "/invocations", body=json.dumps(payload), headers=headers or {})
            response = conn.getresponse()
            response.read()
            conn.close()
            assert response.status == 200

        post({"inputs": "x"})
        post({"inputs": "x", "adapter": "from-payload"})
        post({"inputs": "x", "adapter": "ignored"}, {"X-Amzn-SageMaker-Target-Model": "from-mme"})
        post({"inputs": "x"}, {"X-Amzn-SageMaker-Inference-Component": "from-ic",
                               "X-Amzn-SageMaker-Target-Model": "ignored"})
        post({"inputs": "x", "stream": True, "adapter": "streamed"})
    finally:
        srv.shutdown()
        srv.server_close()
    assert recorder.targets == [None, "from-payload", "from-mme", "from-ic", "streamed"]
