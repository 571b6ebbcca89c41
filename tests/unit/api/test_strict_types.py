"""Request bodies keep JSON's types: no bool as a number, no string as a bool or number, no
number as a string or a date; only what JSON Schema itself equates (43.0 is an integer)."""

import pytest

NOTICE = {"title": "Pool closed", "body": "The pool is closed on Monday."}
UPLOAD = {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": 1000}


def refused(api, claims, method, path, body):
    status, err = api.call(method, path, body, claims=claims)
    return status == 422 and err["error"]["code"] == "validation_error"


@pytest.mark.parametrize("change", [
    {"top_k": True}, {"top_k": "5"}, {"top_k": 2.5}, {"query": 5}, {"mode": 1},
])
def test_search(api, editor, change):
    assert refused(api, editor, "POST", "/api/search", {"query": "pool", **change})


def test_an_integral_number_is_an_integer(api, editor):
    status, found = api.call("POST", "/api/search", {"query": "pool", "top_k": 3.0}, claims=editor)
    assert status == 200 and found == {"results": []}


@pytest.mark.parametrize("change", [
    {"top_k": False}, {"stream": "false"}, {"stream": 0}, {"stream": 1},
    {"conversation_id": 5}, {"model": True},
])
def test_chat(api, editor, change):
    assert refused(api, editor, "POST", "/api/chat", {"query": "pool", **change})


@pytest.mark.parametrize("change", [
    {"pinned": "yes"}, {"pinned": 1}, {"title": 5}, {"body": ["x"]},
    {"expires_at": 1900000000}, {"expires_at": "2030-01-01T10:00:00"}, {"expires_at": "soon"},
    {"title": "   "}, {"body": "\u3000\n"},
])
def test_new_notice(api, editor, change):
    assert refused(api, editor, "POST", "/api/notices", {**NOTICE, **change})
    assert api.call("GET", "/api/notices", claims=editor)[1]["notices"] == []


def test_an_iso_date_time_with_its_zone_is_a_date_time(api, editor):
    status, notice = api.call("POST", "/api/notices", {**NOTICE, "expires_at": "2099-06-01T18:00:00Z"},
                              claims=editor)
    assert status == 201 and notice["expires_at"].startswith("2099-06-01T18:00:00")


@pytest.mark.parametrize("change", [{"pinned": "true"}, {"title": None}, {"pinned": None}])
def test_notice_patch(api, editor, change):
    _, notice = api.call("POST", "/api/notices", NOTICE, claims=editor)
    assert refused(api, editor, "PATCH", f"/api/notices/{notice['notice_id']}", change)
    _, same = api.call("GET", f"/api/notices/{notice['notice_id']}", claims=editor)
    assert same["title"] == NOTICE["title"] and same["pinned"] is False


@pytest.mark.parametrize("change", [
    {"size_bytes": "1000"}, {"size_bytes": True}, {"filename": 7}, {"metadata": "x"},
    {"title": False},
])
def test_presigned_upload_request(api, editor, change):
    assert refused(api, editor, "POST", "/api/uploads", {**UPLOAD, **change})


@pytest.mark.parametrize("parameters", [
    {"epochs": True}, {"epochs": "3"}, {"epochs": 2.5}, {"learning_rate": "0.001"},
    {"learning_rate": True},
])
def test_fine_tune_parameters(api, editor, parameters):
    assert refused(api, editor, "POST", "/api/fine-tune", {"parameters": parameters})


def test_fine_tune_values_out_of_range_are_named_in_one_422(api, editor):
    status, err = api.call("POST", "/api/fine-tune",
                           {"parameters": {"epochs": 0, "lora_dropout": 0.9}}, claims=editor)
    assert status == 422
    assert "epochs must be between" in err["error"]["message"]
    assert "lora_dropout must be between" in err["error"]["message"]


def test_an_expiry_with_no_utc_instant_is_refused(api, editor):
    for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"):
        assert refused(api, editor, "POST", "/api/notices",
                       {"title": "T", "body": "B", "expires_at": when}), when
