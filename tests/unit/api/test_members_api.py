"""Members, invitations, sign-in and sign-out through the API handler (local mode: the local
password accounts are the identity provider), with tenancy across workspaces."""

import time

import pytest

from apiclient import claims_for

PASSWORD = "a long enough passphrase"


def invite(api, claims, email, role="member"):
    status, body = api.call("POST", "/api/invitations", {"email": email, "role": role},
                            claims=claims)
    assert status == 201, body
    return body


def accept(api, code, password=PASSWORD):
    return api.call("POST", "/api/invitations/accept", {"code": code, "password": password})


def joined(api, container, editor, email, role="member"):
    """(the invitee's verified token claims, their session body), invited and accepted."""
    code = invite(api, editor, email, role)["code"]
    status, session = accept(api, code)
    assert status == 200, session
    return container.auth.verify(session["token"]), session


# ---------------------------------------------------------------- who am I
def test_me_says_the_callers_role_in_the_workspace(api, editor, member):
    status, me = api.call("GET", "/api/me", claims=editor)
    assert status == 200
    assert (me["user_id"], me["workspace_id"], me["role"], me["personal_workspace"]) == (
        "maria", "riverside", "editor", False)
    assert api.call("GET", "/api/me", claims=member)[1]["role"] == "member"
    _, own = api.call("GET", "/api/me", claims=claims_for("lee", None, editor=True))
    assert (own["workspace_id"], own["personal_workspace"]) == ("user-lee", True)
    assert api.call("GET", "/api/me")[0] == 401


def test_an_existing_workspace_adopts_its_first_editor_and_lists_its_members(api, editor,
                                                                             member):
    # the board existed before membership: a notice posted, nobody recorded yet
    assert api.call("POST", "/api/notices", {"title": "t", "body": "b"}, claims=editor)[0] == 201
    api.call("GET", "/api/notices", claims=member)
    status, body = api.call("GET", "/api/members", claims=editor)
    assert status == 200
    assert [(m["user_id"], m["role"], m["invited_by"]) for m in body["members"]] == [
        ("maria", "editor", None), ("sam", "member", None)]
    assert body["members"][0]["email"] == "maria@example.com"
    # members see who belongs, not the addresses
    assert {m["email"] for m in api.call("GET", "/api/members", claims=member)[1]["members"]} \
        == {None}


# ---------------------------------------------------------------- the local invitation flow
def test_an_invitee_accepts_with_a_password_and_is_signed_in_with_the_invited_role(
        api, container, editor):
    created = invite(api, editor, "Zoe@Example.org", role="editor")
    assert (created["email"], created["role"], created["status"]) == (
        "zoe@example.org", "editor", "pending")
    assert created["code"] and created["invited_by"] == "maria"
    status, session = accept(api, created["code"])
    assert status == 200 and session["token_type"] == "Bearer"
    assert (session["workspace_id"], session["role"], session["email"]) == (
        "riverside", "editor", "zoe@example.org")
    claims = container.auth.verify(session["token"])
    assert claims["custom:workspace"] == "riverside" and claims["cognito:groups"] == ["editors"]
    assert claims["sub"] == session["user_id"] and claims["jti"]
    assert api.call("GET", "/api/me", claims=claims)[1]["role"] == "editor"
    _, listed = api.call("GET", "/api/invitations", claims=editor)
    assert [(i["email"], i["status"]) for i in listed["invitations"]] == [
        ("zoe@example.org", "accepted")]
    assert "code" not in listed["invitations"][0]  # shown once, never again
    # signing in later with the chosen password
    status, again = api.call("POST", "/api/auth/sign-in",
                             {"email": "zoe@example.org", "password": PASSWORD})
    assert status == 200 and again["user_id"] == session["user_id"]
    assert api.call("POST", "/api/auth/sign-in",
                    {"email": "zoe@example.org", "password": "not it at all"})[0] == 401


def test_a_code_works_once_and_never_after_a_revoke(api, editor):
    first = invite(api, editor, "one@example.org")
    assert accept(api, first["code"])[0] == 200
    status, body = accept(api, first["code"])
    assert status == 404 and body["error"]["code"] == "not_found"
    second = invite(api, editor, "two@example.org")
    assert api.call("DELETE", f"/api/invitations/{second['invitation_id']}",
                    claims=editor)[0] == 204
    assert accept(api, second["code"])[0] == 404
    assert accept(api, "A" * 43)[0] == 404


def test_a_weak_or_address_password_is_refused_and_the_code_kept(api, editor):
    created = invite(api, editor, "carla@example.org")
    assert accept(api, created["code"], password="short")[0] == 422
    status, body = accept(api, created["code"], password="carla@example.org")
    assert status == 422 and "e-mail" in body["error"]["message"]
    assert accept(api, created["code"])[0] == 200


def test_inviting_is_for_editors_and_an_address_once(api, editor, member):
    assert api.call("POST", "/api/invitations", {"email": "x@example.org"}, claims=member)[0] == 403
    assert api.call("GET", "/api/invitations", claims=member)[0] == 403
    invite(api, editor, "x@example.org")
    status, body = api.call("POST", "/api/invitations", {"email": "x@example.org"}, claims=editor)
    assert status == 409 and "pending" in body["error"]["message"]
    assert api.call("POST", "/api/invitations", {"email": "not an address"}, claims=editor)[0] == 422
    assert api.call("POST", "/api/invitations", {"email": "y@example.org", "role": "owner"},
                    claims=editor)[0] == 422
    # the invitee never chooses their own user id or workspace
    status, body = api.call("POST", "/api/invitations",
                            {"email": "z@example.org", "workspace_id": "other-club"}, claims=editor)
    assert status == 403 and "workspace_id" in body["error"]["message"]


def test_a_personal_workspace_takes_no_invitations(api):
    lee = claims_for("lee", None, editor=True)
    status, body = api.call("POST", "/api/invitations", {"email": "a@example.org"}, claims=lee)
    assert status == 409 and "personal" in body["error"]["message"]


# ---------------------------------------------------------------- roles and removal
def test_editors_change_roles_but_never_leave_the_workspace_without_one(api, editor, member):
    api.call("GET", "/api/me", claims=member)
    assert api.call("PATCH", "/api/members/maria", {"role": "member"}, claims=member)[0] == 403
    status, body = api.call("PATCH", "/api/members/maria", {"role": "member"}, claims=editor)
    assert status == 409 and "at least one editor" in body["error"]["message"]
    assert api.call("DELETE", "/api/members/maria", claims=editor)[0] == 409
    status, body = api.call("PATCH", "/api/members/sam", {"role": "editor"}, claims=editor)
    assert status == 200 and body["role"] == "editor"
    # sam's token still says member; the record makes him an editor at once
    assert api.call("POST", "/api/notices", {"title": "t", "body": "b"}, claims=member)[0] == 201
    assert api.call("PATCH", "/api/members/maria", {"role": "member"}, claims=member)[0] == 200
    assert api.call("POST", "/api/notices", {"title": "t", "body": "b"}, claims=editor)[0] == 403
    assert api.call("PATCH", "/api/members/nobody", {"role": "member"}, claims=member)[0] == 404
    assert api.call("PATCH", "/api/members/sam", {"role": "editor", "user_id": "maria"},
                    claims=member)[0] == 403


def test_a_removed_member_is_refused_from_the_next_request(api, container, editor):
    claims, _ = joined(api, container, editor, "rob@example.org")
    assert api.call("GET", "/api/notices", claims=claims)[0] == 200
    assert api.call("DELETE", f"/api/members/{claims['sub']}", claims=editor)[0] == 204
    status, body = api.call("GET", "/api/notices", claims=claims)
    assert status == 403 and "removed" in body["error"]["message"]
    # and cannot sign in again
    assert api.call("POST", "/api/auth/sign-in",
                    {"email": "rob@example.org", "password": PASSWORD})[0] == 401
    assert claims["sub"] not in {m["user_id"] for m in
                                 api.call("GET", "/api/members", claims=editor)[1]["members"]}
    # invited again, they come back
    back = invite(api, editor, "rob@example.org")
    assert accept(api, back["code"])[0] == 200
    assert api.call("GET", "/api/notices", claims=claims)[0] == 200


def test_a_member_may_leave(api, member, editor):
    api.call("GET", "/api/me", claims=editor)
    assert api.call("DELETE", "/api/members/sam", claims=member)[0] == 204
    assert api.call("GET", "/api/me", claims=member)[0] == 403


# ---------------------------------------------------------------- sign-in, sign-out
def test_sign_out_refuses_the_token_and_every_earlier_one(api, container, editor):
    claims, session = joined(api, container, editor, "otto@example.org")
    older = {**claims, "iat": claims["iat"] - 60, "jti": "an-earlier-session"}
    time.sleep(1.01)  # sign-out's cutoff is a whole second: a new sign-in after it passes
    assert api.call("POST", "/api/auth/sign-out", claims=claims)[0] == 204
    with pytest.raises(Exception, match="signed out"):
        container.auth.verify(session["token"])  # the gateway's verifier refuses it
    status, body = api.call("GET", "/api/notices", claims=older)
    assert status == 401 and "signed out" in body["error"]["message"]
    status, fresh = api.call("POST", "/api/auth/sign-in",
                             {"email": "otto@example.org", "password": PASSWORD})
    assert status == 200
    assert api.call("GET", "/api/notices", claims=container.auth.verify(fresh["token"]))[0] == 200


def test_sign_out_forgets_the_callers_devices_and_only_theirs(api, container, editor):
    claims, _ = joined(api, container, editor, "pia@example.org")
    for who, token in ((claims, "ExponentPushToken[pia-phone]"),
                       (editor, "ExponentPushToken[ed-phone]")):
        assert api.call("POST", "/api/devices", {"expo_push_token": token, "platform": "ios"},
                        claims=who)[0] == 201
    assert api.call("POST", "/api/auth/sign-out", claims=claims)[0] == 204
    ws = claims["custom:workspace"]
    assert container.metadata.list_devices(ws, claims["sub"]) == []
    assert [d.token for d in container.metadata.list_devices(ws)] == ["ExponentPushToken[ed-phone]"]


def test_a_development_token_cannot_be_signed_out(api, container):
    claims = container.auth.verify(container.auth.issue("dev-editor", "demo", editor=True))
    status, body = api.call("POST", "/api/auth/sign-out", claims=claims)
    assert status == 409 and "development token" in body["error"]["message"]
    assert api.call("GET", "/api/notices", claims=claims)[0] == 200


def test_repeated_failed_sign_ins_are_throttled_with_retry_after(api, editor, container):
    joined(api, container, editor, "tina@example.org")
    for _ in range(5):
        assert api.call("POST", "/api/auth/sign-in",
                        {"email": "tina@example.org", "password": "guess guess"})[0] == 401
    status, body = api.call("POST", "/api/auth/sign-in",
                            {"email": "tina@example.org", "password": PASSWORD})
    assert status == 429 and body["error"]["code"] == "too_many_requests"
    assert int(api.last_response["multiValueHeaders"]["Retry-After"][0]) >= 1


def test_sign_in_needs_no_token_and_takes_no_identity_fields(api):
    status, body = api.call("POST", "/api/auth/sign-in",
                            {"email": "a@example.org", "password": "x", "user_id": "maria"})
    assert status == 403
    assert api.call("POST", "/api/auth/sign-in", {"email": "a@example.org"})[0] == 422
    assert api.call("POST", "/api/auth/sign-in",
                    {"email": "nobody@example.org", "password": "whatever"})[0] == 401


# ---------------------------------------------------------------- tenancy
def test_another_workspace_never_sees_or_changes_these_members(api, editor, member, outsider):
    api.call("GET", "/api/me", claims=member)
    pending = invite(api, editor, "riv@example.org")
    _, theirs = api.call("GET", "/api/members", claims=outsider)
    assert [m["user_id"] for m in theirs["members"]] == ["eve"]
    assert api.call("GET", "/api/invitations", claims=outsider)[1]["invitations"] == []
    assert api.call("PATCH", "/api/members/sam", {"role": "editor"}, claims=outsider)[0] == 404
    assert api.call("DELETE", "/api/members/maria", claims=outsider)[0] == 404
    assert api.call("DELETE", f"/api/invitations/{pending['invitation_id']}",
                    claims=outsider)[0] == 404
    # riverside is untouched
    _, ours = api.call("GET", "/api/members", claims=editor)
    assert sorted((m["user_id"], m["role"]) for m in ours["members"]) == [
        ("maria", "editor"), ("sam", "member")]
    assert api.call("GET", "/api/invitations", claims=editor)[1]["invitations"][0]["status"] \
        == "pending"
    # the code joins the invitation's workspace, whoever holds it
    status, session = accept(api, pending["code"])
    assert status == 200 and session["workspace_id"] == "riverside"
    assert "eve" not in {m["user_id"] for m in
                         api.call("GET", "/api/members", claims=editor)[1]["members"]}


# ---------------------------------------------------------------- the document
def test_the_openapi_document_describes_the_new_routes(api):
    _, doc = api.call("GET", "/api/openapi.json")
    paths = doc["paths"]
    assert {"/api/me", "/api/members", "/api/members/{user_id}", "/api/invitations",
            "/api/invitations/{invitation_id}", "/api/invitations/accept", "/api/auth/sign-in",
            "/api/auth/sign-out"} <= set(paths)
    assert paths["/api/auth/sign-in"]["post"]["security"] == []
    assert paths["/api/invitations/accept"]["post"]["security"] == []
    throttled = paths["/api/auth/sign-in"]["post"]["responses"]["429"]
    assert "Retry-After" in throttled["headers"]
    assert set(paths["/api/members/{user_id}"]["delete"]["responses"]) == {
        "204", "401", "403", "404", "409"}
    assert set(paths["/api/invitations"]["post"]["responses"]) == {
        "201", "400", "401", "403", "409", "415", "422", "429", "503"}
    assert "Retry-After" in paths["/api/invitations"]["post"]["responses"]["429"]["headers"]
    assert doc["components"]["schemas"]["InvitationIn"]["additionalProperties"] is False


def test_a_removed_member_cannot_stream_a_chat_either(api, container, editor, member):
    from apiclient import ApiClient
    from noticebot.handlers.api import chat_stream

    def streamed(event, context=None):
        response = chat_stream.respond(event, container)
        return {"statusCode": response.status, "body": b"".join(response.body).decode()}

    api.call("GET", "/api/me", claims=member)
    assert api.call("DELETE", "/api/members/sam", claims=editor)[0] == 204
    status, body = ApiClient(streamed).call("POST", "/api/chat",
                                            {"query": "When is the party?", "stream": True},
                                            claims=member)
    assert status == 403 and "removed" in body["error"]["message"]
