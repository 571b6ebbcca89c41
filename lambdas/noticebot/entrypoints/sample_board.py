"""The small sample board `make run` starts with, so a new user can ask something at once."""

from __future__ import annotations

import json
from importlib import resources

from noticebot.domain.models import Principal

SAMPLE_DOCUMENTS = ("club-handbook.md", "committee-minutes.html")


def seed_sample_board(container, workspace_id: str, user_id: str) -> str | None:
    """Posts the sample notices and documents into an empty workspace; returns a summary,
    or None when the workspace already has content (a restart keeps what users did)."""
    principal = Principal(user_id, workspace_id, is_editor=True)
    if container.metadata.list_documents(workspace_id):
        return None
    folder = resources.files("noticebot") / "sample_board"
    notices = json.loads((folder / "notices.json").read_text(encoding="utf-8"))
    for n in notices:
        container.notices.create(principal, n["title"], n["body"], pinned=n.get("pinned", False))
    for name in SAMPLE_DOCUMENTS:
        container.documents.upload(principal, name, (folder / name).read_bytes())
    return f"{len(notices)} notices, {len(SAMPLE_DOCUMENTS)} documents (indexing in the background)"
