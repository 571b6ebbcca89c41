"""The AWS side of pushes: the Expo access token from Secrets Manager (read once, never
logged), notice events sent to SQS, the notify handler over a real SQS event, and the aws
composition root's wiring. Every AWS request is checked against the service model
(botocore Stubber); moto carries the SQS round trip."""

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from contracts.metadata_store_contract import make_member
from fake_push_server import FakePushServer
from fakes import FakeNotifier
from noticebot.adapters.aws.expo_push_notifier import SecretsManagerToken, expo_push_notifier
from noticebot.adapters.aws.sqs_notice_events import SqsNoticeEvents
from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
from noticebot.domain.models import Notice
from noticebot.domain.notifications import (
    NoticeEvent,
    NoticeEventKind,
    Platform,
    PushMessage,
    PushServiceUnavailable,
    ReceiptCheck,
)
from noticebot.domain.models import Principal
from noticebot.handlers import notify
from noticebot.services.notifications import NotificationService

EVENT = json.loads((Path(__file__).parents[2] / "fixtures" / "events"
                    / "sqs_notice_event.json").read_text())
SECRET = "noticebot/dev/expo-access-token"


def secrets_client():
    return boto3.client("secretsmanager", region_name="us-east-1")


def test_the_access_token_is_read_once_and_sent_as_bearer_but_never_logged(caplog):
    client = secrets_client()
    with Stubber(client) as stub, FakePushServer() as server:
        stub.add_response("get_secret_value", {"SecretString": '{"access_token": "tok-123"}',
                                               "Name": SECRET}, {"SecretId": SECRET})
        notifier = expo_push_notifier(server.url, SECRET, client)
        message = PushMessage("ExponentPushToken[a]", "t", "b", {"notice_id": "n"})
        with caplog.at_level(logging.DEBUG):
            notifier.send([message])
            notifier.send([message])
        stub.assert_no_pending_responses()  # one read for both sends
    assert [r["headers"]["Authorization"] for r in server.requests] == ["Bearer tok-123"] * 2
    assert "tok-123" not in caplog.text


def test_an_unreadable_secret_is_a_retryable_failure_that_names_no_secret_value():
    client = secrets_client()
    with Stubber(client) as stub:
        stub.add_client_error("get_secret_value", "AccessDeniedException",
                              expected_params={"SecretId": SECRET})
        with pytest.raises(PushServiceUnavailable, match="AccessDeniedException"):
            SecretsManagerToken(SECRET, client)()
    assert SecretsManagerToken("", client)() is None  # no secret configured: no header


def test_a_notice_event_is_one_sqs_message_with_the_event_json(aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="noticebot-notify")["QueueUrl"]
    event = NoticeEvent(NoticeEventKind.PINNED, "riverside", "n1", "maria",
                        Notice("riverside", "n1", "t", "b", "maria").created_at)
    with Stubber(sqs) as stub:
        stub.add_response("send_message", {"MessageId": "m1"},
                          {"QueueUrl": url, "MessageBody": event.to_json()})
        SqsNoticeEvents(url, sqs).publish(event)
    SqsNoticeEvents(url, sqs).publish(event)  # through moto, back out again
    [received] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert NoticeEvent.from_json(received["Body"]) == event


def test_a_receipt_check_is_a_message_delayed_as_long_as_sqs_allows(aws):
    from noticebot.domain.notifications import notify_message

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="noticebot-notify")["QueueUrl"]
    check = ReceiptCheck("riverside", {"ticket-1": "device-1"})
    with Stubber(sqs) as stub:
        stub.add_response("send_message", {"MessageId": "m1"},
                          {"QueueUrl": url, "MessageBody": check.to_json(), "DelaySeconds": 900})
        SqsNoticeEvents(url, sqs).check_receipts_later(check, 3600)  # capped at 15 minutes
    SqsNoticeEvents(url, sqs).check_receipts_later(check, 0)
    [received] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert notify_message(received["Body"]) == check


def handler_container(fail=None):
    store = SqliteMetadataStore(":memory:")
    store.put_notice(Notice("riverside", "n-regatta", "Regatta", "Boats at 9", "maria"))
    for user in ("maria", "sam"):
        store.join_member(make_member(ws="riverside", user=user))
    notifier = FakeNotifier(fail=fail)
    notifications = NotificationService(store, notifier)
    notifications.register_device(Principal("sam", "riverside"), "ExponentPushToken[sam]",
                                  Platform.ANDROID)
    return SimpleNamespace(notifications=notifications), notifier


def test_the_notify_handler_pushes_each_event_and_drops_what_is_not_one():
    container, notifier = handler_container()
    assert notify.handle(EVENT, container) == {"batchItemFailures": []}
    assert [(m.to, m.title) for m in notifier.messages] == [("ExponentPushToken[sam]",
                                                             "Regatta")]


def test_the_notify_handler_reads_receipts_and_forgets_the_devices_gone():
    container, notifier = handler_container()
    notify.handle(EVENT, container)
    [ticket_id] = notifier.ticketed
    notifier.gone_later = {"ExponentPushToken[sam]"}
    check = ReceiptCheck("riverside", {ticket_id: container.notifications.list_devices(
        Principal("sam", "riverside"))[0].device_id})
    record = {**EVENT["Records"][0], "messageId": "check-1", "body": check.to_json()}
    assert notify.handle({"Records": [record]}, container) == {"batchItemFailures": []}
    assert notifier.receipt_requests == [[ticket_id]]
    assert container.notifications.list_devices(Principal("sam", "riverside")) == []


def test_the_notify_handler_hands_an_unsent_event_back_to_the_queue():
    container, _ = handler_container(fail=PushServiceUnavailable("503"))
    result = notify.handle(EVENT, container)
    assert result == {"batchItemFailures": [{"itemIdentifier": EVENT["Records"][0]["messageId"]}]}


def test_the_aws_root_wires_expo_and_the_queue_from_the_environment(aws):
    from noticebot.bootstrap_aws import bootstrap_aws
    from noticebot.config import Settings
    from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex

    settings = Settings(mode="aws", table="noticebot-test", bucket="b", search_endpoint="x",
                        notify_queue_url="https://sqs.us-east-1.amazonaws.com/1/notify",
                        push_token_secret=SECRET)
    c = bootstrap_aws(settings, embedder=FakeEmbedder(), chat_model=FakeChatModel(),
                      index=FakeVectorIndex(), metadata=SqliteMetadataStore(":memory:"))
    assert c.notice_events.queue_url.endswith("/notify")
    assert c.notices.events is c.notice_events
    notifier = c.notifications.notifier
    assert notifier.url == "https://exp.host/--/api/v2/push/send"
    assert notifier.access_token.secret_id == SECRET
    bare = bootstrap_aws(Settings(mode="aws", table="t", bucket="b", search_endpoint="x"),
                         embedder=FakeEmbedder(), chat_model=FakeChatModel(),
                         index=FakeVectorIndex(), metadata=SqliteMetadataStore(":memory:"))
    assert bare.notice_events is None and bare.notices.events is None
