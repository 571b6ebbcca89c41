"""Who belongs to a workspace, with which role, and the invitations that bring people in.

The product keeps membership (the MetadataStore); the identity provider (Cognito on AWS,
local password accounts on a laptop) only says who a caller is. Plain records and rules: no
I/O, no SDKs.

How a verified caller is admitted to the workspace its token names (``admission``), the one
rule both modes follow:

1. An active member record: admitted, with the record's role (the token's groups are the
   identity provider's copy, which may lag a role change by a token's lifetime).
2. A pending invitation that names the caller's user id: the caller joins with the
   invitation's role and the invitation is accepted (on AWS the invitee's first request after
   the first Cognito sign-in; locally ``POST /api/invitations/accept`` does it at once). An
   invitation of theirs that was revoked or has expired refuses them instead.
3. A removed member (the record is kept as a tombstone): refused, until an editor invites
   them again.
4. Anyone else the token vouches for joins with the token's role. Only an operator or this
   product's invitations can give a token its workspace (Cognito's ``custom:workspace`` is not
   writable by the app client; local tokens are signed with the data folder's secret), so
   such a caller was placed there on purpose: the workspaces made before membership existed
   (the dev token's, the sample board) keep working, and their first editor token becomes
   their first editor member.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from noticebot.domain.models import utcnow

PERSONAL_PREFIX = "user-"
# Cognito's temporary password lives as long (the user pool's temp_password_validity): an
# invitation outliving it could be accepted by nobody.
INVITATION_TTL = timedelta(days=7)
# Each invitation makes the identity provider send an e-mail (Cognito's own sender allows 50 a
# day for the whole account): a workspace sends at most this many in any 24 hours, so one
# group's editor cannot exhaust it, or use the product to mail strangers in bulk.
INVITATIONS_PER_DAY = 20
INVITATION_WINDOW = timedelta(days=1)
# What the invitation form accepts, said once for the schema and the service: ASCII mailboxes,
# a dotted domain. The JSON Schema pattern and pydantic read it alike (no \s, no \w).
EMAIL_PATTERN = (r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}"
                 r"(\.[A-Za-z0-9-]{1,63})+$")
EMAIL_MAX = 254
_EMAIL = re.compile(EMAIL_PATTERN)


class Role(str, enum.Enum):
    EDITOR = "editor"  # may post, upload, delete, fine-tune, and run the group
    MEMBER = "member"  # reads, searches, chats


class MemberStatus(str, enum.Enum):
    ACTIVE = "active"
    REMOVED = "removed"  # kept so the removed member's tokens stay refused


class InvitationStatus(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"  # never stored: a pending invitation past its expiry reads as this


class MemberChange(str, enum.Enum):
    """What a conditional membership write did."""

    DONE = "done"
    UNCHANGED = "unchanged"  # the member already had that role
    NOT_FOUND = "not_found"  # no active member with that id in the workspace
    LAST_EDITOR = "last_editor"  # refused: the workspace would be left without an editor


class JoinResult(str, enum.Enum):
    JOINED = "joined"
    ALREADY_MEMBER = "already_member"
    INVITATION_GONE = "invitation_gone"  # the invitation was accepted, revoked or expired meanwhile


def is_personal(workspace_id: str) -> bool:
    return workspace_id.lower().startswith(PERSONAL_PREFIX)


def normalize_email(email: str) -> str:
    """The form e-mail addresses are compared and stored in: trimmed, lower case (mail systems
    treat the local part case-insensitively in practice, and Cognito's sign-in does too)."""
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return len(email) <= EMAIL_MAX and _EMAIL.fullmatch(email) is not None


def role_of(is_editor: bool) -> Role:
    return Role.EDITOR if is_editor else Role.MEMBER


@dataclass
class Member:
    workspace_id: str
    user_id: str
    role: Role
    email: str = ""
    status: MemberStatus = MemberStatus.ACTIVE
    # Who invited them; None: joined with a token the identity provider issued (rule 4).
    invited_by: str | None = None
    invitation_id: str | None = None
    joined_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    removed_by: str | None = None
    removed_at: datetime | None = None
    # Sign-out: tokens issued before this instant (epoch seconds) are refused.
    sessions_not_before: int | None = None

    @property
    def active(self) -> bool:
        return self.status == MemberStatus.ACTIVE

    @property
    def is_editor(self) -> bool:
        return self.active and self.role == Role.EDITOR


@dataclass
class Invitation:
    workspace_id: str
    invitation_id: str
    email: str
    role: Role
    invited_by: str
    expires_at: datetime
    status: InvitationStatus = InvitationStatus.PENDING
    # The invitee's id at the identity provider (the Cognito sub, the local account's id),
    # known once the directory created the account.
    user_id: str = ""
    created_at: datetime = field(default_factory=utcnow)
    accepted_at: datetime | None = None
    revoked_by: str | None = None
    revoked_at: datetime | None = None

    def status_at(self, now: datetime | None = None) -> InvitationStatus:
        if self.status == InvitationStatus.PENDING and self.expires_at <= (now or utcnow()):
            return InvitationStatus.EXPIRED
        return self.status

    def is_open(self, now: datetime | None = None) -> bool:
        return self.status_at(now) == InvitationStatus.PENDING


def new_member(workspace_id: str, user_id: str, role: Role, *, email: str = "",
               invitation: Invitation | None = None, now: datetime | None = None) -> Member:
    now = now or utcnow()
    return Member(workspace_id=workspace_id, user_id=user_id, role=role, email=email,
                  invited_by=invitation.invited_by if invitation else None,
                  invitation_id=invitation.invitation_id if invitation else None,
                  joined_at=now, updated_at=now)


@dataclass(frozen=True)
class Admission:
    """What ``admission`` decided for a caller without an active record."""

    join_as: Role | None = None  # join with this role (None: refused)
    invitation: Invitation | None = None  # accepted by joining
    refusal: str = ""  # why not, for the caller


def admission(record: Member | None, invitations: list[Invitation], user_id: str,
              token_role: Role, now: datetime | None = None) -> Admission:
    """Rules 2-4 above, for a caller whose member record is missing or removed.
    ``invitations``: the workspace's invitations (those naming ``user_id`` decide)."""
    now = now or utcnow()
    theirs = sorted((i for i in invitations if i.user_id and i.user_id == user_id),
                    key=lambda i: i.created_at, reverse=True)
    for invitation in theirs:
        if invitation.is_open(now):
            return Admission(join_as=invitation.role, invitation=invitation)
    if record is not None and not record.active:
        return Admission(refusal="you were removed from this workspace; an editor can invite "
                                 "you again")
    if theirs and theirs[0].status_at(now) in (InvitationStatus.REVOKED,
                                               InvitationStatus.EXPIRED):
        return Admission(refusal=f"your invitation to this workspace was "
                                 f"{theirs[0].status_at(now).value}; ask an editor for a new one")
    return Admission(join_as=token_role)


def with_role(member: Member, role: Role, now: datetime | None = None) -> Member:
    return replace(member, role=role, updated_at=now or utcnow())
