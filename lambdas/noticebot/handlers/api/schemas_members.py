"""Bodies of the members, invitations and sign-in routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from noticebot.domain.members import EMAIL_MAX, EMAIL_PATTERN, Invitation, Member, is_personal
from noticebot.domain.models import Principal
from noticebot.domain.notifications import PUSH_TOKEN_MAX, PUSH_TOKEN_PATTERN, Device
from noticebot.handlers.api.schemas import Strict
from noticebot.services.accounts import PASSWORD_MAX, PASSWORD_MIN, SignedIn

RoleName = Literal["editor", "member"]
# The one-time codes invitations carry locally: URL-safe base64 of 32 random bytes.
CODE_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"


class MemberOut(BaseModel):
    user_id: str
    role: RoleName
    email: str | None = Field(description="shown to editors only")
    joined_at: datetime
    invited_by: str | None = Field(description="null: joined with a token their identity "
                                               "provider issued, before invitations")

    @classmethod
    def of(cls, m: Member, *, show_email: bool) -> "MemberOut":
        return cls(user_id=m.user_id, role=m.role.value,
                   email=(m.email or None) if show_email else None, joined_at=m.joined_at,
                   invited_by=m.invited_by)


class MemberList(BaseModel):
    members: list[MemberOut]


class RolePatch(Strict):
    role: RoleName


class MeOut(BaseModel):
    """The caller, as the workspace's record sees them: what the app shows and allows."""

    user_id: str
    workspace_id: str
    role: RoleName
    email: str | None
    personal_workspace: bool = Field(description="true: the user's own workspace "
                                                 "(user-<id>), which has no other members")
    joined_at: datetime | None
    invited_by: str | None
    unread_notices: int = Field(ge=0, description="notices on the board (not expired) that "
                                                   "are unread for you")
    push_muted: bool = Field(description="true: this workspace's notices are not pushed to "
                                         "your devices")

    @classmethod
    def of(cls, principal: Principal, m: Member, *, unread_notices: int,
           push_muted: bool) -> "MeOut":
        personal = is_personal(principal.workspace_id)
        return cls(user_id=principal.user_id, workspace_id=principal.workspace_id,
                   role="editor" if principal.is_editor else "member", email=m.email or None,
                   personal_workspace=personal, joined_at=None if personal else m.joined_at,
                   invited_by=m.invited_by, unread_notices=unread_notices,
                   push_muted=push_muted)


class NotificationsIn(Strict):
    muted: bool = Field(description="true: stop pushing this workspace's notices to your "
                                    "devices")


class NotificationsOut(BaseModel):
    muted: bool


class DeviceIn(Strict):
    expo_push_token: str = Field(max_length=PUSH_TOKEN_MAX, pattern=PUSH_TOKEN_PATTERN,
                                 description="from the app's getExpoPushTokenAsync: "
                                             "ExponentPushToken[...]")
    platform: Literal["ios", "android", "web"]


class DeviceOut(BaseModel):
    device_id: str
    platform: Literal["ios", "android", "web"]
    created_at: datetime

    @classmethod
    def of(cls, d: Device) -> "DeviceOut":
        return cls(device_id=d.device_id, platform=d.platform.value, created_at=d.created_at)


class DeviceList(BaseModel):
    devices: list[DeviceOut]


class InvitationIn(Strict):
    email: str = Field(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN,
                       description="where the invitation goes (ASCII addresses)")
    role: RoleName = "member"


class InvitationOut(BaseModel):
    invitation_id: str
    email: str
    role: RoleName
    status: Literal["pending", "accepted", "revoked", "expired"]
    invited_by: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, i: Invitation, **extra) -> "InvitationOut":
        return cls(invitation_id=i.invitation_id, email=i.email, role=i.role.value,
                   status=i.status_at().value, invited_by=i.invited_by,
                   created_at=i.created_at, expires_at=i.expires_at,
                   accepted_at=i.accepted_at, revoked_at=i.revoked_at, **extra)


class InvitationCreated(InvitationOut):
    code: str | None = Field(
        description="Local accounts: the one-time code the invitee accepts with (`POST "
                    "/api/invitations/accept`), shown this once; pass it on as a link. null "
                    "where the identity provider e-mails the invitation itself (Cognito)")


class InvitationList(BaseModel):
    invitations: list[InvitationOut]


class AcceptIn(Strict):
    code: str = Field(pattern=CODE_PATTERN, description="the invitation's one-time code")
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX,
                          description="the password to sign in with from now on")


class SignInIn(Strict):
    email: str = Field(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class SessionOut(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>`")
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: datetime
    user_id: str
    workspace_id: str
    role: RoleName
    email: str

    @classmethod
    def of(cls, signed_in: SignedIn) -> "SessionOut":
        m = signed_in.member
        return cls(token=signed_in.session.token, expires_at=signed_in.session.expires_at,
                   user_id=m.user_id, workspace_id=m.workspace_id, role=m.role.value,
                   email=m.email)
