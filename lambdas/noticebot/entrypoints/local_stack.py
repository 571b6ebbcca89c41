"""The local stack: the local composition root's container, with its events connected to the
same Lambda handlers AWS runs.

In AWS the platform delivers events (S3 -> SQS -> the ingest function, EventBridge -> the
deploy function). Locally the container's own parts stand in for the platform, and this is
where they are pointed at the handlers:

- the queue worker hands each SQS batch to ``handlers.ingest.handle``, and its housekeeping
  settles documents that no message will ever come for;
- the notify queue's worker hands each batch of notice events to ``handlers.notify.handle``;
- the subprocess launcher hands train.py's completion event to ``handlers.deploy.handle``.

The CLI, the local server, the tests and the benchmark build their stack here.
"""

from __future__ import annotations

import json

from noticebot.bootstrap_local import bootstrap_local
from noticebot.config import Settings
from noticebot.container import Container
from noticebot.handlers import deploy, ingest, notify


def local_stack(settings: Settings | None = None, *, start_worker: bool = False,
                **ports) -> Container:
    """``ports``: adapters to use instead of the local ones (``bootstrap_local``'s names).
    ``start_worker``: deliver queued messages on a background thread; otherwise the caller
    drains the queue (``container.queue.drain()``) when it wants them delivered."""
    container = bootstrap_local(settings, **ports)
    connect_events(container)
    if start_worker:
        container.queue.start()
    return container


def connect_events(container: Container) -> Container:
    container.queue.consumer = lambda event: ingest.handle(event, container)
    container.queue.housekeeping = lambda: sweep_stuck_documents(container)
    notify_worker = getattr(container.notice_events, "worker", None)
    if notify_worker is not None and notify_worker.consumer is None:
        notify_worker.consumer = lambda event: notify.handle(event, container)
    # A launcher given with its own listener (a test recording events) keeps it.
    if getattr(container.launcher, "on_event", False) is None:
        container.launcher.on_event = lambda event: deploy.handle(event, container)
    return container


def sweep_stuck_documents(container: Container) -> None:
    """Settles documents stranded in queued / processing with no message left for them (the
    process died between writing the row and storing the file, or the queue gave up on it).
    Only the local store reads across workspaces."""
    unsettled = getattr(container.metadata, "unsettled_documents", None)
    if unsettled is None:
        return
    keys: set[str] = set()
    for body in container.queue.messages.pending_bodies():
        try:
            keys.update(ingest.object_keys(json.loads(body)))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue  # not an S3 event: concerns no document
    container.documents.stuck.sweep(unsettled(), keys)
