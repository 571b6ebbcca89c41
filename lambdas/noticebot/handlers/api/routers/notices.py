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
    principal, container = _principal(), request_container(router)
    notices = container.notices.list(principal, include_expired=include_expired)
    unread = container.notifications.unread_flags(principal, notices)
    return NoticeList(notices=[NoticeOut.of(n, unread=u) for n, u in zip(notices, unread)])


@router.post("/notices/seen", summary="Mark every notice up to now as seen", status_code=204,
             responses=declare(204, "Seen: nothing posted or pinned until now is unread",
                               SIGNED_IN, no_content=True))
def mark_seen():
    request_container(router).notifications.mark_seen(_principal())
    return Response(status_code=204, content_type=None, body="")


@router.post("/notices", summary="Post a notice (editors)", status_code=201,
             responses=declare(201, "The notice, created", SIGNED_IN, WITH_BODY))
def create_notice(notice: NoticeIn) -> NoticeOut:
    created = request_container(router).notices.create(
        _principal(), notice.title, notice.body, notice.pinned, notice.expires_at
    )
    return NoticeOut.of(created, unread=False)  # the caller wrote it


@router.get("/notices/<notice_id>", summary="One notice",
            responses=declare(200, "The notice", SIGNED_IN, BY_ID))
def get_notice(notice_id: str) -> NoticeOut:
    principal, container = _principal(), request_container(router)
    notice = container.notices.get(principal, notice_id)
    return NoticeOut.of(notice, unread=container.notifications.unread_flags(principal,
                                                                             [notice])[0])


@router.patch("/notices/<notice_id>", summary="Edit a notice (editors)",
              responses=declare(200, "The notice, edited", SIGNED_IN, WITH_BODY, BY_ID))
def update_notice(notice_id: str, patch: NoticePatch) -> NoticeOut:
    changes = patch.model_dump(exclude_unset=True)
    updated = request_container(router).notices.update(_principal(), notice_id, **changes)
    return NoticeOut.of(updated, unread=request_container(router).notifications.unread_flags(
        _principal(), [updated])[0])


@router.delete("/notices/<notice_id>", summary="Delete a notice (editors)", status_code=204,
               responses=declare(204, "Deleted", SIGNED_IN, BY_ID, no_content=True))
def delete_notice(notice_id: str):
    request_container(router).notices.delete(_principal(), notice_id)
    return Response(status_code=204, content_type=None, body="")
