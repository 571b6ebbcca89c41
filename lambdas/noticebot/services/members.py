"""Members of a workspace: who belongs, with which role; invitations; the per-request check.

The product's record decides (``domain.members`` has the rules); the identity provider
(``IdentityDirectory``) is told afterwards, so the group in a user's next token matches. A
directory call that fails after the record changed is logged and left: the record is what
every request is checked against, so nobody gets in, or keeps a role, that the record does
not give them.

The membership check (``admit``) is one keyed, strongly consistent read of the caller's
member record on every request, and no cache: a removal or a role change holds from the very
next request, on every Lambda instance and thread alike, for the price of a single-item read
(DynamoDB GetItem, a few milliseconds; a SQLite primary-key lookup locally). Only a caller
without an active record costs more (the workspace's invitations, then one write to join).

Personal workspaces (``user-<sub>``) have no members to manage: only their owner's token can
name one, so the token alone decides there, and inviting into one is refused.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from noticebot.domain.errors import (
    Conflict,
    Forbidden,
    IdentityProviderUnavailable,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from noticebot.domain.members import (
    INVITATION_TTL,
    INVITATION_WINDOW,
    INVITATIONS_PER_DAY,
    Invitation,
    InvitationStatus,
    JoinResult,
    Member,
    MemberChange,
    Role,
    admission,
    is_personal,
    is_valid_email,
    new_member,
    normalize_email,
    role_of,
)
from noticebot.domain.models import Principal, utcnow
from noticebot.ports import MetadataStore
from noticebot.ports.identity_directory import IdentityDirectory

logger = logging.getLogger(__name__)

LAST_EDITOR = ("a workspace keeps at least one editor: make another member an editor "
               "first")
PERSONAL = ("this is your personal workspace, which has no other members; invite people to "
            "a shared workspace")


def require_editor(principal: Principal, doing: str) -> None:
    if not principal.is_editor:
        raise Forbidden(f"only editors may {doing}")


class MembersService:
    def __init__(self, metadata: MetadataStore, directory: IdentityDirectory | None, *,
                 invitation_ttl: timedelta = INVITATION_TTL,
                 invitations_per_day: int = INVITATIONS_PER_DAY,
                 clock: Callable[[], datetime] = utcnow):
        """``directory``: None where no identity provider is configured; membership still
        works, invitations answer 503."""
        self.metadata = metadata
        self.directory = directory
        self.invitation_ttl = invitation_ttl
        self.invitations_per_day = invitations_per_day
        self.clock = clock

    # ------------------------------------------------------------ the check
    def admit(self, principal: Principal, *, email: str = "",
              issued_at: int | None = None) -> Principal:
        """The caller as the workspace's record sees them (its role, not the token's), after
        joining them if the rules say so. Forbidden when they do not belong; Unauthorized for
        a token issued before they signed out."""
        if is_personal(principal.workspace_id):
            return principal
        record = self.metadata.get_member(principal.workspace_id, principal.user_id)
        if record is not None and record.active:
            return self._admitted(principal, record, issued_at)
        now = self.clock()
        decision = admission(record, self.metadata.list_invitations(principal.workspace_id),
                             principal.user_id, role_of(principal.is_editor), now)
        if decision.join_as is None:
            raise Forbidden(decision.refusal)
        invitation = decision.invitation
        member = new_member(principal.workspace_id, principal.user_id, decision.join_as,
                            email=normalize_email(email or (invitation.email if invitation
                                                            else "")),
                            invitation=invitation, now=now)
        if self.metadata.join_member(member, accepting=invitation, now=now) == JoinResult.JOINED:
            logger.info("user %s joined workspace %s as %s (%s)", member.user_id,
                        member.workspace_id, member.role.value,
                        "invited" if invitation else "their token's role")
            return replace(principal, is_editor=member.role == Role.EDITOR)
        # Another request of theirs joined first, or the invitation changed meanwhile.
        record = self.metadata.get_member(principal.workspace_id, principal.user_id)
        if record is not None and record.active:
            return self._admitted(principal, record, issued_at)
        raise Forbidden("your invitation changed while you signed in; ask an editor")

    @staticmethod
    def _admitted(principal: Principal, record: Member, issued_at: int | None) -> Principal:
        cutoff = record.sessions_not_before
        if cutoff is not None and issued_at is not None and issued_at < cutoff:
            raise Unauthorized("you signed out since this token was issued; sign in again")
        return replace(principal, is_editor=record.is_editor)

    # ------------------------------------------------------------ reading
    def me(self, principal: Principal) -> Member:
        record = None if is_personal(principal.workspace_id) else \
            self.metadata.get_member(principal.workspace_id, principal.user_id)
        if record is None or not record.active:
            # A personal workspace's owner, or a caller no check admitted (the CLI).
            return Member(principal.workspace_id, principal.user_id, role_of(principal.is_editor))
        return record

    def list_members(self, principal: Principal) -> list[Member]:
        if is_personal(principal.workspace_id):
            return [self.me(principal)]
        return [m for m in self.metadata.list_members(principal.workspace_id) if m.active]

    def list_invitations(self, principal: Principal,
                         status: InvitationStatus | None = None) -> list[Invitation]:
        require_editor(principal, "see the workspace's invitations")
        now = self.clock()
        found = self.metadata.list_invitations(principal.workspace_id)
        return [i for i in found if status is None or i.status_at(now) == status]

    # ------------------------------------------------------------ invitations
    def invite(self, principal: Principal, email: str, role: Role) -> tuple[Invitation, str | None]:
        """(the invitation, the one-time code to pass on where the provider does not deliver
        invitations itself)."""
        require_editor(principal, "invite people")
        if is_personal(principal.workspace_id):
            raise Conflict(PERSONAL)
        email = normalize_email(email)
        if not is_valid_email(email):
            raise Unprocessable("email: not an e-mail address")
        if self.directory is None:
            raise IdentityProviderUnavailable(
                "invitations need the identity provider, which this deployment does not have "
                "configured (NOTICEBOT_USER_POOL_ID)")
        ws, now = principal.workspace_id, self.clock()
        if any(m.active and m.email == email for m in self.metadata.list_members(ws)):
            raise Conflict(f"{email} is already a member of this workspace")
        invitations = self.metadata.list_invitations(ws)
        if any(i.email == email and i.is_open(now) for i in invitations):
            raise Conflict(f"an invitation to {email} is pending; revoke it to send a new one")
        self._check_daily_limit(invitations, now)
        invitation = Invitation(workspace_id=ws, invitation_id=uuid.uuid4().hex, email=email,
                                role=role, invited_by=principal.user_id, created_at=now,
                                expires_at=now + self.invitation_ttl)
        # Recorded first: should the provider fail, the record says what became of it.
        self.metadata.put_invitation(invitation)
        try:
            invitee = self.directory.invite(ws, email, role,
                                            invitation_id=invitation.invitation_id,
                                            expires_at=invitation.expires_at)
        except BaseException:
            self.metadata.update_invitation(
                replace(invitation, status=InvitationStatus.REVOKED, revoked_at=self.clock()),
                allowed_from=(InvitationStatus.PENDING,))
            raise
        invitation = replace(invitation, user_id=invitee.user_id)
        self.metadata.update_invitation(invitation, allowed_from=(InvitationStatus.PENDING,))
        return invitation, invitee.code

    def _check_daily_limit(self, invitations: list[Invitation], now: datetime) -> None:
        """Revoked invitations count too: their e-mails went out."""
        recent = sorted(i.created_at for i in invitations
                        if i.created_at > now - INVITATION_WINDOW)
        if len(recent) < self.invitations_per_day:
            return
        # The next one may go when enough of the window's invitations have aged out of it.
        frees_at = recent[len(recent) - self.invitations_per_day] + INVITATION_WINDOW
        raise TooManyRequests(
            f"this workspace has sent {len(recent)} invitations in the last 24 hours, the most "
            "it may; try again later", retry_after=int((frees_at - now).total_seconds()) + 1)

    def revoke_invitation(self, principal: Principal, invitation_id: str) -> Invitation:
        require_editor(principal, "revoke invitations")
        found = self.metadata.get_invitation(principal.workspace_id, invitation_id)
        if found is None:
            raise NotFound(f"invitation {invitation_id} not found")
        if found.status == InvitationStatus.PENDING:
            revoked = replace(found, status=InvitationStatus.REVOKED,
                              revoked_by=principal.user_id, revoked_at=self.clock())
            if self.metadata.update_invitation(revoked,
                                               allowed_from=(InvitationStatus.PENDING,)):
                found = revoked
            else:  # accepted or revoked meanwhile
                found = self.metadata.get_invitation(principal.workspace_id, invitation_id)
        if found.status == InvitationStatus.ACCEPTED:
            raise Conflict("this invitation was accepted: remove the member instead")
        # Revoked (now or before): the account it made goes too; again on a repeat, so a
        # provider that failed the first time is asked again.
        if found.user_id and self.directory is not None:
            self.directory.cancel_invitation(found.user_id)
        return found

    # ------------------------------------------------------------ members
    def change_role(self, principal: Principal, user_id: str, role: Role) -> Member:
        require_editor(principal, "change roles")
        if is_personal(principal.workspace_id):
            raise Conflict(PERSONAL)
        result = self.metadata.change_member_role(principal.workspace_id, user_id, role,
                                                  now=self.clock())
        if result == MemberChange.NOT_FOUND:
            raise NotFound(f"member {user_id} not found")
        if result == MemberChange.LAST_EDITOR:
            raise Conflict(LAST_EDITOR)
        if result == MemberChange.DONE:
            self._tell_directory("set_role", user_id, role)
        return self.metadata.get_member(principal.workspace_id, user_id)

    def remove(self, principal: Principal, user_id: str) -> None:
        """Editors remove anyone; anyone may leave (remove themselves). The last editor can
        do neither."""
        if user_id != principal.user_id:
            require_editor(principal, "remove members")
        if is_personal(principal.workspace_id):
            raise Conflict(PERSONAL)
        result = self.metadata.remove_member(principal.workspace_id, user_id,
                                             removed_by=principal.user_id, now=self.clock())
        if result == MemberChange.NOT_FOUND:
            raise NotFound(f"member {user_id} not found")
        if result == MemberChange.LAST_EDITOR:
            raise Conflict(LAST_EDITOR)
        self._tell_directory("disable", user_id)

    def end_sessions(self, principal: Principal) -> None:
        """Sign-out: the caller's tokens issued before now are refused from now on."""
        if not is_personal(principal.workspace_id):
            self.metadata.end_member_sessions(principal.workspace_id, principal.user_id,
                                              int(self.clock().timestamp()))

    def _tell_directory(self, operation: str, *args) -> None:
        if self.directory is None:
            return
        try:
            getattr(self.directory, operation)(*args)
        except (IdentityProviderUnavailable, Conflict) as exc:
            logger.warning("the identity provider was not told (%s %s): %s; the member "
                           "record rules meanwhile", operation, args[0], exc.message)
