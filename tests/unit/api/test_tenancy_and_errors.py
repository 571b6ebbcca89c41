import json

import pytest

from apiclient import multipart


def post_notice(api, claims, title="Pool closed", body="The pool is closed on Monday for cleaning."):
    return api.call("POST", "/api/notices", {"title": title, "body": body}, claims=claims)


def test_health_and_openapi_need_no_token(api):
    status, body = api.call("GET", "/api/health")
    assert status == 200 and body["status"] == "ok"
    status, doc = api.call("GET", "/api/openapi.json")
    assert status == 200
    assert {"/api/chat", "/api/search", "/api/upload", "/api/notices"} <= set(doc["paths"])


def test_no_token_is_401(api):
    status, err = api.call("GET", "/api/notices")
    assert status == 401
    assert err == {"error": {"code": "unauthorized", "message": err["error"]["message"]}}


def test_unknown_route_is_404_in_the_error_shape(api, member):
    status, err = api.call("GET", "/api/nope", claims=member)
    assert status == 404
    assert set(err) == {"error"} and err["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/fine-tune/\n", "/api/notices\n", "/api/documents/\n"])
def test_a_path_with_a_trailing_newline_matches_no_route(api, editor, path):
    status, err = api.call("GET", path, claims=editor)
    assert status == 404 and err["error"]["code"] == "not_found"


def test_a_method_a_route_does_not_answer_is_405_naming_the_ones_it_does(api, editor):
    status, err = api.call("PUT", "/api/notices/n1", {"title": "x"}, claims=editor)
    assert status == 405 and err["error"]["code"] == "method_not_allowed"
    headers = api.last_response.get("multiValueHeaders") or {}
    assert headers.get("Allow") == ["DELETE, GET, PATCH"]


def test_malformed_json_is_400(api, editor):
    status, err = api.call("POST", "/api/notices", claims=editor, raw_body=b"{not json",
                           content_type="application/json")
    assert status == 400
    assert err["error"]["code"] == "invalid_json"


def test_schema_violations_are_422_without_internals(api, editor):
    status, err = api.call("POST", "/api/search", {"query": "x", "top_k": 500}, claims=editor)
    assert status == 422
    assert "top_k" in err["error"]["message"]
    assert "Traceback" not in json.dumps(err)
    status, err = api.call("POST", "/api/notices", {"title": "t", "body": "b", "colour": "red"},
                           claims=editor)
    assert status == 422


def test_body_naming_another_workspace_or_user_is_403(api, editor):
    status, err = api.call("POST", "/api/search", {"query": "pool", "workspace_id": "other-club"},
                           claims=editor)
    assert status == 403
    status, _ = api.call("POST", "/api/chat", {"query": "pool", "user_id": "someone-else"},
                         claims=editor)
    assert status == 403
    # Naming yourself is refused too: a body never carries identity, so no client comes to
    # rely on a field that is only safe while it matches the token.
    status, err = api.call("POST", "/api/search", {"query": "pool", "workspace_id": "riverside"},
                           claims=editor)
    assert status == 403 and "sign-in" in err["error"]["message"]


def test_a_workspace_never_sees_another_workspaces_data(api, container, editor, outsider):
    _, notice = post_notice(api, editor)
    body, ctype = multipart({}, {"file": ("pool.txt", b"Pool rules: shower before swimming.", "text/plain")})
    _, doc = api.call("POST", "/api/upload", claims=editor, raw_body=body, content_type=ctype)
    container.queue.drain()
    _, chat = api.call("POST", "/api/chat", {"query": "When is the pool closed?"}, claims=editor)

    assert api.call("GET", "/api/notices", claims=outsider)[1]["notices"] == []
    assert api.call("GET", f"/api/notices/{notice['notice_id']}", claims=outsider)[0] == 404
    assert api.call("GET", "/api/documents", claims=outsider)[1]["documents"] == []
    assert api.call("GET", f"/api/documents/{doc['document_id']}", claims=outsider)[0] == 404
    assert api.call("DELETE", f"/api/documents/{doc['document_id']}", claims=outsider)[0] == 404
    assert api.call("PATCH", f"/api/notices/{notice['notice_id']}", {"pinned": True},
                    claims=outsider)[0] == 404
    status, found = api.call("POST", "/api/search", {"query": "pool closed cleaning"}, claims=outsider)
    assert status == 200 and found["results"] == []
    status, answer = api.call("POST", "/api/chat", {"query": "When is the pool closed?"}, claims=outsider)
    assert status == 200 and answer["citations"] == [] and answer["grounded"] is False
    assert api.call("GET", f"/api/conversations/{chat['conversation_id']}", claims=outsider)[0] == 404


def test_token_without_workspace_uses_the_users_own(api, container):
    from apiclient import claims_for

    solo = claims_for("lee", None, editor=True)
    status, notice = post_notice(api, solo)
    assert status == 201
    assert container.metadata.get_notice("user-lee", notice["notice_id"]) is not None


def test_every_identity_spelling_is_a_403_not_a_422(api, editor):
    for key in ("workspace", "workspace_id", "workspaceId", "user", "user_id", "userId", "owner", "author"):
        status, err = api.call("POST", "/api/search", {"query": "pool", key: "someone-else"}, claims=editor)
        assert status == 403, key
        assert err["error"]["code"] == "forbidden"
