"""ChatModel: messages in, text out. ModelEndpoint: the transport beneath it.

The request/response format of a model lives in a content handler
(``noticebot.llm.content_handlers``); the transport only moves bytes, so the
same handler works against a SageMaker endpoint and the local model server.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from noticebot.domain.models import Message


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 256
    temperature: float = 0.2
    top_p: float = 0.9
    stop: tuple[str, ...] = ()
    repetition_penalty: float | None = None  # TGI/LMI name; > 1 discourages loops


@dataclass
class Completion:
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class StreamUsage:
    """What the model server reported at a stream's end (0: nothing, or not read to the end)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


class TextStream(Iterator[str]):
    """A streamed answer's pieces, with ``usage`` filled in once they are read to the end.
    ``close()`` stops the generation (a reader that left early)."""

    def __init__(self, pieces: Iterator[str], usage: StreamUsage):
        self._pieces = pieces
        self.usage = usage

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()


class ChatModel(ABC):
    model_id: str

    @abstractmethod
    def generate(
        self, messages: Sequence[Message], params: GenerationParams, adapter: str | None = None
    ) -> Completion:
        """``adapter`` names a workspace's fine-tuned adapter; None is the base model."""

    @abstractmethod
    def stream(
        self, messages: Sequence[Message], params: GenerationParams, adapter: str | None = None
    ) -> Iterator[str]:
        """Yields text pieces as they are generated; a ``TextStream`` also reports the
        server's token counts at the end."""


class ModelEndpoint(ABC):
    """Bytes in, bytes out: SageMaker ``invoke_endpoint`` or the local model server."""

    @abstractmethod
    def invoke(self, body: bytes, target: str | None = None) -> bytes: ...

    @abstractmethod
    def invoke_stream(self, body: bytes, target: str | None = None) -> Iterator[bytes]: ...
