"""What members hear about new and newly pinned notices: their unread marker, their devices,
their mute, and the push messages a surfaced notice becomes (``domain.notifications`` has
the rules).

Sending runs off the request path: ``NoticeService`` publishes a ``NoticeEvent`` once the
notice is stored (``NoticeEvents``: SQS on AWS, a durable local queue), and the notifier
(the notify Lambda, the local queue's worker) calls ``deliver``. ``deliver`` reads the
notice and the roster then, so a notice deleted or a member removed meanwhile is nobody's
push. It raises ``PushServiceUnavailable`` for the queue to retry the event; a redelivery
sends the whole event again, so a failure after part of a large workspace was sent can
repeat a push to that part (Expo has no idempotency key).

Expo accepts a push to a phone that has since dropped the app (the ticket says ok) and says
so only in the push's receipt, ready some minutes later. So the tickets Expo accepted are
queued as a ``ReceiptCheck`` for ``RECEIPT_CHECK_DELAY_S`` later, and ``check_receipts`` then
forgets the devices whose receipts say ``DeviceNotRegistered`` (Expo asks senders to stop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from noticebot.domain.errors import NotFound, Unprocessable
from noticebot.domain.members import is_personal
from noticebot.domain.models import Notice, Principal, utcnow
from noticebot.domain.notifications import (
    Device,
    NoticeEvent,
    Platform,
    PushMessage,
    RECEIPT_CHECK_DELAY_S,
    PushRequestRefused,
    PushTicket,
    ReceiptCheck,
    device_id_for,
    is_push_token,
    is_unread,
    message_for,
)
from noticebot.ports import MetadataStore
from noticebot.ports.notifier import NoticeEvents, Notifier

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What ``deliver`` did with one event."""

    sent: int = 0
    failed: int = 0  # error tickets
    removed_devices: int = 0  # DeviceNotRegistered
    receipts_queued: int = 0  # accepted tickets whose receipts will be read
    skipped: str = ""  # why nothing was sent, when nothing was


class NotificationService:
    def __init__(self, metadata: MetadataStore, notifier: Notifier | None = None, *,
                 events: NoticeEvents | None = None,
                 receipt_delay_s: float = RECEIPT_CHECK_DELAY_S,
                 clock: Callable[[], datetime] = utcnow):
        """``notifier``: None where no push service is configured (events are dropped).
        ``events``: where receipt checks are queued (None: receipts are not read)."""
        self.metadata = metadata
        self.notifier = notifier
        self.events = events
        self.receipt_delay_s = receipt_delay_s
        self.clock = clock

    # ------------------------------------------------------------ unread
    def _seen_at(self, principal: Principal) -> datetime | None:
        inbox = self.metadata.get_inbox(principal.workspace_id, principal.user_id)
        return inbox.seen_at if inbox else None

    def unread_flags(self, principal: Principal, notices: Sequence[Notice]) -> list[bool]:
        seen_at = self._seen_at(principal)
        return [is_unread(n, principal.user_id, seen_at) for n in notices]

    def unread_count(self, principal: Principal) -> int:
        return self._unread_count(principal, self._seen_at(principal))

    def _unread_count(self, principal: Principal, seen_at: datetime | None) -> int:
        now = self.clock()
        board = self.metadata.list_notices(principal.workspace_id, bodies=False)
        return sum(is_unread(n, principal.user_id, seen_at) for n in board
                   if not n.is_expired(now))

    def inbox_summary(self, principal: Principal) -> tuple[int, bool]:
        """(unread count, pushes muted) from one read of the member's inbox: what every
        ``GET /api/me`` shows."""
        inbox = self.metadata.get_inbox(principal.workspace_id, principal.user_id)
        return (self._unread_count(principal, inbox.seen_at if inbox else None),
                bool(inbox and inbox.push_muted))

    def mark_seen(self, principal: Principal) -> None:
        self.metadata.mark_seen(principal.workspace_id, principal.user_id, self.clock())

    # ------------------------------------------------------------ mute
    def push_muted(self, principal: Principal) -> bool:
        inbox = self.metadata.get_inbox(principal.workspace_id, principal.user_id)
        return bool(inbox and inbox.push_muted)

    def set_muted(self, principal: Principal, muted: bool) -> bool:
        self.metadata.set_push_muted(principal.workspace_id, principal.user_id, muted)
        return muted

    # ------------------------------------------------------------ devices
    def register_device(self, principal: Principal, token: str, platform: Platform) -> Device:
        token = token.strip()
        if not is_push_token(token):
            raise Unprocessable("expo_push_token: not an Expo push token "
                                "(ExponentPushToken[...])")
        return self.metadata.register_device(Device(
            workspace_id=principal.workspace_id,
            device_id=device_id_for(principal.workspace_id, token), user_id=principal.user_id,
            token=token, platform=Platform(platform), created_at=self.clock()))

    def list_devices(self, principal: Principal) -> list[Device]:
        return self.metadata.list_devices(principal.workspace_id, principal.user_id)

    def delete_device(self, principal: Principal, device_id: str) -> None:
        if not self.metadata.delete_device(principal.workspace_id, device_id,
                                           principal.user_id):
            raise NotFound(f"device {device_id} not found")

    # ------------------------------------------------------------ pushes
    def recipients(self, notice: Notice) -> list[Device]:
        """Devices of the workspace's active members, but the author's and muted members'."""
        ws = notice.workspace_id
        if is_personal(ws):
            return []  # its only member is the author
        muted = {i.user_id for i in self.metadata.list_inboxes(ws) if i.push_muted}
        hearing = {m.user_id for m in self.metadata.list_members(ws)
                   if m.active and m.user_id != notice.author and m.user_id not in muted}
        return [d for d in self.metadata.list_devices(ws) if d.user_id in hearing]

    def deliver(self, event: NoticeEvent) -> Delivery:
        notice = self.metadata.get_notice(event.workspace_id, event.notice_id)
        if notice is None:
            return Delivery(skipped="the notice was deleted")
        if notice.is_expired(self.clock()):
            return Delivery(skipped="the notice has expired")
        devices = self.recipients(notice)
        if not devices:
            return Delivery(skipped="no member to tell")
        if self.notifier is None:
            return Delivery(skipped="no push service configured")
        messages = [message_for(notice, d.token) for d in devices]
        try:
            tickets = self.notifier.send(messages)
        except PushRequestRefused as exc:  # the same request would be refused again
            logger.error("the push service refused notice %s's messages: %s",
                         notice.notice_id, exc)
            return Delivery(failed=len(messages))
        return self._settle(notice, devices, messages, tickets)

    def _settle(self, notice: Notice, devices: list[Device], messages: list[PushMessage],
                tickets) -> Delivery:
        sent = failed = removed = 0
        for device, ticket in zip(devices, tickets):
            if ticket.status == "ok":
                sent += 1
                continue
            failed += 1
            if ticket.device_gone and self.metadata.delete_device(notice.workspace_id,
                                                                  device.device_id):
                removed += 1
            else:
                logger.warning("push to device %s failed: %s %s", device.device_id,
                               ticket.error, ticket.message)
        logger.info("notice %s pushed to %d device(s), %d failed, %d removed",
                    notice.notice_id, sent, failed, removed)
        accepted = {t.id: d.device_id for d, t in zip(devices, tickets)
                    if t.status == "ok" and t.id}
        queued = self._check_receipts_later(notice.workspace_id, accepted)
        return Delivery(sent=sent, failed=failed, removed_devices=removed,
                        receipts_queued=queued)

    def _check_receipts_later(self, workspace_id: str, accepted: dict[str, str]) -> int:
        """Best effort: the pushes went out, and failing the event here would send them
        all again."""
        if self.events is None or not accepted or not self.notifier.has_receipts:
            return 0
        try:
            self.events.check_receipts_later(ReceiptCheck(workspace_id, accepted),
                                              self.receipt_delay_s)
        except Exception:
            logger.warning("could not queue the receipt check of %d push(es)", len(accepted),
                           exc_info=True)
            return 0
        return len(accepted)

    def check_receipts(self, check: ReceiptCheck) -> int:
        """Forgets the devices Expo's receipts say are not registered; how many it forgot.
        Raises ``PushServiceUnavailable`` for the queue to retry the check."""
        if self.notifier is None or not check.tickets:
            return 0
        receipts: dict[str, PushTicket] = self.notifier.receipts(list(check.tickets))
        removed = 0
        for ticket_id, receipt in receipts.items():
            device_id = check.tickets.get(ticket_id)
            if receipt.device_gone and device_id and self.metadata.delete_device(
                    check.workspace_id, device_id):
                removed += 1
            elif receipt.status != "ok":
                logger.warning("push %s was not delivered: %s %s", ticket_id, receipt.error,
                               receipt.message)
        return removed
