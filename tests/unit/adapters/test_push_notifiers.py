"""The Expo push client and the local outbox against a fake Expo push server on 127.0.0.1 that
checks the real request shape."""

import json

import pytest

from fake_push_server import FakePushServer
from noticebot.adapters.local.http_push_notifier import HttpPushNotifier
from noticebot.adapters.local.outbox_notifier import OutboxNotifier
from noticebot.domain.notifications import (
    PushMessage,
    PushRequestRefused,
    PushServiceUnavailable,
)


def message(n: int) -> PushMessage:
    return PushMessage(to=f"ExponentPushToken[t{n}]", title="Regatta", body="Saturday 9:00",
                       data={"workspace_id": "ws1", "notice_id": "n1"})


def test_messages_go_in_requests_of_at_most_100_with_expos_headers():
    with FakePushServer() as server:
        tickets = HttpPushNotifier(server.url).send([message(n) for n in range(150)])
    assert server.problems == []
    assert [len(r["messages"]) for r in server.requests] == [100, 50]
    assert len(tickets) == 150 and {t.status for t in tickets} == {"ok"}
    assert tickets[0].id and "Authorization" not in server.requests[0]["headers"]
    assert server.messages[149] == {"to": "ExponentPushToken[t149]", "title": "Regatta",
                                    "body": "Saturday 9:00", "sound": "default",
                                    "channelId": "default", "priority": "high",
                                    "data": {"workspace_id": "ws1", "notice_id": "n1"}}


def test_an_access_token_is_sent_as_a_bearer_token_and_tickets_say_which_device_is_gone():
    with FakePushServer(gone={"ExponentPushToken[t1]"}, gzip_answers=False) as server:
        tickets = HttpPushNotifier(server.url, access_token=lambda: "s3cret").send(
            [message(0), message(1)])
    assert server.requests[0]["headers"]["Authorization"] == "Bearer s3cret"
    assert [t.status for t in tickets] == ["ok", "error"]
    assert tickets[1].device_gone and tickets[1].error == "DeviceNotRegistered"
    assert not tickets[0].device_gone


@pytest.mark.parametrize("status, error", [(503, PushServiceUnavailable),
                                           (429, PushServiceUnavailable),
                                           (400, PushRequestRefused)])
def test_http_failures_say_whether_a_retry_can_help(status, error):
    with FakePushServer() as server:
        server.fail_with.append(status)
        with pytest.raises(error):
            HttpPushNotifier(server.url).send([message(0)])


def test_an_unreachable_service_is_unavailable_not_a_crash():
    with FakePushServer() as server:
        url = server.url
    with pytest.raises(PushServiceUnavailable):
        HttpPushNotifier(url, timeout_s=2).send([message(0)])


def test_the_outbox_records_without_a_url_and_forwards_with_one(tmp_path):
    outbox = OutboxNotifier(tmp_path / "outbox.jsonl")
    assert [t.status for t in outbox.send([message(0)])] == ["ok"]
    recorded = outbox.recorded()
    assert recorded[0]["message"]["to"] == "ExponentPushToken[t0]"
    assert recorded[0]["message"]["sound"] == "default"
    with FakePushServer(gone={"ExponentPushToken[t2]"}) as server:
        forwarding = OutboxNotifier(tmp_path / "sent.jsonl", forward=HttpPushNotifier(server.url))
        tickets = forwarding.send([message(1), message(2)])
    assert [m["to"] for m in server.messages] == ["ExponentPushToken[t1]",
                                                  "ExponentPushToken[t2]"]
    assert [t.status for t in tickets] == ["ok", "error"]
    lines = [json.loads(x) for x in (tmp_path / "sent.jsonl").read_text().splitlines()]
    assert [line["ticket"]["error"] for line in lines] == ["", "DeviceNotRegistered"]


def test_the_outbox_records_nothing_when_the_service_is_down(tmp_path):
    with FakePushServer() as server:
        server.fail_with.append(502)
        outbox = OutboxNotifier(tmp_path / "o.jsonl", forward=HttpPushNotifier(server.url))
        with pytest.raises(PushServiceUnavailable):
            outbox.send([message(0)])
    assert outbox.recorded() == []


def test_receipts_are_read_in_requests_of_at_most_1000_and_say_which_device_went_later():
    with FakePushServer(gone_later={"ExponentPushToken[t1]"}) as server:
        notifier = HttpPushNotifier(server.url)
        tickets = notifier.send([message(0), message(1)])
        ids = [t.id for t in tickets] + [f"unknown-{n}" for n in range(1200)]
        receipts = notifier.receipts(ids)
    assert server.problems == []
    assert [len(r) for r in server.receipt_requests] == [1000, 202]
    assert set(receipts) == {tickets[0].id, tickets[1].id}  # none yet for the others
    assert receipts[tickets[0].id].status == "ok"
    assert receipts[tickets[1].id].device_gone


def test_the_outbox_reads_receipts_only_where_it_forwards(tmp_path):
    assert OutboxNotifier(tmp_path / "o.jsonl").has_receipts is False
    assert OutboxNotifier(tmp_path / "o.jsonl").receipts(["local-1"]) == {}
    with FakePushServer(gone_later={"ExponentPushToken[t0]"}) as server:
        forwarding = OutboxNotifier(tmp_path / "f.jsonl", forward=HttpPushNotifier(server.url))
        assert forwarding.has_receipts is True
        [ticket] = forwarding.send([message(0)])
        assert forwarding.receipts([ticket.id])[ticket.id].device_gone
