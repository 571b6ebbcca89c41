"""A container behind the real local HTTP server, for tests that speak HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from noticebot.entrypoints.server import LocalServer


@contextmanager
def served(container) -> Iterator[str]:
    """Yields the base URL; on exit stops the server, then the container's ingest worker."""
    server = LocalServer(container, "127.0.0.1", 0).start()
    try:
        yield server.url
    finally:
        server.stop()
        container.queue.stop()
