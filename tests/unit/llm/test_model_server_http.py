"""The local container's HTTP contract (/ping, /invocations), served over a fake endpoint."""

import http.client
import json
import threading
from collections.abc import Iterator

import pytest

from noticebot.domain.errors import ModelUnavailable
from noticebot.model_server.http_server import make_server
from noticebot.model_server.llama_cpp_backend import LocalModelEndpoint
from noticebot.ports.chat_model import ModelEndpoint


class EchoEndpoint(ModelEndpoint):
    def invoke(self, body: bytes, target: str | None = None) -> bytes:
        if target == "missing":
            raise ModelUnavailable("adapter 'missing' not deployed")
        return json.dumps({"generated_text": json.loads(body)["inputs"].upper()}).encode()

    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]:
        for word in json.loads(body)["inputs"].split():
            yield b'data:{"token":{"text":"%s"}}\n\n' % word.encode()


@pytest.fixture()
def server():
    srv = make_server(EchoEndpoint(), port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.read()


def test_ping_and_invocations(server):
    assert request(server, "GET", "/ping")[0] == 200
    status, body = request(server, "POST", "/invocations", json.dumps({"inputs": "hi", "parameters": {}}))
    assert status == 200 and json.loads(body) == {"generated_text": "HI"}


def test_streaming_and_errors(server):
    status, body = request(server, "POST", "/invocations", json.dumps({"inputs": "a b", "stream": True}))
    assert status == 200 and body.count(b"data:") == 2
    status, body = request(
        server, "POST", "/invocations", b'{"inputs":"x"}', {"X-Amzn-SageMaker-Inference-Component": "missing"}
    )
    assert status == 503 and json.loads(body)["error_type"] == "model_unavailable"
    assert request(server, "GET", "/nope")[0] == 404


def test_local_endpoint_construction_is_cheap_and_checks_adapters(tmp_path):
    endpoint = LocalModelEndpoint(tmp_path / "absent.gguf")  # nothing loads here
    with pytest.raises(ModelUnavailable, match="not deployed"):
        endpoint.invoke(b'{"inputs":"x","parameters":{}}', target="ws-1")
    with pytest.raises(ModelUnavailable, match="not found"):
        endpoint.invoke(b'{"inputs":"x","parameters":{}}')
