"""IdentityDirectory: the identity provider's user accounts. Cognito on AWS, local password
accounts on a laptop.

The directory knows who a user is (their id, e-mail, the workspace their tokens name, the
group a token carries); the product's MetadataStore knows who belongs to a workspace and with
which role, and decides (``domain.members``). So every call here follows a decision the
members service already recorded, and a directory that lags (a failed call, a token issued
before a change) never lets anyone in that the product's record refuses.

Password sign-in through this API is the local directory's alone (``passwords``): on AWS the
app signs in with Cognito itself, and Cognito e-mails the invitation's temporary password.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from noticebot.domain.errors import NotFound
from noticebot.domain.members import Role


@dataclass(frozen=True)
class Invitee:
    """The account an invitation created at the identity provider."""

    user_id: str  # the sub its tokens will carry
    # Local accounts: the one-time code the invitee accepts with (shown once to the inviting
    # editor, stored only as a hash). None where the provider delivers the invitation itself.
    code: str | None = None


@dataclass(frozen=True)
class Redemption:
    """What an invitation code opens (local accounts)."""

    user_id: str
    email: str
    workspace_id: str
    invitation_id: str


@dataclass(frozen=True)
class Account:
    """A signed-in account (local accounts)."""

    user_id: str
    email: str
    workspace_id: str


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime


class PasswordsElsewhere(NotFound):
    """This deployment's users sign in with its identity provider, not through this API."""

    def __init__(self):
        super().__init__("this deployment signs in through its identity provider (Amazon "
                         "Cognito): the app signs in there, and invitations arrive by e-mail")


class IdentityDirectory(ABC):
    #: Whether users sign in and accept invitations with a password through this API.
    passwords: bool = False

    @abstractmethod
    def invite(self, workspace_id: str, email: str, role: Role, *, invitation_id: str,
               expires_at: datetime) -> Invitee:
        """Creates the invitee's account, naming ``workspace_id`` and carrying ``role``'s
        group. Conflict when the address already has an account, unless it is a removed
        member of this same workspace (the account is then reissued). The provider delivers
        the invitation, or returns the code the inviting editor passes on."""

    @abstractmethod
    def cancel_invitation(self, user_id: str) -> None:
        """The invitation was revoked: the account it created goes. Absent: nothing to do."""

    @abstractmethod
    def set_role(self, user_id: str, role: Role) -> None:
        """The group the user's next tokens carry."""

    @abstractmethod
    def disable(self, user_id: str) -> None:
        """The member was removed: no new sign-in, and no new tokens from old sessions."""

    @abstractmethod
    def sign_out(self, claims: dict) -> None:
        """Ends the session the token of ``claims`` belongs to (Conflict when it is a token
        that no sign-in issued, such as a local development token)."""

    # password accounts (``passwords``); the default is Cognito's answer
    def redeem(self, code: str) -> Redemption:
        """What ``code`` opens, without using it up. NotFound for an unknown, used or
        cancelled code."""
        raise PasswordsElsewhere()

    def set_first_password(self, code: str, password: str) -> Account:
        """Uses the code up: the account gets its password and becomes active. NotFound when
        the code was used or cancelled meanwhile."""
        raise PasswordsElsewhere()

    def authenticate(self, email: str, password: str, client: str) -> Account:
        """The account, for the right password. Unauthorized otherwise (the same answer for
        an unknown address); TooManyRequests while the account or the client (an address)
        is throttled after failures."""
        raise PasswordsElsewhere()

    def issue_session(self, account: Account, role: Role) -> Session:
        """A token with the claims Cognito would issue for ``account`` in ``role``."""
        raise PasswordsElsewhere()
