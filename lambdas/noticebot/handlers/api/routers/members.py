"""The workspace's members: who belongs, with which role. Editors change roles and remove
members; anyone may leave; the last editor can do neither (409)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.domain.members import Role
from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, WITH_BODY, declare
from noticebot.handlers.api.schemas_members import (
    MemberList,
    MemberOut,
    MeOut,
    NotificationsIn,
    NotificationsOut,
    RolePatch,
)

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.get("/me", summary="The caller: user, workspace and role in it",
            responses=declare(200, "The caller, as the workspace's member record sees them",
                              SIGNED_IN))
def me() -> MeOut:
    principal = _principal()
    container = request_container(router)
    unread, muted = container.notifications.inbox_summary(principal)
    return MeOut.of(principal, container.members.me(principal), unread_notices=unread,
                    push_muted=muted)


@router.put("/me/notifications",
            summary="Mute or unmute this workspace's pushes to your devices",
            responses=declare(200, "Whether pushes are muted now", SIGNED_IN, WITH_BODY))
def set_notifications(settings: NotificationsIn) -> NotificationsOut:
    muted = request_container(router).notifications.set_muted(_principal(), settings.muted)
    return NotificationsOut(muted=muted)


@router.get("/members", summary="The workspace's members (e-mail addresses for editors)",
            responses=declare(200, "Active members, by join time", SIGNED_IN))
def list_members() -> MemberList:
    principal = _principal()
    members = request_container(router).members.list_members(principal)
    return MemberList(members=[MemberOut.of(m, show_email=principal.is_editor)
                               for m in members])


@router.patch("/members/<user_id>", summary="Change a member's role (editors)",
              responses=declare(200, "The member, with the new role", SIGNED_IN, WITH_BODY,
                                BY_ID, 409))
def change_role(user_id: str, patch: RolePatch) -> MemberOut:
    member = request_container(router).members.change_role(_principal(), user_id,
                                                           Role(patch.role))
    return MemberOut.of(member, show_email=True)


@router.delete("/members/<user_id>",
               summary="Remove a member (editors), or leave the workspace (your own id)",
               status_code=204,
               responses=declare(204, "Removed: their next request is refused", SIGNED_IN,
                                 BY_ID, 409, no_content=True))
def remove_member(user_id: str):
    request_container(router).members.remove(_principal(), user_id)
    return Response(status_code=204, content_type=None, body="")
