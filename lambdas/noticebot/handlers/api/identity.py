"""The caller's identity, from the claims the API Gateway authorizer verified.

The workspace comes from the token only; a request body that names another
workspace or user is refused, never obeyed.
"""

from __future__ import annotations

import json
import re

from noticebot.domain.errors import Forbidden, Unauthorized
from noticebot.domain.models import Principal

EDITORS_GROUP = "editors"
WORKSPACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
IDENTITY_FIELDS = {
    "workspace": "workspace", "workspace_id": "workspace", "workspaceId": "workspace",
    "user": "user", "user_id": "user", "userId": "user", "owner": "user", "author": "user",
}


def _groups(raw) -> set[str]:
    # REST API authorizers pass cognito:groups as a string ("[editors admins]" or
    # "editors,admins"); a decoded JWT has a list.
    if isinstance(raw, (list, tuple)):
        return {str(g) for g in raw}
    if isinstance(raw, str):
        return {g for g in re.split(r"[\s,\[\]\"]+", raw) if g}
    return set()


def principal_from_claims(claims: dict | None) -> Principal:
    if not claims or not claims.get("sub"):
        raise Unauthorized("sign in first: the request carries no valid token")
    user_id = str(claims["sub"])
    workspace = str(claims.get("custom:workspace") or f"user-{user_id}")
    if not WORKSPACE_ID.match(workspace):
        raise Forbidden("the token names an invalid workspace")
    return Principal(user_id=user_id, workspace_id=workspace,
                     is_editor=EDITORS_GROUP in _groups(claims.get("cognito:groups")))


def principal_from_event(event: dict) -> Principal:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    if isinstance(claims, str):
        claims = json.loads(claims)
    return principal_from_claims(claims)


def reject_foreign_identity(principal: Principal, body) -> None:
    """403 when a body names a workspace or user other than the caller's own."""
    if not isinstance(body, dict):
        return
    for key, kind in IDENTITY_FIELDS.items():
        if key not in body or body[key] in (None, ""):
            continue
        own = principal.workspace_id if kind == "workspace" else principal.user_id
        if str(body[key]) != own:
            raise Forbidden(f"'{key}' names another {kind}; the {kind} comes from your sign-in")
