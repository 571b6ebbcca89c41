"""The chat function: ``POST /api/chat`` on AWS, where API Gateway streams its answer.

API Gateway sends this one route to this function with ``responseTransferMode: STREAM``, so
whatever it answers goes through the Runtime API's streaming mode, which the runtime loop
``noticebot.entrypoints.lambda_streaming_runtime`` speaks (the managed Python runtime cannot).
A request that asks for Server-Sent Events (``"stream": true`` or ``Accept:
text/event-stream``) gets the model's tokens as they are written; any other request gets
exactly what the API function would answer (``handlers.api.app.handle``), sent as one chunk.

Why a function apart from the API function: a function invoked through
InvokeWithResponseStream must answer in the streaming format and one invoked through Invoke
must not, and API Gateway picks the API per integration; the other routes stay buffered
(and within the 29 s integration timeout) on the API function.
"""

from __future__ import annotations

from noticebot.handlers.api import chat_stream
from noticebot.handlers.api.app import handle
from noticebot.handlers.lambda_container import lambda_container
from noticebot.handlers.lambda_logging import lambda_entry


def respond(event: dict, container, context=None):
    """A ``chat_stream.StreamedResponse``, or the API's proxy result (a dict) to write whole."""
    if chat_stream.wants_stream(event):
        return chat_stream.respond(event, container, context)
    return handle(event, container, context)


@lambda_entry(correlation_id_path="requestContext.requestId")
def handler(event: dict, context):
    return respond(event, lambda_container(), context)
