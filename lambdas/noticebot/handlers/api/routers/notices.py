from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.schemas import NoticeIn, NoticeList, NoticeOut, NoticePatch
from noticebot.handlers.runtime import get_container

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.get("/notices", summary="The board: pinned first, newest first")
def list_notices(include_expired: Annotated[bool, Query()] = False) -> NoticeList:
    notices = get_container().notices.list(_principal(), include_expired=include_expired)
    return NoticeList(notices=[NoticeOut.of(n) for n in notices])


@router.post("/notices", summary="Post a notice (editors)",
             responses={201: {"description": "Created"}})
def create_notice(notice: NoticeIn) -> Response[NoticeOut]:
    created = get_container().notices.create(
        _principal(), notice.title, notice.body, notice.pinned, notice.expires_at
    )
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON,
                    body=NoticeOut.of(created).model_dump(mode="json"))


@router.get("/notices/<notice_id>", summary="One notice")
def get_notice(notice_id: str) -> NoticeOut:
    return NoticeOut.of(get_container().notices.get(_principal(), notice_id))


@router.patch("/notices/<notice_id>", summary="Edit a notice (editors)")
def update_notice(notice_id: str, patch: NoticePatch) -> NoticeOut:
    changes = patch.model_dump(exclude_unset=True)  # identity fields are excluded by the schema
    updated = get_container().notices.update(_principal(), notice_id, **changes)
    return NoticeOut.of(updated)


@router.delete("/notices/<notice_id>", summary="Delete a notice (editors)")
def delete_notice(notice_id: str):
    get_container().notices.delete(_principal(), notice_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
