"""Unread markers, mutes and devices through the API handler, with tenancy across workspaces,
and a notice's push through the local stack: queued off the request path, delivered by the
notify queue's consumer to a fake Expo push service."""

import pytest

from apiclient import ApiClient, claims_for
from fake_push_server import FakePushServer
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.adapters.local.notifier_queue import QueuedNoticeEvents
from noticebot.config import Settings
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for

TOKEN = "ExponentPushToken[sam-phone]"


def stack(tmp_path, push_url=""):
    data = tmp_path / "data"
    events = QueuedNoticeEvents.in_folder(data / "queue.sqlite3", visibility_timeout_s=120,
                                          max_receives=2, on_demand=False)
    container = local_stack(Settings(data_dir=data, push_url=push_url),
                            embedder=FakeEmbedder(), chat_model=FakeChatModel(),
                            index=FakeVectorIndex(), notice_events=events)
    return container, ApiClient(handler_for(container))


@pytest.fixture
def board(tmp_path):
    return stack(tmp_path)


def post(api, claims, title="Regatta", **extra):
    status, body = api.call("POST", "/api/notices", {"title": title, "body": "b", **extra},
                            claims=claims)
    assert status == 201, body
    return body


def test_notices_are_unread_until_the_member_marks_the_board_seen(board, editor, member):
    _, api = board
    assert api.call("GET", "/api/me", claims=member)[1]["unread_notices"] == 0
    mine = post(api, editor, "First")
    assert mine["unread"] is False
    status, listed = api.call("GET", "/api/notices", claims=member)
    assert status == 200 and [n["unread"] for n in listed["notices"]] == [True]
    assert api.call("GET", "/api/notices", claims=editor)[1]["notices"][0]["unread"] is False
    me = api.call("GET", "/api/me", claims=member)[1]
    assert (me["unread_notices"], me["push_muted"]) == (1, False)
    assert api.call("POST", "/api/notices/seen", claims=member)[0] == 204
    assert api.call("GET", "/api/me", claims=member)[1]["unread_notices"] == 0
    second = post(api, editor, "Second")
    api.call("PATCH", f"/api/notices/{mine['notice_id']}", {"pinned": True}, claims=editor)
    listed = api.call("GET", "/api/notices", claims=member)[1]["notices"]
    assert {n["title"]: n["unread"] for n in listed} == {"First": True, "Second": True}
    got = api.call("GET", f"/api/notices/{second['notice_id']}", claims=member)[1]
    assert got["unread"] is True
    # another workspace's member sees neither the notices nor a count of them
    outsider = claims_for("eve", "other-club")
    assert api.call("GET", "/api/me", claims=outsider)[1]["unread_notices"] == 0


def test_muting_is_per_member_and_per_workspace(board, member):
    _, api = board
    status, body = api.call("PUT", "/api/me/notifications", {"muted": True}, claims=member)
    assert (status, body) == (200, {"muted": True})
    assert api.call("GET", "/api/me", claims=member)[1]["push_muted"] is True
    assert api.call("GET", "/api/me", claims=claims_for("sam", "other-club"))[1][
        "push_muted"] is False
    assert api.call("PUT", "/api/me/notifications", {"muted": "yes"}, claims=member)[0] == 422
    assert api.call("PUT", "/api/me/notifications", {"muted": False},
                    claims=member)[1] == {"muted": False}


def test_devices_are_the_callers_own_and_a_token_moves_to_whoever_registers_it(
        board, editor, member):
    _, api = board
    status, device = api.call("POST", "/api/devices",
                              {"expo_push_token": TOKEN, "platform": "ios"}, claims=member)
    assert status == 201 and set(device) == {"device_id", "platform", "created_at"}
    status, again = api.call("POST", "/api/devices",
                             {"expo_push_token": TOKEN, "platform": "ios"}, claims=member)
    assert status == 201 and again == device
    assert [d["device_id"] for d in api.call("GET", "/api/devices", claims=member)[1][
        "devices"]] == [device["device_id"]]
    assert api.call("GET", "/api/devices", claims=editor)[1]["devices"] == []
    assert api.call("DELETE", f"/api/devices/{device['device_id']}", claims=editor)[0] == 404
    # the same phone registered in another workspace is another device there
    elsewhere = claims_for("sam", "other-club")
    other = api.call("POST", "/api/devices", {"expo_push_token": TOKEN, "platform": "ios"},
                     claims=elsewhere)[1]
    assert other["device_id"] != device["device_id"]
    assert api.call("DELETE", f"/api/devices/{device['device_id']}", claims=elsewhere)[0] == 404
    # handed on: the editor registers the same token and it is theirs
    api.call("POST", "/api/devices", {"expo_push_token": TOKEN, "platform": "android"},
             claims=editor)
    assert api.call("GET", "/api/devices", claims=member)[1]["devices"] == []
    assert [d["platform"] for d in api.call("GET", "/api/devices", claims=editor)[1][
        "devices"]] == ["android"]
    assert api.call("DELETE", f"/api/devices/{device['device_id']}", claims=editor)[0] == 204
    assert api.call("GET", "/api/devices", claims=editor)[1]["devices"] == []


@pytest.mark.parametrize("body", [
    {"expo_push_token": "abc", "platform": "ios"},
    {"expo_push_token": "ExponentPushToken[]", "platform": "ios"},
    {"expo_push_token": TOKEN, "platform": "blackberry"},
    {"expo_push_token": TOKEN},
])
def test_a_device_needs_an_expo_token_and_a_known_platform(board, member, body):
    _, api = board
    status, error = api.call("POST", "/api/devices", body, claims=member)
    assert status == 422 and error["error"]["code"] == "validation_error"


def test_a_post_is_pushed_after_the_request_to_the_other_members_devices(tmp_path, editor,
                                                                          member):
    with FakePushServer(gone={"ExponentPushToken[kim-old]"}) as server:
        container, api = stack(tmp_path, push_url=server.url)
        kim = claims_for("kim", "riverside")
        for claims, token in ((member, TOKEN), (kim, "ExponentPushToken[kim-old]"),
                              (editor, "ExponentPushToken[maria]")):
            api.call("POST", "/api/devices", {"expo_push_token": token, "platform": "ios"},
                     claims=claims)
        notice = post(api, editor, "Regatta moved")
        assert server.requests == []  # nothing sent on the request path
        container.notice_events.drain()
    assert server.problems == []
    assert sorted(m["to"] for m in server.messages) == ["ExponentPushToken[kim-old]", TOKEN]
    assert server.messages[0]["data"] == {"workspace_id": "riverside",
                                          "notice_id": notice["notice_id"]}
    assert api.call("GET", "/api/devices", claims=kim)[1]["devices"] == []  # not registered
    recorded = container.notifications.notifier.recorded()
    assert {r["message"]["to"] for r in recorded} == {TOKEN, "ExponentPushToken[kim-old]"}


def test_without_a_url_pushes_are_recorded_and_a_failing_service_is_retried_then_dropped(
        tmp_path, editor, member):
    container, api = stack(tmp_path)
    api.call("POST", "/api/devices", {"expo_push_token": TOKEN, "platform": "web"},
             claims=member)
    post(api, editor)
    container.notice_events.drain()
    assert [r["message"]["to"] for r in container.notifications.notifier.recorded()] == [TOKEN]
    with FakePushServer() as server:
        failing, api = stack(tmp_path / "down", push_url=server.url)
        api.call("POST", "/api/devices", {"expo_push_token": TOKEN, "platform": "web"},
                 claims=member)
        server.fail_with.extend([503, 503])
        assert post(api, editor)["title"] == "Regatta"  # the notice stands
        failing.notice_events.drain()
    assert server.requests == []
    assert [d.reason for d in failing.notice_events.messages.dead_letters()]


def test_the_worker_delivers_on_its_own_and_stops_when_the_queue_is_idle(tmp_path, editor,
                                                                       member):
    import time

    container = local_stack(Settings(data_dir=tmp_path / "data"), embedder=FakeEmbedder(),
                            chat_model=FakeChatModel(), index=FakeVectorIndex())
    api = ApiClient(handler_for(container))
    api.call("POST", "/api/devices", {"expo_push_token": TOKEN, "platform": "ios"},
             claims=member)
    post(api, editor)
    deadline = time.monotonic() + 10
    while container.notice_events.worker.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not container.notice_events.worker.running  # idle: no thread left polling
    assert [r["message"]["to"] for r in container.notifications.notifier.recorded()] == [TOKEN]


def test_the_openapi_document_describes_the_new_routes_as_they_answer(board):
    _, api = board
    doc = api.call("GET", "/api/openapi.json")[1]
    declared = {(m.upper(), p): set(op["responses"]) for p, ops in doc["paths"].items()
                for m, op in ops.items()}
    assert declared[("POST", "/api/notices/seen")] == {"204", "401", "403"}
    assert declared[("PUT", "/api/me/notifications")] == {"200", "400", "401", "403", "415",
                                                          "422"}
    assert declared[("POST", "/api/devices")] == {"201", "400", "401", "403", "415", "422"}
    assert declared[("GET", "/api/devices")] == {"200", "401", "403"}
    assert declared[("DELETE", "/api/devices/{device_id}")] == {"204", "401", "403", "404"}
    schemas = doc["components"]["schemas"]
    for name in ("DeviceIn", "NotificationsIn"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["DeviceIn"]["properties"]["expo_push_token"]["pattern"].startswith("^Expo")
    assert {"unread"} <= set(schemas["NoticeOut"]["required"])
    assert {"unread_notices", "push_muted"} <= set(schemas["MeOut"]["required"])


def test_a_phone_gone_after_the_push_is_forgotten_once_its_receipt_is_read(tmp_path, editor,
                                                                          member):
    with FakePushServer(gone_later={TOKEN}) as server:
        container, api = stack(tmp_path, push_url=server.url)
        container.notifications.receipt_delay_s = 0  # Expo's receipts need ~15 minutes
        api.call("POST", "/api/devices", {"expo_push_token": TOKEN, "platform": "ios"},
                 claims=member)
        post(api, editor)
        container.notice_events.drain()  # the push, then its receipt check from the queue
    assert server.problems == [] and [m["to"] for m in server.messages] == [TOKEN]
    assert len(server.receipt_requests) == 1
    assert api.call("GET", "/api/devices", claims=member)[1]["devices"] == []
