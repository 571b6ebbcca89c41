"""IdentityDirectory on the Cognito user pool: invitations are Cognito users an administrator
call creates, roles are the ``editors`` group, removal disables the user.

What each call does and why:

- ``invite``: AdminCreateUser with the e-mail (the pool signs in by e-mail, so it is the
  username), ``email_verified`` (the address is the one the editor typed, and Cognito only
  sends the temporary password there) and ``custom:workspace``, which the app client cannot
  write: only this call and an administrator place a user in a workspace. Cognito e-mails the
  temporary password (the pool's invitation message carries the app link); ``ClientMetadata``
  reaches a custom-message trigger if the pool has one. An editor invitation also adds the user
  to ``editors``. An address that already has a user is refused (409), unless that user is a
  removed member of the same workspace or an invitation of it that was never taken up: that
  user is deleted and created again, which sends a new temporary password.
- ``set_role``: AdminAddUserToGroup / AdminRemoveUserFromGroup (``editors``), so the next ID
  token carries the role the product recorded; the product's record rules meanwhile.
- ``disable``: AdminDisableUser (no new sign-in) and AdminUserGlobalSignOut (the refresh
  tokens stop working, so no new ID token). An ID token already issued stays valid at API
  Gateway until it expires; the product's tombstone refuses it in the API.
- ``sign_out``: AdminUserGlobalSignOut.
- ``cancel_invitation``: AdminDeleteUser.

Users are addressed by their ``sub``, the id the product records (an e-mail-username pool
makes the username that same UUID); a pool where they differ is handled by looking the user
up by ``sub`` (ListUsers filters on it) once. The boto3 client is built on the first call.
"""

from __future__ import annotations

import logging
from datetime import datetime

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.domain.errors import Conflict, IdentityProviderUnavailable
from noticebot.domain.members import Role, normalize_email
from noticebot.ports.identity_directory import IdentityDirectory, Invitee

logger = logging.getLogger(__name__)

EDITORS_GROUP = "editors"
WORKSPACE_ATTRIBUTE = "custom:workspace"
NEVER_SIGNED_IN = "FORCE_CHANGE_PASSWORD"


def _code(exc: Exception) -> str | None:
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")


class CognitoDirectory(IdentityDirectory):
    passwords = False

    def __init__(self, user_pool_id: str, client: ClientSource, *,
                 editors_group: str = EDITORS_GROUP):
        if not user_pool_id:
            raise ValueError("a Cognito user pool id is required (NOTICEBOT_USER_POOL_ID)")
        self.user_pool_id = user_pool_id
        self.editors_group = editors_group
        self._client = lazy(client)
        self._usernames: dict[str, str] = {}

    @property
    def client(self):
        return self._client()

    def _call(self, operation: str, **params):
        """One Cognito call; what Cognito cannot do right now is a 503 that says so."""
        try:
            return getattr(self.client, operation)(UserPoolId=self.user_pool_id, **params)
        except Exception as exc:
            if _code(exc) in ("UsernameExistsException", "UserNotFoundException"):
                raise
            logger.exception("Cognito %s failed", operation)
            raise IdentityProviderUnavailable(
                "the sign-in service (Amazon Cognito) did not answer; try again") from None

    def _on_user(self, operation: str, user_id: str, *, missing_ok: bool = False, **params):
        """``operation`` on the user whose sub is ``user_id``."""
        username = self._usernames.get(user_id, user_id)
        try:
            return self._call(operation, Username=username, **params)
        except Exception as exc:
            if _code(exc) != "UserNotFoundException":
                raise
        quoted = user_id.replace("\\", "\\\\").replace('"', '\\"')
        found = self._call("list_users", Filter=f'sub = "{quoted}"', Limit=1).get("Users", [])
        if not found:
            if missing_ok:
                return None
            raise Conflict("the sign-in service has no user with this id") from None
        self._usernames[user_id] = found[0]["Username"]
        return self._call(operation, Username=found[0]["Username"], **params)

    # ------------------------------------------------------------ invitations
    def invite(self, workspace_id: str, email: str, role: Role, *, invitation_id: str,
               expires_at: datetime) -> Invitee:
        email = normalize_email(email)
        try:
            user = self._create(workspace_id, email, role, invitation_id)
        except Exception as exc:
            if _code(exc) != "UsernameExistsException":
                raise
            self._make_way(workspace_id, email)
            user = self._create(workspace_id, email, role, invitation_id)
        attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
        user_id = attributes.get("sub") or user["Username"]
        self._usernames[user_id] = user["Username"]
        if role == Role.EDITOR:
            self._call("admin_add_user_to_group", Username=user["Username"],
                       GroupName=self.editors_group)
        return Invitee(user_id=user_id)

    def _create(self, workspace_id: str, email: str, role: Role, invitation_id: str) -> dict:
        return self._call(
            "admin_create_user", Username=email,
            UserAttributes=[{"Name": "email", "Value": email},
                            {"Name": "email_verified", "Value": "true"},
                            {"Name": WORKSPACE_ATTRIBUTE, "Value": workspace_id}],
            DesiredDeliveryMediums=["EMAIL"],
            ClientMetadata={"workspace": workspace_id, "role": role.value,
                            "invitation_id": invitation_id})["User"]

    def _make_way(self, workspace_id: str, email: str) -> None:
        """The address has a user: delete it when it may be invited again, else 409."""
        user = self._call("admin_get_user", Username=email)
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        if attributes.get(WORKSPACE_ATTRIBUTE) != workspace_id:
            raise Conflict("this e-mail address already has an account in another workspace; "
                           "an account belongs to one workspace")
        if user.get("Enabled", True) and user.get("UserStatus") != NEVER_SIGNED_IN:
            raise Conflict("this e-mail address already has an account in this workspace")
        self._call("admin_delete_user", Username=user["Username"])

    def cancel_invitation(self, user_id: str) -> None:
        try:
            self._on_user("admin_delete_user", user_id, missing_ok=True)
        except Conflict:
            pass

    # ------------------------------------------------------------ members
    def set_role(self, user_id: str, role: Role) -> None:
        operation = "admin_add_user_to_group" if role == Role.EDITOR \
            else "admin_remove_user_from_group"
        self._on_user(operation, user_id, GroupName=self.editors_group)

    def disable(self, user_id: str) -> None:
        if self._on_user("admin_disable_user", user_id, missing_ok=True) is not None:
            self._on_user("admin_user_global_sign_out", user_id, missing_ok=True)

    def sign_out(self, claims: dict) -> None:
        self._on_user("admin_user_global_sign_out", str(claims.get("sub", "")),
                      missing_ok=True)
