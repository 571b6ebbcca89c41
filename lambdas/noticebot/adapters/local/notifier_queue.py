"""The local NoticeEvents: the notifier's queue, as SQS is on AWS.

A published event goes into a durable queue (``noticebot-notify`` in the data folder's
``queue.sqlite3``, SQS semantics: ``sqlite_queue``) and a worker thread hands it to
``deliver`` (the notification service), so posting a notice never waits for a push service.
An event whose delivery raises (the push service is down) comes back after a delay that
grows with each receive and is dead-lettered after the queue's ``max_receives``; a body that
is not an event is dropped at once.

The worker runs only while there is something to deliver: a publish starts it, and it ends
once the queue has nothing visible or waiting for a retry. So a server, a CLI run or a test
that posts a notice never keeps a thread polling an idle queue. Events a dead process left
behind are resumed by the next worker this data folder starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from noticebot.adapters.local.sqlite_queue import SqliteQueue
from noticebot.domain.notifications import NoticeEvent
from noticebot.ports.notifier import NoticeEvents

logger = logging.getLogger(__name__)

NOTIFY_QUEUE = "noticebot-notify"


class QueuedNoticeEvents(NoticeEvents):
    def __init__(self, messages: SqliteQueue,
                 deliver: Callable[[NoticeEvent], object] | None = None, *,
                 retry_delay_s: float = 5.0, poll_interval_s: float = 0.5,
                 autostart: bool = True):
        """``deliver``: set before the first event arrives (the composition root connects
        it to the notification service). ``autostart``: start the worker on each publish
        (False: the caller drains, as tests do)."""
        self.messages = messages
        self.deliver = deliver
        self.retry_delay_s = retry_delay_s
        self.poll_interval_s = poll_interval_s
        self.autostart = autostart
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def publish(self, event: NoticeEvent) -> None:
        self.messages.send(event.to_json())
        if self.autostart:
            self.start()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notify-worker",
                                                daemon=True)
                self._thread.start()

    def drain(self) -> None:
        """Delivers everything visible now, retries at once (tests, the CLI)."""
        while self._deliver_one(retry_delay_s=0.0):
            pass

    def _run(self) -> None:
        while True:
            try:
                if self._deliver_one(self.retry_delay_s):
                    continue
                with self._lock:  # a publish after this check starts a new worker
                    depth = self.messages.depth()
                    if not depth.visible and not depth.in_flight:
                        self._thread = None
                        return
            except Exception:  # a locked or broken queue file: log, back off, keep going
                logger.exception("the notify worker could not poll its queue")
            time.sleep(self.poll_interval_s)

    def _deliver_one(self, retry_delay_s: float) -> bool:
        batch = self.messages.receive(1)
        if not batch:
            return False
        message = batch[0]
        if self._handle(message.body, message.receive_count):
            self.messages.delete(message.receipt_handle)
        else:
            self.messages.release(message.receipt_handle,
                                  delay_s=retry_delay_s * message.receive_count)
        return True

    def _handle(self, body: str, receive_count: int) -> bool:
        """Whether the message is done with (delivered, or never deliverable)."""
        try:
            event = NoticeEvent.from_json(body)
        except ValueError:
            logger.error("dropped a message that is not a notice event")
            return True
        try:
            self.deliver(event)
            return True
        except Exception:
            logger.exception("push for notice %s failed (delivery %d); it will be retried",
                             event.notice_id, receive_count)
            return False
