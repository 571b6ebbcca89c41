"""Who hears of a notice, and when a notice is unread: the notification service and the
notice service's announcements, with fakes at the ports (push service, event queue) and the
in-memory SQLite store."""

from datetime import datetime, timedelta, timezone

import pytest

from contracts.metadata_store_contract import make_member
from fakes import FakeEmbedder, FakeNotifier, FakeVectorIndex, RecordingNoticeEvents
from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
from noticebot.domain.errors import NotFound, Unprocessable
from noticebot.domain.members import Role
from noticebot.domain.models import Principal
from noticebot.domain.notifications import NoticeEventKind, Platform, PushServiceUnavailable
from noticebot.services.notices import NoticeService
from noticebot.services.notifications import NotificationService

WS = "club"


def token(user: str) -> str:
    return f"ExponentPushToken[{user}]"


class Board:
    def __init__(self):
        self.store = SqliteMetadataStore(":memory:")
        self.events = RecordingNoticeEvents()
        self.notifier = FakeNotifier()
        self.notices = NoticeService(self.store, FakeVectorIndex(), FakeEmbedder(),
                                     events=self.events)
        self.notifications = NotificationService(self.store, self.notifier)

    def join(self, user, ws=WS, role=Role.MEMBER, device=True):
        self.store.join_member(make_member(ws=ws, user=user, role=role))
        if device:
            self.notifications.register_device(Principal(user, ws), token(user), Platform.IOS)
        return Principal(user, ws, is_editor=role == Role.EDITOR)

    def deliver_all(self):
        return [self.notifications.deliver(e) for e in self.events.published]

    def told(self) -> set[str]:
        return {m.to for m in self.notifier.messages}


@pytest.fixture
def board():
    return Board()


def test_a_post_reaches_every_other_active_unmuted_member_once(board):
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam")
    board.join("kim")
    board.join("gone")
    board.join("quiet")
    board.join("stranger", ws="other-club")
    board.notifications.set_muted(Principal("quiet", WS), True)
    board.store.remove_member(WS, "gone", removed_by="ed")
    notice = board.notices.create(ed, "Regatta", "Boats leave at 9. " * 20)
    assert [e.kind for e in board.events.published] == [NoticeEventKind.POSTED]
    [delivery] = board.deliver_all()
    assert board.told() == {token("sam"), token("kim")}  # not the author, muted, removed
    assert delivery.sent == 2
    message = board.notifier.messages[0]
    assert message.title == "Regatta" and message.data == {"workspace_id": WS,
                                                           "notice_id": notice.notice_id}
    assert message.body.startswith("Boats leave at 9.") and len(message.body) <= 140
    assert message.wire()["sound"] == "default"


def test_pinning_tells_again_but_a_pin_of_a_pinned_notice_and_other_edits_do_not(board):
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam")
    notice = board.notices.create(ed, "Dues", "Pay by Friday")
    board.notices.update(ed, notice.notice_id, title="Dues (reminder)")
    pinned = board.notices.update(ed, notice.notice_id, pinned=True)
    board.notices.update(ed, notice.notice_id, pinned=True)
    board.notices.update(ed, notice.notice_id, body="Pay by Saturday")
    assert [e.kind for e in board.events.published] == [NoticeEventKind.POSTED,
                                                        NoticeEventKind.PINNED]
    assert pinned.pinned_at is not None
    assert board.store.get_notice(WS, notice.notice_id).pinned_at == pinned.pinned_at
    board.notices.update(ed, notice.notice_id, pinned=False)
    assert board.store.get_notice(WS, notice.notice_id).pinned_at is None
    board.notices.update(ed, notice.notice_id, pinned=True)
    assert len(board.events.published) == 3


def test_a_workspace_never_pushes_to_another_workspaces_devices(board):
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam", ws="other-club")
    board.store.join_member(make_member(ws="other-club", user="ed"))
    board.notifications.register_device(Principal("ed", "other-club"), token("ed-other"),
                                        Platform.ANDROID)
    board.notices.create(ed, "Only ours", "b")
    [delivery] = board.deliver_all()
    assert board.notifier.sent == [] and delivery.skipped == "no member to tell"


def test_a_device_expo_no_longer_knows_is_removed(board):
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam")
    board.join("kim")
    board.notifier.gone = {token("kim")}
    board.notices.create(ed, "t", "b")
    [delivery] = board.deliver_all()
    assert (delivery.sent, delivery.removed_devices) == (1, 1)
    assert [d.user_id for d in board.store.list_devices(WS)] == ["ed", "sam"]


def test_an_unavailable_push_service_raises_for_the_queue_to_retry(board):
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam")
    board.notices.create(ed, "t", "b")
    board.notifier.fail = PushServiceUnavailable("503")
    with pytest.raises(PushServiceUnavailable):
        board.deliver_all()


def test_a_deleted_or_expired_notice_is_nobodys_push(board):
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam")
    gone = board.notices.create(ed, "t", "b")
    board.notices.delete(ed, gone.notice_id)
    soon = board.notices.create(ed, "t", "b",
                                expires_at=datetime.now(timezone.utc) + timedelta(seconds=30))
    board.notifications.clock = lambda: datetime.now(timezone.utc) + timedelta(minutes=1)
    assert [d.skipped for d in board.deliver_all()] == ["the notice was deleted",
                                                        "the notice has expired"]
    assert board.notifier.sent == [] and soon.notice_id


def test_a_failing_announcement_never_fails_the_notice(board):
    ed = board.join("ed", role=Role.EDITOR)
    board.notices.events = RecordingNoticeEvents(fail=ConnectionError("queue down"))
    notice = board.notices.create(ed, "Still posted", "b")
    assert board.store.get_notice(WS, notice.notice_id).title == "Still posted"


def test_unread_is_what_others_posted_or_pinned_since_the_member_last_saw_the_board(board):
    ed = board.join("ed", role=Role.EDITOR)
    sam = board.join("sam")
    first = board.notices.create(ed, "First", "b")
    assert board.notifications.unread_count(sam) == 1
    assert board.notifications.unread_count(ed) == 0  # the author's own
    board.notifications.mark_seen(sam)
    assert board.notifications.unread_count(sam) == 0
    board.notices.create(ed, "Second", "b")
    board.notices.update(ed, first.notice_id, pinned=True)
    notices = board.notices.list(sam)
    assert board.notifications.unread_flags(sam, notices) == [True, True]
    assert board.notifications.unread_count(Principal("sam", "other-club")) == 0


def test_devices_are_validated_and_removed_by_their_owner_only(board):
    sam = board.join("sam", device=False)
    with pytest.raises(Unprocessable):
        board.notifications.register_device(sam, "not-a-token", Platform.IOS)
    device = board.notifications.register_device(sam, token("sam"), Platform.WEB)
    with pytest.raises(NotFound):
        board.notifications.delete_device(Principal("kim", WS), device.device_id)
    with pytest.raises(NotFound):
        board.notifications.delete_device(Principal("sam", "other-club"), device.device_id)
    board.notifications.delete_device(sam, device.device_id)
    assert board.notifications.list_devices(sam) == []


# ---------------------------------------------------------------- receipts
def test_accepted_pushes_are_checked_later_and_devices_gone_by_then_are_forgotten():
    board = Board()
    board.notifications = NotificationService(board.store, board.notifier, events=board.events,
                                              receipt_delay_s=600)
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam")
    board.join("kim")
    board.join("old")
    board.notifier.gone = {token("old")}  # refused at once: its ticket says so
    board.notifier.gone_later = {token("kim")}  # accepted, then its receipt says so
    board.notices.create(ed, "Regatta", "Boats at 9")
    [delivery] = board.deliver_all()
    assert (delivery.sent, delivery.removed_devices, delivery.receipts_queued) == (2, 1, 2)
    [(check, delay)] = board.events.receipt_checks
    assert delay == 600 and check.workspace_id == WS
    # only the accepted tickets are checked, each mapped to its device
    assert sorted(board.notifier.ticketed[t] for t in check.tickets) == [token("kim"),
                                                                         token("sam")]
    assert board.notifications.check_receipts(check) == 1
    assert sorted(d.user_id for d in board.store.list_devices(WS)) == ["ed", "sam"]  # the author's stays
    assert board.notifications.check_receipts(check) == 0  # a redelivered check: nothing new


def test_a_receipt_check_that_cannot_be_queued_does_not_fail_the_sent_pushes():
    board = Board()
    events = RecordingNoticeEvents(fail=RuntimeError("queue down"))
    board.notifications = NotificationService(board.store, board.notifier, events=events)
    ed = board.join("ed", role=Role.EDITOR)
    board.join("sam")
    board.notices.create(ed, "Regatta", "Boats at 9")
    [delivery] = [board.notifications.deliver(e) for e in board.events.published]
    assert (delivery.sent, delivery.receipts_queued) == (1, 0)


def test_receipts_the_service_cannot_read_now_are_retried_by_the_queue():
    board = Board()
    board.notifier.fail = PushServiceUnavailable("503")
    from noticebot.domain.notifications import ReceiptCheck

    with pytest.raises(PushServiceUnavailable):
        board.notifications.check_receipts(ReceiptCheck(WS, {"t-0": "device"}))
