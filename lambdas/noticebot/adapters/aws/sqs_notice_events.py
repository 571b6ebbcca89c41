"""NoticeEvents on Amazon SQS: the API function sends one message per surfaced notice to the
notify queue, which the notify function consumes (``handlers.notify``); the notify function
sends itself delayed receipt checks through the same queue.

Why SQS and not EventBridge: the event has exactly one consumer, and what it needs is what an
SQS event source gives without more parts: retries with a visibility timeout while Expo is
down, a dead-letter queue after N receives, batching, and a cap on the notify function's
concurrency (Expo limits how fast a project may send). EventBridge would add a rule and still
want a queue in front of the function for the same retries and buffering; it becomes the
better choice once a second consumer (e-mail digests, webhooks) wants notice events, and the
queue can then subscribe to a bus without the API changing. Locally the same contract is a
durable SQLite queue (``adapters.local.notifier_queue``).
"""

from __future__ import annotations

from noticebot.adapters.aws.clients import ClientSource, lazy
from noticebot.domain.notifications import NoticeEvent, ReceiptCheck
from noticebot.ports.notifier import NoticeEvents


class SqsNoticeEvents(NoticeEvents):
    def __init__(self, queue_url: str, client: ClientSource):
        if not queue_url:
            raise ValueError("the notify queue's URL is required (NOTICEBOT_NOTIFY_QUEUE_URL)")
        self.queue_url = queue_url
        self._client = lazy(client)

    def publish(self, event: NoticeEvent) -> None:
        self._client().send_message(QueueUrl=self.queue_url, MessageBody=event.to_json())

    def check_receipts_later(self, check: ReceiptCheck, delay_s: float) -> None:
        # The notify function sends these to its own queue; SQS delays a message 15 min at most.
        self._client().send_message(QueueUrl=self.queue_url, MessageBody=check.to_json(),
                                    DelaySeconds=max(0, min(900, int(delay_s))))
