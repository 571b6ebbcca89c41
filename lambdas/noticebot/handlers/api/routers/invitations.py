"""Invitations: editors invite by e-mail with a role; the invitee accepts (locally with the
one-time code and a password of their choosing; on AWS by signing in with the temporary
password Cognito e-mailed)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from noticebot.domain.members import InvitationStatus, Role
from noticebot.handlers.api.identity import principal_from_event
from noticebot.handlers.api.request_container import request_container
from noticebot.handlers.api.responses import BY_ID, SIGNED_IN, WITH_BODY, declare, throttled
from noticebot.handlers.api.schemas_members import (
    AcceptIn,
    InvitationCreated,
    InvitationIn,
    InvitationList,
    InvitationOut,
    SessionOut,
)

router = APIGatewayRouter()


def _principal():
    return principal_from_event(router.current_event.raw_event)


@router.post("/invitations", summary="Invite someone by e-mail, with a role (editors)",
             status_code=201,
             responses={**declare(201, "Invited: locally the answer carries the one-time code",
                                  SIGNED_IN, WITH_BODY, 409, 503),
                        **throttled("This workspace has sent its invitations for the day; "
                                    "Retry-After says when the next one may go")})
def invite(invitation: InvitationIn) -> InvitationCreated:
    created, code = request_container(router).members.invite(
        _principal(), invitation.email, Role(invitation.role))
    return InvitationCreated.of(created, code=code)


@router.get("/invitations", summary="The workspace's invitations, newest first (editors)",
            responses=declare(200, "The invitations", SIGNED_IN, 422))
def list_invitations(
        status: Annotated[Literal["pending", "accepted", "revoked", "expired"] | None,
                          Query(description="only those in this status")] = None,
) -> InvitationList:
    found = request_container(router).members.list_invitations(
        _principal(), InvitationStatus(status) if status else None)
    return InvitationList(invitations=[InvitationOut.of(i) for i in found])


@router.delete("/invitations/<invitation_id>", summary="Revoke an invitation (editors)",
               status_code=204,
               responses=declare(204, "Revoked: its code or temporary password no longer "
                                      "lets anyone in", SIGNED_IN, BY_ID, 409, 503,
                                 no_content=True))
def revoke_invitation(invitation_id: str):
    request_container(router).members.revoke_invitation(_principal(), invitation_id)
    return Response(status_code=204, content_type=None, body="")


@router.post("/invitations/accept",
             summary="Accept an invitation with its code and a new password (no token; local "
                     "accounts)",
             responses=declare(200, "A member now, and signed in", WITH_BODY, 404, 409))
def accept_invitation(accept: AcceptIn) -> SessionOut:
    signed_in = request_container(router).accounts.accept(accept.code, accept.password)
    return SessionOut.of(signed_in)
