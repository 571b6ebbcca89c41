from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, WITH_BODY, declare
from noticebot.handlers.api.schemas import NoticeIn, NoticeList, NoticeOut, NoticePatch

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.get("/notices", summary="The board: pinned first, newest first",
            responses=declare(200, "The workspace's notices", SIGNED_IN, 422))
def list_notices(include_expired: Annotated[bool, Query()] = False) -> NoticeList:
    notices = request_container(router).notices.list(_principal(), include_expired=include_expired)
    return NoticeList(notices=[NoticeOut.of(n) for n in notices])


@router.post("/notices", summary="Post a notice (editors)", status_code=201,
             responses=declare(201, "The notice, created", SIGNED_IN, WITH_BODY))
def create_notice(notice: NoticeIn) -> NoticeOut:
    created = request_container(router).notices.create(
        _principal(), notice.title, notice.body, notice.pinned, notice.expires_at
    )
    return NoticeOut.of(created)


@router.get("/notices/<notice_id>", summary="One notice",
            responses=declare(200, "The notice", SIGNED_IN, BY_ID))
def get_notice(notice_id: str) -> NoticeOut:
    return NoticeOut.of(request_container(router).notices.get(_principal(), notice_id))


@router.patch("/notices/<notice_id>", summary="Edit a notice (editors)",
              responses=declare(200, "The notice, edited", SIGNED_IN, WITH_BODY, BY_ID))
def update_notice(notice_id: str, patch: NoticePatch) -> NoticeOut:
    changes = patch.model_dump(exclude_unset=True)
    updated = request_container(router).notices.update(_principal(), notice_id, **changes)
    return NoticeOut.of(updated)


@router.delete("/notices/<notice_id>", summary="Delete a notice (editors)", status_code=204,
               responses=declare(204, "Deleted", SIGNED_IN, BY_ID, no_content=True))
def delete_notice(notice_id: str):
    request_container(router).notices.delete(_principal(), notice_id)
    return Response(status_code=204, content_type=None, body="")
