"""The workspace a request acts in comes from the token's claims, read as whole strings; a
token without one acts in its user's personal workspace, which no other token can name."""

import pytest

from apiclient import claims_for
from noticebot.domain.errors import Forbidden, Unauthorized
from noticebot.handlers.api.identity import principal_from_claims

NOTICE = {"title": "Pool closed", "body": "The pool is closed on Monday."}


def with_workspace(user: str, workspace) -> dict:
    claims = claims_for(user, None, editor=True)
    claims["custom:workspace"] = workspace
    return claims


@pytest.mark.parametrize("workspace", [
    "wsA\n", "ws\nA", "../other", "ws/A", " wsA", "x" * 129, "wsA\x00",
])
def test_a_workspace_claim_must_be_a_whole_valid_id(workspace):
    with pytest.raises(Forbidden):
        principal_from_claims(with_workspace("lee", workspace))


def test_a_newline_in_the_claim_creates_nothing(api, container):
    status, err = api.call("POST", "/api/notices", NOTICE, claims=with_workspace("lee", "wsA\n"))
    assert (status, err["error"]["code"]) == (403, "forbidden")
    assert container.metadata.list_notices("wsA\n") == []
    assert container.metadata.list_notices("wsA") == []


def test_without_a_workspace_claim_the_user_acts_in_their_personal_workspace(api, container):
    for claims in (claims_for("lee", None, editor=True), with_workspace("lee", "")):
        assert principal_from_claims(claims).workspace_id == "user-lee"
    status, notice = api.call("POST", "/api/notices", NOTICE, claims=claims_for("lee", None, editor=True))
    assert status == 201
    assert container.metadata.get_notice("user-lee", notice["notice_id"]) is not None


@pytest.mark.parametrize("workspace", ["user-lee", "User-lee", "USER-LEE", "user-lee-club"])
def test_no_token_names_another_users_personal_workspace(api, container, workspace):
    _, lees = api.call("POST", "/api/notices", NOTICE, claims=claims_for("lee", None, editor=True))
    with pytest.raises(Forbidden):
        principal_from_claims(with_workspace("eve", workspace))
    status, _ = api.call("GET", f"/api/notices/{lees['notice_id']}",
                         claims=with_workspace("eve", workspace))
    assert status == 403


def test_a_token_may_name_its_own_personal_workspace():
    assert principal_from_claims(with_workspace("lee", "user-lee")).workspace_id == "user-lee"


def test_a_shared_workspace_claim_is_used_as_is():
    principal = principal_from_claims(with_workspace("lee", "riverside.club_2@x-y"))
    assert principal.workspace_id == "riverside.club_2@x-y"


@pytest.mark.parametrize("claims", [
    {"sub": "lee\n"}, {"sub": "a b"}, {"sub": 42}, {"sub": ""}, {}, None, ["sub", "lee"],
])
def test_the_subject_must_be_a_whole_user_id(claims):
    with pytest.raises(Unauthorized):
        principal_from_claims(claims)


def test_a_workspace_claim_that_is_not_a_string_is_refused():
    with pytest.raises(Forbidden):
        principal_from_claims(with_workspace("lee", ["riverside"]))


def test_a_user_id_that_cannot_name_a_personal_workspace_needs_a_claim():
    # Longer than a workspace id may be: there is no personal workspace to fall back to.
    with pytest.raises(Forbidden):
        principal_from_claims(claims_for("u" * 128, None))
    assert principal_from_claims(with_workspace("u" * 128, "riverside")).workspace_id == "riverside"
