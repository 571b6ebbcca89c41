"""Accounts: accepting an invitation with a password, signing in, signing out.

Password sign-in through this API exists where the identity provider is the local one
(``IdentityDirectory.passwords``); on AWS the app signs in with Cognito, and these answer
that (404). Sign-out works in both: it ends the caller's sessions at the provider and records,
on their member record, that tokens issued before now are refused (the API Gateway authorizer
keeps accepting a Cognito ID token until it expires, so the API refuses it itself), and
forgets the caller's devices in the workspace, so nothing is pushed to them any more.
"""

from __future__ import annotations

from dataclasses import dataclass

from noticebot.domain.errors import Conflict, Forbidden, Unprocessable
from noticebot.domain.members import JoinResult, Member, new_member, normalize_email
from noticebot.domain.models import Principal
from noticebot.ports import MetadataStore
from noticebot.ports.identity_directory import (
    IdentityDirectory,
    PasswordsElsewhere,
    Session,
)
from noticebot.services.members import MembersService

PASSWORD_MIN = 12  # as the Cognito pool's policy
PASSWORD_MAX = 256


@dataclass(frozen=True)
class SignedIn:
    session: Session
    member: Member


def check_password(password: str, email: str) -> None:
    """Length is what makes a password hard to guess (NIST SP 800-63B); composition rules do
    not, so there are none. The one refusal besides length: the address itself."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise Unprocessable(f"password: between {PASSWORD_MIN} and {PASSWORD_MAX} characters")
    lowered = password.strip().lower()
    if lowered in (normalize_email(email), normalize_email(email).split("@")[0]):
        raise Unprocessable("password: must not be your e-mail address")


class AccountService:
    def __init__(self, directory: IdentityDirectory | None, members: MembersService,
                 metadata: MetadataStore):
        self.directory = directory
        self.members = members
        self.metadata = metadata

    def _passwords(self) -> IdentityDirectory:
        if self.directory is None or not self.directory.passwords:
            raise PasswordsElsewhere()
        return self.directory

    def accept(self, code: str, password: str) -> SignedIn:
        """Redeems an invitation code: the account gets its password, the invitee becomes a
        member with the invited role, and is signed in."""
        directory = self._passwords()
        opened = directory.redeem(code)
        invitation = self.metadata.get_invitation(opened.workspace_id, opened.invitation_id)
        if invitation is None or invitation.user_id != opened.user_id:
            raise Conflict("this invitation no longer exists; ask an editor for a new one")
        now = self.members.clock()
        if not invitation.is_open(now):
            raise Conflict(f"this invitation was {invitation.status_at(now).value}; ask an "
                           "editor for a new one")
        check_password(password, opened.email)
        account = directory.set_first_password(code, password)
        member = new_member(invitation.workspace_id, account.user_id, invitation.role,
                            email=account.email, invitation=invitation, now=now)
        joined = self.metadata.join_member(member, accepting=invitation, now=now)
        if joined == JoinResult.INVITATION_GONE:
            directory.disable(account.user_id)  # revoked while the password was being set
            raise Conflict("this invitation was revoked meanwhile; ask an editor")
        member = self.metadata.get_member(invitation.workspace_id, account.user_id)
        return SignedIn(directory.issue_session(account, member.role), member)

    def sign_in(self, email: str, password: str, client: str) -> SignedIn:
        directory = self._passwords()
        account = directory.authenticate(email, password, client)
        member = self.metadata.get_member(account.workspace_id, account.user_id)
        if member is None or not member.active:
            raise Forbidden("you are not a member of this account's workspace any more")
        return SignedIn(directory.issue_session(account, member.role), member)

    def sign_out(self, principal: Principal, claims: dict) -> None:
        if self.directory is not None:
            self.directory.sign_out(claims)  # a token no sign-in issued: Conflict, nothing ends
        self.members.end_sessions(principal)
        # A signed-out phone would otherwise keep showing notice titles on its lock screen;
        # it registers again at the next sign-in.
        ws, user = principal.workspace_id, principal.user_id
        for device in self.metadata.list_devices(ws, user):
            self.metadata.delete_device(ws, device.device_id, user)
