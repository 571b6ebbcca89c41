"""The local NoticeEvents: the notifier's queue, as SQS is on AWS.

A published event goes into a durable queue (``noticebot-notify`` in the data folder's
``queue.sqlite3``) fed by an on-demand ``QueueWorker`` to the same notify handler the AWS
function runs (``local_stack.connect_events`` points it there), so posting a notice never
waits for a push service. A failed delivery comes back after a delay that grows with each
receive and is dead-lettered after the queue's ``max_receives``.
"""

from __future__ import annotations

from pathlib import Path

from noticebot.adapters.local.queue_worker import QueueWorker
from noticebot.adapters.local.sqlite_queue import SqliteQueue
from noticebot.domain.notifications import NoticeEvent, ReceiptCheck
from noticebot.ports.notifier import NoticeEvents

NOTIFY_QUEUE = "noticebot-notify"


class QueuedNoticeEvents(NoticeEvents):
    def __init__(self, worker: QueueWorker):
        self.worker = worker

    @classmethod
    def in_folder(cls, queue_file: Path, *, visibility_timeout_s: float, max_receives: int,
                  retry_delay_s: float = 5.0, on_demand: bool = True) -> QueuedNoticeEvents:
        """``on_demand`` False: nothing delivers until the caller drains (tests)."""
        messages = SqliteQueue(queue_file, name=NOTIFY_QUEUE,
                               visibility_timeout_s=visibility_timeout_s,
                               max_receives=max_receives)
        # Pushes are a few small requests: no reason to run them at a lower priority.
        return cls(QueueWorker(messages, retry_delay_s=retry_delay_s, nice=0,
                               name="notify-worker", on_demand=on_demand))

    @property
    def messages(self) -> SqliteQueue:
        return self.worker.messages

    def publish(self, event: NoticeEvent) -> None:
        self.worker.send(event.to_json())

    def check_receipts_later(self, check: ReceiptCheck, delay_s: float) -> None:
        self.worker.send(check.to_json(), delay_s=delay_s)

    def drain(self) -> None:
        """Delivers everything visible now, retries at once (tests, the CLI)."""
        self.worker.drain()
