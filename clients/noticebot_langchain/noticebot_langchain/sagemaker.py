"""The deployment's LLaMA 3 SageMaker endpoint as a LangChain chat model (langchain-aws).

For operators in SageMaker Studio (evaluating a workspace's adapter against the base
model, prompt work). It bypasses the API: no retrieval, no citations, and access is
governed by IAM (``sagemaker:InvokeEndpoint``) instead of the workspace token, so it is
not a way to give end users the chatbot. ``inference_component`` names the base model's
component or a workspace's adapter component on the shared endpoint.

The prompt format is the one the Lambda's ``Llama3ContentHandler`` sends (the tests
check both render the same prompt), kept here so this package does not depend on the
Lambda package.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_aws.chat_models.sagemaker_endpoint import (
    ChatModelContentHandler,
    ChatSagemakerEndpoint,
)
from langchain_core.messages import AIMessage

EOT = "<|eot_id|>"
CONTROL_TOKENS = ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                  "<|end_header_id|>", EOT)


def format_llama3(messages: list[dict]) -> str:
    """LLaMA 3 Instruct's chat template; message text cannot forge control tokens."""
    parts = ["<|begin_of_text|>"]
    for m in messages:
        content = m["content"] if isinstance(m["content"], str) else json.dumps(m["content"])
        for token in CONTROL_TOKENS:
            content = content.replace(token, "")
        parts.append(f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{content.strip()}{EOT}")
    parts.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    return "".join(parts)


class Llama3ChatContentHandler(ChatModelContentHandler):
    """TGI / LMI ``{"inputs", "parameters"}`` in; ``generated_text`` (or the TGI list form,
    or a streamed ``data:{"token": ...}`` line) out."""

    content_type = "application/json"
    accepts = "application/json"

    def transform_input(self, messages: list[dict], model_kwargs: dict) -> bytes:
        parameters = {"max_new_tokens": 256, "temperature": 0.2, "top_p": 0.9,
                      "do_sample": True, "return_full_text": False, **model_kwargs}
        parameters["stop"] = list(dict.fromkeys([EOT, *parameters.get("stop", [])]))
        stream = bool(parameters.pop("stream", False))
        payload = {"inputs": format_llama3(messages), "parameters": parameters}
        if stream:
            payload["stream"] = True
        return json.dumps(payload).encode("utf-8")

    def transform_output(self, output: Any) -> AIMessage:
        raw = output.read() if hasattr(output, "read") else output
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        text = text.strip()
        if text.startswith("data:"):
            text = text[5:].strip()
        if not text or text == "[DONE]":
            return AIMessage(content="")
        data = json.loads(text)
        if isinstance(data, list):
            data = data[0]
        token = data.get("token")
        if isinstance(token, dict):  # one streamed token
            return AIMessage(content="" if token.get("special") else token.get("text", ""))
        return AIMessage(content=str(data.get("generated_text", "")).split(EOT)[0])


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
