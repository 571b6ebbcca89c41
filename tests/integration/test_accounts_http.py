"""Local accounts over real HTTP: the dev server's gateway verifies tokens as the Cognito
authorizer would, and refuses a signed-out one; sign-in needs no token and is throttled with a
429 and Retry-After; a removed member's next request is refused."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from fakes import FakeChatModel, FakeEmbedder
from live_server import served
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack

PASSWORD = "a long enough passphrase"


@pytest.fixture
def server(tmp_path):
    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=FakeChatModel())
    with served(container) as url:
        yield container, url


def call(url, method="GET", token=None, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, response.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), err.headers


def test_an_invited_member_signs_in_signs_out_and_is_refused_after(server):
    container, base = server
    dev = container.auth.issue("dev-editor", "demo", editor=True)  # `noticebot token` still works
    status, invitation, _ = call(f"{base}/api/invitations", "POST", dev,
                                 {"email": "ivy@example.org", "role": "member"})
    assert status == 201 and invitation["code"]
    status, session, _ = call(f"{base}/api/invitations/accept", "POST",
                              body={"code": invitation["code"], "password": PASSWORD})
    assert status == 200 and session["role"] == "member"
    token = session["token"]
    status, me, _ = call(f"{base}/api/me", token=token)
    assert status == 200 and (me["email"], me["workspace_id"]) == ("ivy@example.org", "demo")

    assert call(f"{base}/api/auth/sign-out", "POST", token)[0] == 204
    status, body, _ = call(f"{base}/api/me", token=token)
    assert status == 401 and "signed out" in body["error"]["message"]

    status, again, _ = call(f"{base}/api/auth/sign-in", "POST",
                            body={"email": "ivy@example.org", "password": PASSWORD})
    assert status == 200
    assert call(f"{base}/api/notices", token=again["token"])[0] == 200
    # the editor removes her: the very next request is refused
    assert call(f"{base}/api/members/{session['user_id']}", "DELETE", dev)[0] == 204
    status, body, _ = call(f"{base}/api/notices", token=again["token"])
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_a_brute_force_sign_in_gets_429_with_retry_after(server):
    _, base = server
    answers = [call(f"{base}/api/auth/sign-in", "POST",
                    body={"email": "victim@example.org", "password": f"guess-{n}"})
               for n in range(6)]
    assert [a[0] for a in answers] == [401] * 5 + [429]
    status, body, headers = answers[-1]
    assert body["error"]["code"] == "too_many_requests"
    assert int(headers["Retry-After"]) >= 1


def test_public_routes_need_no_token_and_the_rest_still_do(server):
    _, base = server
    assert call(f"{base}/api/invitations/accept", "POST",
                body={"code": "A" * 43, "password": PASSWORD})[0] == 404
    assert call(f"{base}/api/me")[0] == 401
    assert call(f"{base}/api/auth/sign-out", "POST")[0] == 401
