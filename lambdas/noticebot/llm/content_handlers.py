"""The model contract (``noticebot.model_contract``) behind the ChatModel port's types.

Why a class per model: the chat service picks a model by config name and hands it
``Message`` and ``GenerationParams``; the handler turns those into the contract's payload
and the replies back, and raises the domain's errors (InvalidRequest for messages no
template can render, ModelUnavailable for replies that break the contract). The template,
payload rules, reply forms and stop handling themselves live in the contract, shared with
the model server, training and the LangChain client.
"""

from __future__ import annotations

from collections.abc import Sequence

from noticebot import model_contract as contract
from noticebot.domain.errors import InvalidRequest, ModelUnavailable
from noticebot.domain.models import Message
from noticebot.ports.chat_model import GenerationParams


class ContentHandler:
    """Base: payload and response handling. Subclasses name the chat template."""

    template: contract.ChatTemplate | None = None

    @property
    def name(self) -> str:
        return self.template.name if self.template else "raw"

    @property
    def stop_tokens(self) -> tuple[str, ...]:
        return self.template.stop_tokens if self.template else ()

    @property
    def control_tokens(self) -> tuple[str, ...]:
        return self.template.control_tokens if self.template else ()

    # ---- prompt --------------------------------------------------------------
    def format_prompt(self, messages: Sequence[Message]) -> str:
        if self.template is None:
            raise NotImplementedError("a content handler needs a chat template")
        try:
            return self.template.prompt([{"role": m.role, "content": m.content} for m in messages])
        except contract.MessageError as exc:
            raise InvalidRequest(str(exc)) from None

    def clean(self, content: str) -> str:
        return self.template.clean(content) if self.template else content

    # ---- request -------------------------------------------------------------
    def stops(self, params: GenerationParams) -> list[str]:
        return contract.merge_stops(self.stop_tokens, params.stop)

    def build_payload(
        self, messages: Sequence[Message], params: GenerationParams, *, stream: bool = False
    ) -> dict:
        return contract.build_payload(
            self.format_prompt(messages), max_new_tokens=params.max_new_tokens,
            temperature=params.temperature, top_p=params.top_p, stop=self.stops(params),
            repetition_penalty=params.repetition_penalty, stream=stream)

    def transform_input(
        self, messages: Sequence[Message], params: GenerationParams, *, stream: bool = False
    ) -> bytes:
        return contract.encode_json(self.build_payload(messages, params, stream=stream))

    # ---- response ------------------------------------------------------------
    def transform_output(self, body: bytes) -> str:
        return self.parse_output(body).text

    def parse_output(self, body: bytes) -> contract.Generation:
        try:
            return contract.parse_response(body, self.stop_tokens)
        except contract.OutputError as exc:
            raise ModelUnavailable(str(exc)) from exc

    def parse_stream_line(self, line: bytes) -> str | None:
        try:
            return contract.parse_stream_line(line)
        except contract.OutputError as exc:
            raise ModelUnavailable(str(exc)) from exc

    def parse_stream_end(self, line: bytes) -> contract.Generation | None:
        """The token counts a stream's last line carries (None: not the last line)."""
        return contract.parse_stream_end(line)


class ChatMLContentHandler(ContentHandler):
    """SmolLM2-Instruct, the local model."""

    template = contract.TEMPLATES["chatml"]


class Llama3ContentHandler(ContentHandler):
    """Meta LLaMA 3 Instruct in the contract's own form (the local model server)."""

    template = contract.TEMPLATES["llama3"]


class LmiLlama3ContentHandler(Llama3ContentHandler):
    """Meta LLaMA 3 Instruct on the SageMaker endpoint's LMI container (vLLM / lmi-dist).

    Two differences from the contract's form, both LMI's:
    - the prompt starts at the first header, without ``<|begin_of_text|>``: LMI tokenizes
      ``inputs`` with the model's tokenizer, which adds the BOS token itself, and a second one
      puts the prompt outside what the model was trained on;
    - stop strings go in ``stop_sequences``, the parameter LMI's schema documents (``stop`` is
      not part of it).
    The replies (``generated_text`` / streamed ``token`` lines) are the contract's.
    """

    BOS = "<|begin_of_text|>"

    def format_prompt(self, messages: Sequence[Message]) -> str:
        prompt = super().format_prompt(messages)
        return prompt[len(self.BOS):] if prompt.startswith(self.BOS) else prompt

    def build_payload(
        self, messages: Sequence[Message], params: GenerationParams, *, stream: bool = False
    ) -> dict:
        payload = super().build_payload(messages, params, stream=stream)
        parameters = payload["parameters"]
        parameters["stop_sequences"] = parameters.pop("stop")
        return payload


HANDLERS = {"chatml": ChatMLContentHandler, "llama3": Llama3ContentHandler,
            "llama3-lmi": LmiLlama3ContentHandler}


def get_content_handler(name: str) -> ContentHandler:
    """By config name ("chatml" for SmolLM2 locally, "llama3" for the contract's LLaMA 3 form,
    "llama3-lmi" for the SageMaker endpoint's LMI container)."""
    try:
        return HANDLERS[name]()
    except KeyError:
        raise ValueError(f"unknown content handler {name!r}; known: {sorted(HANDLERS)}") from None
