"""The container of a Lambda execution environment: built on the first invocation, never at
import (cold start), then kept for the environment's life.

Only the Lambda entry points (each handler module's ``handler(event, context)``) use it. The
local server, the CLI and the tests build their own container and call ``handle(event,
container)``; nothing can replace this one.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from noticebot.container import Container

_lock = threading.Lock()
_container: Container | None = None


def lambda_container() -> Container:
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                from noticebot.bootstrap import bootstrap

                _container = bootstrap()
    return _container
