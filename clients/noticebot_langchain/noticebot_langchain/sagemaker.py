"""The deployment's LLaMA 3 SageMaker endpoint as a LangChain chat model (langchain-aws).

For operators in SageMaker Studio (evaluating a workspace's adapter against the base
model, prompt work). It bypasses the API: no retrieval, no citations, and access is
governed by IAM (``sagemaker:InvokeEndpoint``) instead of the workspace token, so it is
not a way to give end users the chatbot. ``inference_component`` names the base model's
component or a workspace's adapter component on the shared endpoint.

The prompt, the payload and the reply forms are the model contract's
(``noticebot_langchain/model_contract.py``, a link to the one file the Lambda's content
handlers, the model server and training use; the package build copies its content), so
this package does not depend on the Lambda package.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_aws.chat_models.sagemaker_endpoint import (
    ChatModelContentHandler,
    ChatSagemakerEndpoint,
)
from langchain_core.messages import AIMessage

from noticebot_langchain import model_contract

LLAMA3 = model_contract.TEMPLATES["llama3"]
# What this helper sends when the caller names nothing (the payload's TGI keys).
DEFAULT_PARAMETERS = {"max_new_tokens": 256, "temperature": 0.2, "top_p": 0.9}


def format_llama3(messages: list[dict]) -> str:
    """LLaMA 3 Instruct's chat template; message text cannot forge control tokens."""
    return LLAMA3.prompt([{"role": m["role"], "content": m["content"] if isinstance(m["content"], str)
                           else json.dumps(m["content"])} for m in messages])


class Llama3ChatContentHandler(ChatModelContentHandler):
    """The model contract's payload in; its reply, or one streamed line's text, out."""

    content_type = "application/json"
    accepts = "application/json"

    def transform_input(self, messages: list[dict], model_kwargs: dict) -> bytes:
        options = {**DEFAULT_PARAMETERS, **model_kwargs}
        stream = bool(options.pop("stream", False))
        payload = model_contract.build_payload(
            format_llama3(messages), max_new_tokens=options.pop("max_new_tokens"),
            temperature=options.pop("temperature"), top_p=options.pop("top_p"),
            stop=model_contract.merge_stops(LLAMA3.stop_tokens, options.pop("stop", ())),
            repetition_penalty=options.pop("repetition_penalty", None), stream=stream)
        payload["parameters"].update(options)  # other TGI parameters pass through as given
        return model_contract.encode_json(payload)

    def transform_output(self, output: Any) -> AIMessage:
        """A whole reply (the response body, a stream to read) or one streamed line (bytes)."""
        if hasattr(output, "read"):
            return AIMessage(content=model_contract.parse_response(output.read(), LLAMA3.stop_tokens).text)
        return AIMessage(content=model_contract.parse_stream_line(output) or "")


def llama3_sagemaker_chat(endpoint_name: str, *, inference_component: str | None = None,
                          region_name: str | None = None, client: Any = None,
                          **model_kwargs: Any) -> ChatSagemakerEndpoint:
    options: dict = {"endpoint_name": endpoint_name, "content_handler": Llama3ChatContentHandler(),
                     "model_kwargs": model_kwargs}
    if inference_component:
        options["inference_component_name"] = inference_component
    if region_name:
        options["region_name"] = region_name
    if client is not None:
        options["client"] = client
    return ChatSagemakerEndpoint(**options)
