"""`noticebot invite`: an operator's invitation on a data folder, accepted through the API of a
stack on the same folder; the invitee is an editor with a password account."""

import json

from apiclient import ApiClient
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.config import Settings
from noticebot.entrypoints.cli import main
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for


def test_an_invited_editor_accepts_through_the_api(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("NOTICEBOT_DATA", str(data))
    assert main(["invite", "First@Example.org", "--workspace", "newclub", "--editor",
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["email"], printed["role"]) == ("first@example.org", "editor")
    container = local_stack(Settings(data_dir=data), embedder=FakeEmbedder(),
                            chat_model=FakeChatModel(), index=FakeVectorIndex())
    api = ApiClient(handler_for(container))
    status, session = api.call("POST", "/api/invitations/accept",
                               {"code": printed["code"], "password": "first editor passphrase"})
    assert status == 200 and (session["workspace_id"], session["role"]) == ("newclub", "editor")
    claims = container.auth.verify(session["token"])
    _, members = api.call("GET", "/api/members", claims=claims)
    assert [(m["email"], m["role"], m["invited_by"]) for m in members["members"]] == [
        ("first@example.org", "editor", "operator")]
    # the same address twice is refused, with a message and a failing exit code
    assert main(["invite", "first@example.org", "--workspace", "newclub"]) == 1
    assert "already a member" in capsys.readouterr().err
