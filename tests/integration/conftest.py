"""The local stack behind the real HTTP server, with the deterministic fakes for models."""

from __future__ import annotations

import pytest

from fakes import FakeChatModel, FakeEmbedder
from noticebot.bootstrap import bootstrap
from noticebot.config import Settings
from noticebot.entrypoints.server import LocalServer
from noticebot.handlers.runtime import use_container


@pytest.fixture
def fake_model_server(tmp_path):
    """(container, base URL) of a running local server: real HTTP, SQLite, folder, embedded
    index and ingest worker; the embedder and chat model are the fakes (no model loads)."""
    container = bootstrap(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                          chat_model=FakeChatModel(), start_worker=True)
    server = LocalServer(container, "127.0.0.1", 0).start()
    try:
        yield container, server.url
    finally:
        server.stop()
        container.queue.stop()
        use_container(None)
