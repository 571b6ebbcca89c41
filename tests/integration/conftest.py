"""The local stack behind the real HTTP server, with the deterministic fakes for models."""

from __future__ import annotations

import pytest

from fakes import FakeChatModel, FakeEmbedder
from live_server import served
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack


@pytest.fixture
def fake_model_server(tmp_path):
    """(container, base URL) of a running local server: real HTTP, SQLite, folder, embedded
    index and ingest worker; the embedder and chat model are the fakes (no model loads)."""
    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=FakeChatModel(), start_worker=True)
    with served(container) as url:
        yield container, url
