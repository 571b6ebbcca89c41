from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import SIGNED_IN, USES_MODEL, WITH_BODY, declare
from noticebot.handlers.api.schemas import PassageOut, SearchIn, SearchOut

router = APIGatewayRouter()


@router.post("/search", summary="Ranked passages from the workspace's notices and documents",
             responses=declare(200, "Passages, best first", SIGNED_IN, WITH_BODY, USES_MODEL))
def search(request: SearchIn) -> SearchOut:
    principal = principal_from_event(router.current_event.raw_event)
    passages = request_container(router).search.search(principal, request.query, request.top_k,
                                                       request.mode)
    return SearchOut(results=[
        PassageOut(document_id=p.document_id, title=p.title, page=p.page, heading=p.heading,
                   snippet=p.snippet, score=p.score, location=p.location)
        for p in passages
    ])
