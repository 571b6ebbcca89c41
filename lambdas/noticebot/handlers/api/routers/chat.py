from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.domain.tuning import BASE_MODEL_ID
from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, USES_MODEL, WITH_BODY, declare
from noticebot.handlers.api.schemas import ChatIn, ChatOut, CitationOut, ConversationOut, TurnOut

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.post("/chat", summary="Ask the chatbot; answers cite their sources",
             responses=declare(200, "The answer with its citations", SIGNED_IN, WITH_BODY, BY_ID,
                               409, USES_MODEL))
def chat(request: ChatIn) -> ChatOut:
    principal = _principal()
    container = request_container(router)
    requested = request.model
    if requested == container.chat_model.model_id:
        requested = BASE_MODEL_ID  # the base model by its own name
    # None: the workspace's active fine-tune (or the base model); else one of its versions.
    result = container.chat.chat(principal, request.query, request.conversation_id, request.top_k,
                                 model=requested)
    return ChatOut(answer=result.answer, citations=[CitationOut.of(c) for c in result.citations],
                   conversation_id=result.conversation_id, model=result.model,
                   usage=result.usage, grounded=result.grounded,
                   answer_check=result.answer_check, warning=result.warning,
                   model_name=result.model_name, support=result.support)


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
