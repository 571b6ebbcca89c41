"""The caller's identity, from the claims the API Gateway authorizer verified.

The workspace comes from the token only:

- ``custom:workspace`` names the shared workspace the user belongs to (a school, an office).
- A token without it (absent or empty) acts in the user's personal workspace, ``user-<sub>``.
- The ``user-`` prefix (in any letter case) is reserved for personal workspaces: a token may
  name ``user-<its own sub>`` but no other, so no token reaches another user's personal
  workspace by claiming its name. Any letter case, because a folder name on a case-insensitive
  disk would otherwise let ``User-lee`` open ``user-lee``.
- Claims are checked as whole strings: a workspace id becomes a folder name, a key prefix and
  an index filter, so a trailing newline or a slash must never get through.

A request body never chooses the workspace or user: a field naming either is refused (403),
wherever it sits in the body, even when it names the caller.

The role is the workspace's member record's, not the token's: the request gate admits each
caller (``services.members``) and writes the role the record gives into the event's groups
claim (``act_as``), so every route reads the one principal, and a role change or removal
holds from the next request even while the caller's token still says otherwise.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from noticebot.domain.errors import Forbidden, Unauthorized
from noticebot.domain.members import PERSONAL_PREFIX
from noticebot.domain.models import Principal

EDITORS_GROUP = "editors"
# How a REST API's Cognito authorizer passes iat / exp: "Wed Nov 25 12:00:00 UTC 2026".
AUTHORIZER_TIME = "%a %b %d %H:%M:%S UTC %Y"
WORKSPACE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
# Cognito subs are UUIDs; local tokens carry a user name. Neither holds spaces or controls.
USER_ID = re.compile(r"[^\s\x00-\x1f\x7f]{1,128}")
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


def personal_workspace(user_id: str) -> str:
    return f"{PERSONAL_PREFIX}{user_id}"


def workspace_from_claims(user_id: str, claimed) -> str:
    if claimed is None or claimed == "":
        workspace = personal_workspace(user_id)
        if not WORKSPACE_ID.fullmatch(workspace):
            raise Forbidden("this user id cannot name a personal workspace; the token needs "
                            "a custom:workspace claim")
        return workspace
    if not isinstance(claimed, str) or not WORKSPACE_ID.fullmatch(claimed):
        raise Forbidden("the token names an invalid workspace")
    if claimed.lower().startswith(PERSONAL_PREFIX) and claimed != personal_workspace(user_id):
        raise Forbidden("the token names another user's personal workspace")
    return claimed


def principal_from_claims(claims: dict | None) -> Principal:
    if not isinstance(claims, dict) or not claims.get("sub"):
        raise Unauthorized("sign in first: the request carries no valid token")
    user_id = claims["sub"]
    if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
        raise Unauthorized("the token's subject is not a valid user id")
    return Principal(user_id=user_id,
                     workspace_id=workspace_from_claims(user_id, claims.get("custom:workspace")),
                     is_editor=EDITORS_GROUP in _groups(claims.get("cognito:groups")))


def claims_from_event(event: dict) -> dict | None:
    """The verified token's claims, as the authorizer (or the local gateway) passed them."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    if isinstance(claims, str):
        try:
            claims = json.loads(claims)
        except ValueError:
            claims = None
    return claims if isinstance(claims, dict) else None


def principal_from_event(event: dict) -> Principal:
    return principal_from_claims(claims_from_event(event))


def issued_at(claims: dict | None) -> int | None:
    """The token's ``iat`` in epoch seconds: a number in a decoded JWT, a date string from a
    REST API authorizer. None when absent or unreadable."""
    raw = (claims or {}).get("iat")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return int(raw)
    if isinstance(raw, str):
        if raw.strip().isdigit():
            return int(raw.strip())
        try:
            return int(datetime.strptime(raw.strip(), AUTHORIZER_TIME)
                       .replace(tzinfo=timezone.utc).timestamp())
        except ValueError:
            return None
    return None


def act_as(event: dict, is_editor: bool) -> None:
    """Makes ``event``'s groups claim say what the caller's member record says. Replaces the
    event's request context rather than changing the one it shares with the caller's copy."""
    context = dict(event.get("requestContext") or {})
    authorizer = dict(context.get("authorizer") or {})
    claims = dict(claims_from_event(event) or {})
    groups = _groups(claims.get("cognito:groups")) - {EDITORS_GROUP}
    claims["cognito:groups"] = sorted(groups | ({EDITORS_GROUP} if is_editor else set()))
    authorizer["claims"] = claims
    context["authorizer"] = authorizer
    event["requestContext"] = context


def refuse_identity_fields(body) -> None:
    """403 when a body names a workspace or user anywhere in it."""
    if isinstance(body, list):
        for item in body:
            refuse_identity_fields(item)
    if not isinstance(body, dict):
        return
    for key, value in body.items():
        kind = IDENTITY_FIELDS.get(key)
        if kind:
            raise Forbidden(f"'{key}' is not accepted: the {kind} comes from your sign-in")
        refuse_identity_fields(value)
