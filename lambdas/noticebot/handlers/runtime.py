"""The container the handlers use, built on first invocation (never at import: cold start)."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_container = None


def get_container():
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                from noticebot.bootstrap import bootstrap

                _container = bootstrap()
    return _container


def use_container(container) -> None:
    """The local server, CLI and tests hand the handlers an already built container."""
    global _container
    _container = container
