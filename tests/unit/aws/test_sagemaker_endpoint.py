"""SageMakerEndpoint: requests through real botocore clients (moto for invoke_endpoint,
recorded responses for errors, retries and event streams)."""

import json

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.eventstream import EventStreamBuffer
from botocore.stub import Stubber

import eventstream_frames as es
from noticebot.adapters.aws.clients import AwsClients, client_config
from noticebot.adapters.aws.sagemaker_endpoint import SageMakerEndpoint
from noticebot.adapters.endpoint_chat_model import EndpointChatModel
from noticebot.domain.errors import ModelUnavailable
from noticebot.domain.models import Message
from noticebot.llm.content_handlers import Llama3ContentHandler
from noticebot.ports.chat_model import GenerationParams

MESSAGES = [Message("system", "Answer from the sources."), Message("user", "When is the ride?")]
PARAMS = GenerationParams(max_new_tokens=64, temperature=0.0)


def runtime():
    return AwsClients("us-east-1").get("sagemaker-runtime")


def queue_results(*bodies):
    """moto's documented way to script what invoke_endpoint returns."""
    requests.post("http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
                  json={"results": [{"Body": b, "ContentType": "application/json"}
                                    for b in bodies]})


def invoked(aws_account="123456789012"):
    """The requests moto's runtime backend received: (endpoint, headers + body) pairs."""
    import base64

    from moto.sagemakerruntime.models import sagemakerruntime_backends

    backend = sagemakerruntime_backends[aws_account]["us-east-1"]
    return [(name, {k.lower(): v for k, v in json.loads(base64.b64decode(key)).items()})
            for name, results in backend.results.items() for key in results]


def test_generate_through_moto_with_the_llama3_handler(aws):
    queue_results(json.dumps([{"generated_text": "At nine, from the north gate [1].<|eot_id|>",
                               "details": {"generated_tokens": 12, "prompt_tokens": 40}}]))
    endpoint = SageMakerEndpoint("noticebot-llm", runtime(), base_component="llama3-base")
    model = EndpointChatModel(endpoint, Llama3ContentHandler(), "llama3-base")
    completion = model.generate(MESSAGES, PARAMS, adapter="ws-riverside-v3")
    assert completion.text == "At nine, from the north gate [1]."
    assert (completion.prompt_tokens, completion.completion_tokens) == (40, 12)
    ((_, request),) = invoked()  # (moto files results under endpoint None: it misreads the path)
    assert request["x-amzn-sagemaker-inference-component"] == "ws-riverside-v3"
    payload = json.loads(request["body"])
    assert payload["inputs"].startswith("<|begin_of_text|><|start_header_id|>system")
    assert payload["parameters"]["stop"] == ["<|eot_id|>"] and payload["parameters"]["max_new_tokens"] == 64


def test_the_base_component_is_named_when_no_adapter_is_given(aws):
    queue_results(json.dumps({"generated_text": "ok"}))
    SageMakerEndpoint("noticebot-llm", runtime(), base_component="llama3-base").invoke(b"{}")
    assert invoked()[0][1]["x-amzn-sagemaker-inference-component"] == "llama3-base"


def test_an_endpoint_without_components_names_none(aws):
    queue_results(json.dumps({"generated_text": "ok"}))
    SageMakerEndpoint("noticebot-llm", runtime()).invoke(b"{}")
    assert "x-amzn-sagemaker-inference-component" not in invoked()[0][1]


@pytest.mark.parametrize("code,status,message,expect", [
    ("ValidationError", 400, "Endpoint noticebot-llm of account 123456789012 not found.", "not deployed"),
    ("ValidationError", 400, "Inference Component ws-x not found.", "'ws-x' is not deployed"),
    ("ValidationError", 400, "Inference Component has no capacity to process this request. "
                             "ApproximateModelCopyCount is 0.", "starting up"),
    ("ModelNotReadyException", 429, "model is loading", "starting up"),
    ("ServiceUnavailable", 503, "busy", "overloaded"),
    ("ThrottlingException", 400, "Rate exceeded", "overloaded"),
    ("ModelError", 424, "Received server error (500) from primary", "failed to answer"),
    ("AccessDeniedException", 400, "not authorized", "not allowed"),
])
def test_failures_become_a_clear_503(code, status, message, expect):
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code=code, http_status_code=status,
                              service_message=message)
        with pytest.raises(ModelUnavailable) as err:
            SageMakerEndpoint("noticebot-llm", client).invoke(b"{}", target="ws-x")
    assert expect in err.value.message and err.value.status == 503
    assert "123456789012" not in err.value.message  # account ids stay in the log


def test_no_endpoint_configured_is_a_503_without_a_call():
    with pytest.raises(ModelUnavailable, match="NOTICEBOT_CHAT_ENDPOINT"):
        SageMakerEndpoint("", lambda: pytest.fail("no client needed")).invoke(b"{}")


def recorded(client, responses):
    """Answers the client's HTTP requests with recorded responses, in order (botocore's
    ``before-send`` hook: signing, retries and parsing all run for real)."""
    sent = []

    def reply(request, **_):
        sent.append(request)
        status, headers, raw = responses.pop(0)
        return AWSResponse(request.url, status, headers, raw)

    client.meta.events.register("before-send.sagemaker-runtime", reply)
    return sent


class Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_):
        yield self.data

    def read(self, *_):
        data, self.data = self.data, b""
        return data

    def close(self):
        pass


def test_throttling_is_retried_with_backoff_then_reported(monkeypatch):
    delays = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", delays.append)
    client = runtime()
    throttled = (400, {"x-amzn-ErrorType": "ThrottlingException"},
                 Body(b'{"message": "Rate exceeded"}'))
    ok = (200, {"Content-Type": "application/json"}, Body(b'{"generated_text": "fine"}'))
    sent = recorded(client, [throttled, ok, throttled, throttled])
    endpoint = SageMakerEndpoint("noticebot-llm", client)
    assert endpoint.invoke(b"{}") == b'{"generated_text": "fine"}'
    assert len(sent) == 2 and len(delays) == 1 and delays[0] >= 0
    assert sent[-1].headers["amz-sdk-request"].startswith(b"attempt=2")
    with pytest.raises(ModelUnavailable, match="overloaded"):
        endpoint.invoke(b"{}")  # still throttled after the retry budget: a 503
    assert len(sent) == 4


def test_clients_have_timeouts_and_adaptive_retries():
    from noticebot.adapters.aws.clients import blocking_path_s, worst_case_s

    config = client_config("sagemaker-runtime")
    assert config.connect_timeout == 2.0 and config.read_timeout == 35.0
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 2}
    # Only the chat function calls the model (120 s by default): a whole answer's slowest
    # path, both tries of the model included, fits it; the API function (29 s) never waits
    # for the model, and its slowest path (an embedding, two searches, a rerank) fits 29 s.
    assert worst_case_s("sagemaker-runtime") == 74.0
    assert blocking_path_s("chat") + 2 <= 120
    assert blocking_path_s("api") + 2 <= 29
    embed = client_config("lambda")
    assert (embed.connect_timeout, embed.read_timeout) == (1.0, 6.0)
    assert embed.retries["total_max_attempts"] == 1  # a retried 6 s read would cost 14 s


# ------------------------------------------------------------------ streaming
def test_encoder_frames_decode_with_botocores_parser():
    buffer = EventStreamBuffer()
    buffer.add_data(es.payload_part(b"hello") + es.exception("ModelStreamError", "boom", "StreamBroken"))
    first, second = list(buffer)
    assert first.headers[":event-type"] == "PayloadPart" and first.payload == b"hello"
    assert second.headers[":message-type"] == "exception"
    assert json.loads(second.payload)["ErrorCode"] == "StreamBroken"


def stream_response(data: bytes, chunk: int = 37):
    raw = es.RecordedStream(data, chunk)
    headers = {"Content-Type": "application/vnd.amazon.eventstream",
               "X-Amzn-SageMaker-Content-Type": "text/event-stream"}
    return raw, (200, headers, raw)


def split_into_parts(data: bytes, sizes=(7, 30, 3, 50)) -> bytes:
    """The container's bytes as PayloadParts of uneven sizes (mid-line, mid-character)."""
    frames, start, n = b"", 0, 0
    while start < len(data):
        size = sizes[n % len(sizes)]
        frames += es.payload_part(data[start:start + size])
        start, n = start + size, n + 1
    return frames


def test_streamed_tokens_are_reassembled_from_recorded_frames():
    tokens = ["The ", "ride ", "starts ", "at ", "nine ", "— ", "north ", "gate."]
    body = es.tgi_stream(tokens, final="".join(tokens))
    client = runtime()
    raw, response = stream_response(split_into_parts(body))
    sent = recorded(client, [response])
    endpoint = SageMakerEndpoint("noticebot-llm", client, base_component="llama3-base")
    model = EndpointChatModel(endpoint, Llama3ContentHandler(), "llama3-base")
    pieces = list(model.stream(MESSAGES, PARAMS, adapter="ws-riverside-v3"))
    assert "".join(pieces) == "".join(tokens) and len(pieces) > 1
    assert sent[0].url.endswith("/endpoints/noticebot-llm/invocations-response-stream")
    assert sent[0].headers["X-Amzn-SageMaker-Inference-Component"] == b"ws-riverside-v3"
    assert json.loads(sent[0].body)["stream"] is True
    assert raw.closed


def test_a_stream_error_event_ends_the_answer_with_a_503():
    body = split_into_parts(es.tgi_stream(["Half ", "an "])) + es.exception(
        "ModelStreamError", "connection reset", "StreamBroken")
    client = runtime()
    raw, response = stream_response(body)
    recorded(client, [response])
    model = EndpointChatModel(SageMakerEndpoint("noticebot-llm", client),
                              Llama3ContentHandler(), "m")
    received = []
    with pytest.raises(ModelUnavailable, match="cut off"):
        for piece in model.stream(MESSAGES, PARAMS):
            received.append(piece)
    assert "".join(received).startswith("Half") and raw.closed


def test_a_corrupt_frame_is_detected_by_its_crc():
    frame = bytearray(es.payload_part(b'data:{"token":{"text":"x"}}\n'))
    frame[-6] ^= 0xFF  # flip a payload byte: the message CRC no longer matches
    client = runtime()
    _, response = stream_response(bytes(frame))
    recorded(client, [response])
    with pytest.raises(ModelUnavailable, match="damaged"):
        list(SageMakerEndpoint("noticebot-llm", client).invoke_stream(b"{}"))


def test_stopping_early_closes_the_http_stream():
    client = runtime()
    raw, response = stream_response(split_into_parts(es.tgi_stream(["a"] * 50)))
    recorded(client, [response])
    parts = SageMakerEndpoint("noticebot-llm", client).invoke_stream(b"{}")
    next(parts)
    parts.close()
    assert raw.closed


# ------------------------------------------------------------------ the service model, stubbed
class StubbedEvents:
    """What the adapter iterates: the event Stubber validated against the ResponseStream union,
    delivered as botocore's EventStream delivers events (iterable, closable)."""

    def __init__(self, events):
        self.events, self.closed = list(events), False

    def __iter__(self):
        return iter(self.events)

    def close(self):
        self.closed = True


def test_the_streaming_request_and_response_fit_the_sagemaker_runtime_service_model():
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    delivered = []

    def as_event_stream(parsed, **_):  # after Stubber validated the response's shape
        parsed["Body"] = StubbedEvents([parsed["Body"]])
        delivered.append(parsed["Body"])

    client.meta.events.register(
        "after-call.sagemaker-runtime.InvokeEndpointWithResponseStream", as_event_stream)
    part = b'data:{"token":{"text":"At nine"}}\n\n'
    with Stubber(client) as stub:
        # Stubber checks both sides against botocore's model of the operation: the request's
        # members and types, and the response (Body is the ResponseStream event union).
        stub.add_response(
            "invoke_endpoint_with_response_stream",
            {"Body": {"PayloadPart": {"Bytes": part}}, "ContentType": "text/event-stream",
             "InvokedProductionVariant": "AllTraffic"},
            expected_params={"EndpointName": "noticebot-llm", "Body": b'{"inputs": "q"}',
                             "ContentType": "application/json",
                             "InferenceComponentName": "ws-riverside-v3"})
        endpoint = SageMakerEndpoint("noticebot-llm", client, base_component="llama3-base")
        assert list(endpoint.invoke_stream(b'{"inputs": "q"}', target="ws-riverside-v3")) == [part]
        stub.assert_no_pending_responses()
    assert delivered[0].closed  # the HTTP stream is released when the parts run out


def test_a_stream_error_event_in_the_service_model_is_a_503():
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    client.meta.events.register(
        "after-call.sagemaker-runtime.InvokeEndpointWithResponseStream",
        lambda parsed, **_: parsed.update(Body=StubbedEvents([parsed["Body"]])))
    with Stubber(client) as stub:
        stub.add_response("invoke_endpoint_with_response_stream", {"Body": {
            "ModelStreamError": {"Message": "worker died", "ErrorCode": "StreamBroken"}}},
            expected_params={"EndpointName": "noticebot-llm", "Body": b"{}",
                             "ContentType": "application/json",
                             "InferenceComponentName": "llama3-base"})
        endpoint = SageMakerEndpoint("noticebot-llm", client, base_component="llama3-base")
        with pytest.raises(ModelUnavailable, match="cut off"):
            list(endpoint.invoke_stream(b"{}"))


def test_the_stream_refusal_comes_back_through_the_service_models_errors():
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("invoke_endpoint_with_response_stream",
                              service_error_code="ModelStreamError", http_status_code=424,
                              service_message="Received server error (500) from primary")
        with pytest.raises(ModelUnavailable):
            SageMakerEndpoint("noticebot-llm", client).invoke_stream(b"{}")
