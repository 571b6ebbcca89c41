"""Which composition root builds the container: ``NOTICEBOT_MODE`` (``local`` or ``aws``).

Nothing runs at import time. The roots themselves are ``bootstrap_local`` and
``bootstrap_aws``; this only chooses, and imports boto3's side only in aws mode.
"""

from __future__ import annotations

from noticebot.config import Settings
from noticebot.container import Container


def bootstrap(settings: Settings | None = None, **ports) -> Container:
    """``ports``: adapters to use instead of the mode's own (tests pass fakes); see
    ``bootstrap_local`` and ``bootstrap_aws`` for the names each takes."""
    settings = settings or Settings.from_env()
    if settings.mode == "aws":
        from noticebot.bootstrap_aws import bootstrap_aws

        return bootstrap_aws(settings, **ports)
    if settings.mode == "local":
        from noticebot.bootstrap_local import bootstrap_local

        return bootstrap_local(settings, **ports)
    raise ValueError(f"unsupported mode {settings.mode!r}: expected 'local' or 'aws'")
