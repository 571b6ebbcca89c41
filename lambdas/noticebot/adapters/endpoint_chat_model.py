"""ChatModel = content handler (format) + ModelEndpoint (transport).

Why: the local model server and a SageMaker endpoint take the same payload, so
one class serves both modes; AWS wiring passes a SageMaker transport, local
wiring passes ``LocalModelEndpoint``. The ``adapter`` (a workspace's fine-tuned
model) is handed to the transport as its ``target`` (SageMaker's inference
component name).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from noticebot.domain.models import Message
from noticebot.llm.content_handlers import ContentHandler
from noticebot.model_contract import StopFilter, cut_at_stop
from noticebot.ports.chat_model import (
    ChatModel,
    Completion,
    GenerationParams,
    ModelEndpoint,
    StreamUsage,
    TextStream,
)


def iter_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Whole lines from a byte stream whose chunks may split or join lines
    (SageMaker's response-stream parts are not aligned to events)."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer


class EndpointChatModel(ChatModel):
    def __init__(self, endpoint: ModelEndpoint, handler: ContentHandler, model_id: str):
        self.endpoint = endpoint
        self.handler = handler
        self.model_id = model_id

    def generate(
        self, messages: Sequence[Message], params: GenerationParams, adapter: str | None = None
    ) -> Completion:
        body = self.handler.transform_input(messages, params)
        out = self.handler.parse_output(self.endpoint.invoke(body, target=adapter))
        return Completion(
            text=cut_at_stop(out.text, self.handler.stops(params)),
            model=self.model_id,
            prompt_tokens=out.prompt_tokens,
            completion_tokens=out.completion_tokens,
            extra={"adapter": adapter, "finish_reason": out.finish_reason},
        )

    def stream(
        self, messages: Sequence[Message], params: GenerationParams, adapter: str | None = None
    ) -> TextStream:
        usage = StreamUsage()
        return TextStream(self._pieces(messages, params, adapter, usage), usage)

    def _pieces(self, messages: Sequence[Message], params: GenerationParams,
                adapter: str | None, usage: StreamUsage) -> Iterator[str]:
        """A generator: nothing is sent before the first ``next()``."""
        body = self.handler.transform_input(messages, params, stream=True)
        stops = StopFilter(self.handler.stops(params))
        chunks = self.endpoint.invoke_stream(body, target=adapter)
        try:
            for line in iter_lines(chunks):
                end = self.handler.parse_stream_end(line)
                if end is not None:
                    usage.prompt_tokens = end.prompt_tokens
                    usage.completion_tokens = end.completion_tokens
                piece = self.handler.parse_stream_line(line)
                if piece:
                    text = stops.feed(piece)
                    if text:
                        yield text
                if stops.done:
                    return
            tail = stops.flush()
            if tail:
                yield tail
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # frees the local server's lock when the reader stops early
