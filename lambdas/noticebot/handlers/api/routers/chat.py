"""``POST /api/chat``, as one JSON answer or as Server-Sent Events, and the caller's
conversations.

A streamed answer (``"stream": true``, or ``Accept: text/event-stream``) is ``token`` events
with the model's text as it is written, then one ``final`` event whose data is the JSON the
blocking answer would have been (the verified answer, which may differ from the tokens), or
one ``error`` event in the API's error shape when the turn fails part way. Everything that can
fail before the first event (the caller, the body, the conversation, the model, retrieval)
fails the way the blocking route does: a JSON error with its status, since nothing was sent.

The events go out as they come only where a transport can send a response in pieces
(``chat_stream.respond``, which hands this route a sink for the body); a buffered Lambda
response gets the same events all at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.domain.errors import NoticebotError, error_body
from noticebot.domain.tuning import BASE_MODEL_ID
from noticebot.handlers.api import sse
from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, USES_MODEL, WITH_BODY, declare
from noticebot.handlers.api.schemas import ChatIn, ChatOut, CitationOut, ConversationOut, TurnOut
from noticebot.services.chat import ChatDone, ChatEvent, ChatResult, ChatToken

logger = logging.getLogger(__name__)

router = APIGatewayRouter()

# The request-context key of a list the route appends a streamed body to, instead of
# buffering it into the response (chat_stream.respond passes one).
STREAM_SINK = "chat_stream_sink"

TOKEN, FINAL, ERROR = "token", "final", "error"
INTERNAL_ERROR = ("internal_error", "something went wrong on our side; try again")


def _event(name: str, description: str, data_schema: dict) -> dict:
    return {"type": "object", "required": ["event", "data"], "description": description,
            "properties": {"event": {"const": name},
                           "data": {"type": "string", "contentMediaType": "application/json",
                                    "contentSchema": data_schema}}}


# The media type object of the streamed answer. Its schema describes one event, as OpenAPI 3.2's
# ``itemSchema`` does for sequential media types (and as readers of 3.1 documents, such as
# Schemathesis, take ``schema`` to mean): the event's name and its JSON data.
EVENT_STREAM = {sse.CONTENT_TYPE: {"schema": {
    "description": (
        "Sent when the body has `\"stream\": true` or the request says "
        "`Accept: text/event-stream`. Server-Sent Events, each `event: NAME` and one "
        "`data:` line of JSON: `token` events with each piece of the model's text as it is "
        "written, then exactly one `final` event with this route's JSON answer (the checked "
        "answer, which replaces the tokens), or one `error` event in the API's error shape "
        "when the turn fails after the stream began. An error before the stream begins is a "
        "JSON response with its status."),
    "oneOf": [
        _event(TOKEN, "A piece of the model's text, not yet checked against the sources",
               {"type": "object", "required": ["text"],
                "properties": {"text": {"type": "string"}}}),
        _event(FINAL, "The checked answer: the same JSON as the non-streamed answer",
               {"$ref": "#/components/schemas/ChatOut"}),
        _event(ERROR, "The turn failed after the stream began; nothing is recorded",
               {"$ref": "#/components/schemas/ErrorBody"}),
    ],
}}}


def _principal():
    return principal_from_event(router.current_event.raw_event)


def chat_out(result: ChatResult) -> ChatOut:
    return ChatOut(answer=result.answer, citations=[CitationOut.of(c) for c in result.citations],
                   conversation_id=result.conversation_id, model=result.model,
                   usage=result.usage, grounded=result.grounded,
                   answer_check=result.answer_check, warning=result.warning,
                   model_name=result.model_name, support=result.support)


def wants_events(request: ChatIn, accept: str | None) -> bool:
    return request.stream or sse.accepts_event_stream(accept)


class ChatEventStream:
    """The SSE body of one streamed turn, from its first event on. Closing it closes the turn:
    the model stops and nothing is recorded (``ChatService.stream_chat``)."""

    def __init__(self, first: ChatEvent, events: Iterator[ChatEvent]):
        self._events = events
        self._frames = self._frame(first)

    def __iter__(self) -> ChatEventStream:
        return self

    def __next__(self) -> bytes:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        close = getattr(self._events, "close", None)
        if close is not None:
            close()  # also when no frame was asked for: the turn is already under way

    def _frame(self, event: ChatEvent | None) -> Iterator[bytes]:
        try:
            while isinstance(event, ChatToken):
                yield sse.encode_json(TOKEN, {"text": event.text})
                event = next(self._events, None)
            if isinstance(event, ChatDone):
                yield sse.encode_json(FINAL, chat_out(event.result).model_dump(mode="json"))
                return
            logger.error("a streamed chat turn ended without its result: %r", event)
            yield sse.encode_json(ERROR, error_body(*INTERNAL_ERROR))
        except NoticebotError as exc:
            yield sse.encode_json(ERROR, error_body(exc.code, exc.message))
        except Exception:
            # The detail goes to the log, never to the client.
            logger.exception("a streamed chat turn failed")
            yield sse.encode_json(ERROR, error_body(*INTERNAL_ERROR))


@router.post("/chat", summary="Ask the chatbot; answers cite their sources",
             responses=declare(200, "The answer with its citations, as JSON or as Server-Sent "
                                    "Events", SIGNED_IN, WITH_BODY, BY_ID, 409, USES_MODEL,
                               model=ChatOut, alternatives=EVENT_STREAM))
def chat(request: ChatIn):
    # No return annotation: the answer is JSON (a ChatOut) or an event stream, which
    # Powertools' response validation would hold against the ChatOut schema.
    principal = _principal()
    container = request_container(router)
    requested = request.model
    if requested == container.chat_model.model_id:
        requested = BASE_MODEL_ID  # the base model by its own name
    # None: the workspace's active fine-tune (or the base model); else one of its versions.
    if not wants_events(request, router.current_event.headers.get("accept")):
        return chat_out(container.chat.chat(principal, request.query, request.conversation_id,
                                            request.top_k, model=requested))
    events = container.chat.stream_chat(principal, request.query, request.conversation_id,
                                        request.top_k, model=requested)
    # The first event carries every error the turn can have before it answers: raised here,
    # it is answered like the blocking route's.
    body = ChatEventStream(next(events), events)
    sink = router.context.get(STREAM_SINK)
    if sink is not None:
        sink.append(body)
        return Response(status_code=200, content_type=sse.CONTENT_TYPE, body="")
    try:
        return Response(status_code=200, content_type=sse.CONTENT_TYPE,
                        body=b"".join(body).decode("utf-8"))
    finally:
        body.close()


@router.get("/conversations/<conversation_id>", summary="A conversation of the caller's",
            responses=declare(200, "The conversation, oldest turn first", SIGNED_IN, BY_ID))
def get_conversation(conversation_id: str) -> ConversationOut:
    conv = request_container(router).chat.get_conversation(_principal(), conversation_id)
    return ConversationOut(
        conversation_id=conv.conversation_id, title=conv.title, created_at=conv.created_at,
        updated_at=conv.updated_at,
        turns=[TurnOut(role=t.role, content=t.content, created_at=t.created_at,
                       citations=[CitationOut.of(c) for c in t.citations]) for t in conv.turns],
    )
