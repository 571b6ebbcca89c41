"""The smoke run's user: an editor of a fresh workspace, signed in for an ID token.

Made as the product's invitation makes a user (``adapters/aws/cognito_directory.py``):
AdminCreateUser with the e-mail as username, ``email_verified`` and ``custom:workspace``, then
the ``editors`` group; the invitation e-mail is suppressed and the password set permanent
(AdminSetUserPassword), so no mailbox or first-sign-in challenge is involved.

The token: the stack's app client allows only SRP and the hosted UI's code flow (no password
flow an administrator can call). Rather than widen the product's client or carry an SRP
implementation, the run adds an app client of its own to the pool, allowing only
ADMIN_USER_PASSWORD_AUTH (no secret, no OAuth), and signs in with AdminInitiateAuth. Its ID
token is issued by the same pool, so the API's Cognito authorizer accepts it (a REST API's
Cognito authorizer checks the pool, not the client) and it carries the same claims
(``custom:workspace``, ``cognito:groups``). ``remove`` deletes the user and that client.
The password and the token are never printed.
"""

from __future__ import annotations

import secrets
import string

SMOKE_CLIENT_NAME = "smoke-test-admin-auth"


def new_password() -> str:
    """A random password that meets the stack's policy (12+, lower, upper, digit, symbol)."""
    letters = [secrets.choice(string.ascii_lowercase) for _ in range(12)]
    return "".join(letters) + secrets.choice(string.ascii_uppercase) + \
        secrets.choice(string.digits) + secrets.choice("!#%+-=?")


class SmokeUser:
    def __init__(self, cognito, user_pool_id: str, *, workspace: str,
                 editors_group: str = "editors", email: str | None = None):
        self.cognito, self.pool = cognito, user_pool_id
        self.workspace, self.editors_group = workspace, editors_group
        self.email = email or f"smoke+{secrets.token_hex(4)}@example.com"
        self._password = new_password()
        self.client_id: str | None = None
        self.created = False

    def sign_in(self) -> str:
        """Creates the client and the user; returns the user's ID token."""
        self.client_id = self.cognito.create_user_pool_client(
            UserPoolId=self.pool, ClientName=SMOKE_CLIENT_NAME, GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        self.cognito.admin_create_user(
            UserPoolId=self.pool, Username=self.email, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": self.email},
                            {"Name": "email_verified", "Value": "true"},
                            {"Name": "custom:workspace", "Value": self.workspace}])
        self.created = True
        self.cognito.admin_set_user_password(UserPoolId=self.pool, Username=self.email,
                                             Password=self._password, Permanent=True)
        self.cognito.admin_add_user_to_group(UserPoolId=self.pool, Username=self.email,
                                             GroupName=self.editors_group)
        result = self.cognito.admin_initiate_auth(
            UserPoolId=self.pool, ClientId=self.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self.email, "PASSWORD": self._password})
        if "AuthenticationResult" not in result:
            raise RuntimeError(f"sign-in asked for a challenge: {result.get('ChallengeName')}")
        return result["AuthenticationResult"]["IdToken"]

    def remove(self) -> list[str]:
        """Deletes what ``sign_in`` made; returns what could not be deleted."""
        left = []
        if self.created:
            try:
                self.cognito.admin_delete_user(UserPoolId=self.pool, Username=self.email)
            except Exception as exc:  # noqa: BLE001 - reported, the rest still goes
                left.append(f"user {self.email}: {exc}")
        if self.client_id:
            try:
                self.cognito.delete_user_pool_client(UserPoolId=self.pool,
                                                     ClientId=self.client_id)
            except Exception as exc:  # noqa: BLE001
                left.append(f"app client {SMOKE_CLIENT_NAME}: {exc}")
        return left
