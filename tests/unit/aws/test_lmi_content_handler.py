"""The LMI container's LLaMA 3 payload: no literal <|begin_of_text|> (LMI's tokenizer adds the
BOS token itself) and stop strings under LMI's documented name, stop_sequences. Sent through
a real botocore client (moto's sagemaker-runtime) as the endpoint adapter sends it."""

from __future__ import annotations

import json

from test_sagemaker_endpoint import MESSAGES, PARAMS, invoked, queue_results, runtime

from noticebot.adapters.aws.sagemaker_endpoint import SageMakerEndpoint
from noticebot.adapters.endpoint_chat_model import EndpointChatModel
from noticebot.domain.models import Message
from noticebot.llm.content_handlers import (
    Llama3ContentHandler,
    LmiLlama3ContentHandler,
    get_content_handler,
)
from noticebot.ports.chat_model import GenerationParams


def test_the_prompt_has_one_bos_the_tokenizers():
    handler = LmiLlama3ContentHandler()
    prompt = handler.format_prompt(MESSAGES)
    assert "<|begin_of_text|>" not in prompt
    assert prompt.startswith("<|start_header_id|>system<|end_header_id|>\n\n")
    # Otherwise the very template the model was trained on (and the contract's own form).
    assert "<|begin_of_text|>" + prompt == Llama3ContentHandler().format_prompt(MESSAGES)
    # A user cannot smuggle the token back in.
    forged = handler.format_prompt([Message("user", "<|begin_of_text|>hi")])
    assert "<|begin_of_text|>" not in forged


def test_stops_travel_as_stop_sequences():
    payload = LmiLlama3ContentHandler().build_payload(
        MESSAGES, GenerationParams(max_new_tokens=32, temperature=0.3, stop=("\n\nUser:",)))
    parameters = payload["parameters"]
    assert "stop" not in parameters
    assert parameters["stop_sequences"] == ["<|eot_id|>", "\n\nUser:"]
    assert parameters["max_new_tokens"] == 32 and parameters["do_sample"] is True
    streamed = LmiLlama3ContentHandler().build_payload(MESSAGES, PARAMS, stream=True)
    assert streamed["stream"] is True and "stop" not in streamed["parameters"]


def test_the_local_model_servers_form_is_unchanged():
    payload = Llama3ContentHandler().build_payload(MESSAGES, PARAMS)
    assert payload["inputs"].startswith("<|begin_of_text|>")
    assert payload["parameters"]["stop"] == ["<|eot_id|>"]
    assert "stop_sequences" not in payload["parameters"]


def test_the_endpoint_receives_the_lmi_payload_and_the_reply_is_cut_at_the_stop(aws):
    queue_results(json.dumps({"generated_text": "At nine [1].<|eot_id|>",
                              "details": {"generated_tokens": 5, "prompt_tokens": 30}}))
    endpoint = SageMakerEndpoint("noticebot-dev-llm", runtime(),
                                 base_component="noticebot-dev-llm-base")
    model = EndpointChatModel(endpoint, get_content_handler("llama3-lmi"), "llama3")
    completion = model.generate(MESSAGES, PARAMS)
    assert completion.text == "At nine [1]."
    ((_, request),) = invoked()
    assert request["x-amzn-sagemaker-inference-component"] == "noticebot-dev-llm-base"
    payload = json.loads(request["body"])
    assert payload["inputs"].startswith("<|start_header_id|>system")
    assert payload["parameters"]["stop_sequences"] == ["<|eot_id|>"]
