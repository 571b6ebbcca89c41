"""The `noticebot` command on a data folder, with the real local adapters."""

import json

import pytest

from noticebot.entrypoints.cli import main

pytestmark = pytest.mark.models


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTICEBOT_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def test_ingest_search_and_ask(tmp_path, capsys):
    doc = tmp_path / "gym.md"
    doc.write_text("# Gym\n\nThe gym sauna is closed every Wednesday for maintenance.\n")
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    assert main(["ingest", str(doc), str(bad), "--workspace", "club", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "1 indexed, 1 failed" in out and "empty" in out

    assert main(["search", "sauna closed", "--workspace", "club", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["title"] == "Gym" and "Wednesday" in hits[0]["snippet"]

    assert main(["search", "sauna", "--workspace", "someone-else", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    assert main(["ask", "When is the sauna closed?", "--workspace", "club"]) == 0
    out = capsys.readouterr().out
    assert "[1] Gym" in out


def test_token_is_verifiable_with_the_data_folders_secret(data_dir, capsys):
    from noticebot.adapters.local.jwt_auth import LocalJwtAuthority

    assert main(["token", "--user", "sam", "--workspace", "club", "--editor"]) == 0
    token = capsys.readouterr().out.strip()
    claims = LocalJwtAuthority(data_dir / "jwt-secret").verify(token)
    assert claims["sub"] == "sam" and claims["cognito:groups"] == ["editors"]
