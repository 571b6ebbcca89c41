"""Push notifications: two outside systems, one port each.

``Notifier``: the push service (Expo's; locally an outbox that records, and posts to a URL
when one is configured). ``NoticeEvents``: where a surfaced notice is announced so that
sending happens off the request path (SQS on AWS; a durable local queue with a worker thread).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from noticebot.domain.notifications import NoticeEvent, PushMessage, PushTicket, ReceiptCheck


class Notifier(ABC):
    # Whether ``receipts`` can say anything: no receipt check is queued for a service without.
    has_receipts: bool = False

    @abstractmethod
    def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        """One ticket per message, in order. Splits into requests of at most
        ``MAX_PUSH_BATCH`` itself. Raises ``PushServiceUnavailable`` when the service could not
        take them now (retry later) and ``PushRequestRefused`` when it refused the request."""

    def receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushTicket]:
        """The receipts the service has for these tickets (those it has none for yet are
        absent), with the same errors as ``send``. A service without receipts has none."""
        return {}


class NoticeEvents(ABC):
    @abstractmethod
    def publish(self, event: NoticeEvent) -> None:
        """Queues the event for the notifier; returns once it is durably queued."""

    @abstractmethod
    def check_receipts_later(self, check: ReceiptCheck, delay_s: float) -> None:
        """Queues the receipt check, to be delivered after ``delay_s``."""
