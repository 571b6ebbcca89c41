"""What members hear about: unread notices, their devices, and the push messages a notice
becomes. Plain records and rules: no I/O, no SDKs.

A notice *surfaces* when it is posted and again each time it is pinned after being unpinned
(``surfaced_at``). It is unread for a member when it surfaced after the member's last "seen"
instant and someone else wrote it; a member who never marked anything seen has every other
author's notice unread. The same moments are the ones pushed to members' devices
(``event_for``): a post, or a pin of a notice that was not pinned.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from noticebot.domain.models import Notice, utcnow

# Expo's push tokens: ExponentPushToken[...] (and the newer ExpoPushToken[...]). The inside is
# printable ASCII without brackets or backslash; the pattern serves JSON Schema and Python alike.
PUSH_TOKEN_PATTERN = r"^Expo(nent)?PushToken\[[!-Z^-~]{1,256}\]$"
PUSH_TOKEN_MAX = 280
_PUSH_TOKEN = re.compile(PUSH_TOKEN_PATTERN)
# Expo's push service takes at most this many messages in one request.
MAX_PUSH_BATCH = 100
# and at most this many receipt ids in one getReceipts request.
MAX_RECEIPT_BATCH = 1000
# Expo's receipts are ready within about 15 minutes of the send (and kept for a day); 15
# minutes is also the longest delay SQS gives a message.
RECEIPT_CHECK_DELAY_S = 15 * 60
RECEIPT_CHECK = "push.receipts"
SNIPPET_CHARS = 140


class Platform(str, enum.Enum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


class PushServiceUnavailable(Exception):
    """The push service could not take the messages now (network, HTTP 429 or 5xx): worth
    retrying later, as a whole."""


class PushRequestRefused(Exception):
    """The push service refused the request itself (HTTP 4xx): retrying the same request
    will not help."""


def is_push_token(token: str) -> bool:
    return len(token) <= PUSH_TOKEN_MAX and _PUSH_TOKEN.fullmatch(token) is not None


def device_id_for(workspace_id: str, token: str) -> str:
    """One id per (workspace, token): registering the same token again finds the same
    device. A hash, so the id reveals nothing of the token and differs between workspaces."""
    return hashlib.sha256(f"{workspace_id}\n{token}".encode()).hexdigest()[:32]


@dataclass
class Device:
    workspace_id: str
    device_id: str
    user_id: str
    token: str
    platform: Platform
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class MemberInbox:
    """A member's reading state in one workspace: what they have seen, whether they hear."""

    workspace_id: str
    user_id: str
    seen_at: datetime | None = None
    push_muted: bool = False


def surfaced_at(notice: Notice) -> datetime:
    if notice.pinned and notice.pinned_at is not None:
        return max(notice.created_at, notice.pinned_at)
    return notice.created_at


def is_unread(notice: Notice, user_id: str, seen_at: datetime | None) -> bool:
    if notice.author == user_id:
        return False
    return seen_at is None or surfaced_at(notice) > seen_at


class NoticeEventKind(str, enum.Enum):
    POSTED = "notice.posted"
    PINNED = "notice.pinned"


def event_for(before: Notice | None, after: Notice) -> NoticeEventKind | None:
    """What a write of ``after`` (over ``before``; None: a new notice) tells the members."""
    if before is None:
        return NoticeEventKind.POSTED
    if after.pinned and not before.pinned:
        return NoticeEventKind.PINNED
    return None


def with_pin(before: Notice | None, after: Notice, now: datetime) -> Notice:
    """``after`` with ``pinned_at`` kept, set (newly pinned) or cleared (unpinned)."""
    if not after.pinned:
        after.pinned_at = None
    elif before is None or not before.pinned:
        after.pinned_at = now
    else:
        after.pinned_at = before.pinned_at
    return after


@dataclass(frozen=True)
class NoticeEvent:
    """What the API publishes when a notice surfaces; the notifier reads the notice fresh."""

    kind: NoticeEventKind
    workspace_id: str
    notice_id: str
    author: str
    at: datetime

    def to_json(self) -> str:
        return json.dumps({"type": self.kind.value, "workspace_id": self.workspace_id,
                           "notice_id": self.notice_id, "author": self.author,
                           "at": self.at.isoformat()})

    @classmethod
    def from_json(cls, body: str) -> "NoticeEvent":
        """ValueError for a body that is not one (it will never become one: drop it)."""
        try:
            raw = json.loads(body)
            return cls(kind=NoticeEventKind(raw["type"]),
                       workspace_id=_text(raw["workspace_id"]), notice_id=_text(raw["notice_id"]),
                       author=str(raw.get("author", "")), at=datetime.fromisoformat(raw["at"]))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a notice event: {exc!r}") from None


def _text(value) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("a notice event names its workspace and notice")
    return value


# The Android notification channel the app creates (ANDROID_CHANNEL_ID in
# mobile/app/services/push/pushTokens.ts).
ANDROID_CHANNEL = "default"


@dataclass(frozen=True)
class PushMessage:
    to: str
    title: str
    body: str
    data: dict

    def wire(self) -> dict:
        """The message as Expo's push API takes it. ``channelId``: the Android channel the app
        creates (``default``, at high importance); ``priority`` high, so Android shows it as a
        banner at once rather than when the phone next wakes."""
        return {"to": self.to, "title": self.title, "body": self.body, "data": self.data,
                "sound": "default", "channelId": ANDROID_CHANNEL, "priority": "high"}


@dataclass(frozen=True)
class PushTicket:
    """Expo's answer for one message: ok (with a receipt id) or an error."""

    status: str
    id: str | None = None
    message: str = ""
    error: str = ""  # details.error, e.g. DeviceNotRegistered

    @property
    def device_gone(self) -> bool:
        return self.status == "error" and self.error == "DeviceNotRegistered"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit - 1].rsplit(" ", 1)[0] if " " in flat[:limit - 1] else flat[:limit - 1]
    return cut.rstrip(" ,.;:") + "…"


def message_for(notice: Notice, token: str) -> PushMessage:
    return PushMessage(to=token, title=notice.title, body=snippet(notice.body),
                       data={"workspace_id": notice.workspace_id, "notice_id": notice.notice_id})


@dataclass(frozen=True)
class ReceiptCheck:
    """Read Expo's receipts for pushes it accepted: a device can turn out unregistered only in
    its receipt (the ticket said ok), and Expo asks senders to stop pushing to such devices."""

    workspace_id: str
    tickets: dict[str, str]  # Expo's ticket id -> our device id

    def to_json(self) -> str:
        return json.dumps({"type": RECEIPT_CHECK, "workspace_id": self.workspace_id,
                           "tickets": self.tickets})

    @classmethod
    def from_json(cls, body: str) -> "ReceiptCheck":
        try:
            raw = json.loads(body)
            tickets = raw["tickets"]
            if raw["type"] != RECEIPT_CHECK or not isinstance(tickets, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in tickets.items()):
                raise ValueError("not a receipt check")
            return cls(workspace_id=_text(raw["workspace_id"]), tickets=tickets)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a receipt check: {exc!r}") from None


def notify_message(body: str) -> "NoticeEvent | ReceiptCheck":
    """What a message on the notify queue is; ValueError for neither (drop it)."""
    try:
        kind = json.loads(body).get("type")
    except (ValueError, AttributeError):
        raise ValueError("not a notify message") from None
    if kind == RECEIPT_CHECK:
        return ReceiptCheck.from_json(body)
    return NoticeEvent.from_json(body)
