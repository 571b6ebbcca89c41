"""How the API reads request bodies, through the Lambda handler with API Gateway REST events:
only in the media type the route reads, strictly framed, never naming a workspace or user."""

import base64
import json

import pytest

from apiclient import multipart

NOTICE = {"title": "Pool closed", "body": "The pool is closed on Monday."}


def notices(api, claims):
    return api.call("GET", "/api/notices", claims=claims)[1]["notices"]


def documents(api, claims):
    return api.call("GET", "/api/documents", claims=claims)[1]["documents"]


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/xml", "text/json", "application/x-www-form-urlencoded",
    "application/merge-patch+json", "application/jsonx", "multipart/form-data; boundary=x",
])
def test_a_json_route_refuses_other_media_types_with_415(api, editor, content_type):
    status, err = api.call("POST", "/api/notices", claims=editor, content_type=content_type,
                           raw_body=json.dumps(NOTICE).encode())
    assert (status, err["error"]["code"]) == (415, "unsupported_media_type")
    assert notices(api, editor) == []


@pytest.mark.parametrize("content_type", [
    "application/json", "Application/JSON", "application/json; charset=UTF-8",
    "application/json;charset=utf8",
])
def test_json_is_json_in_any_letter_case_with_a_utf8_charset(api, editor, content_type):
    status, notice = api.call("POST", "/api/notices", claims=editor, content_type=content_type,
                              raw_body=json.dumps(NOTICE).encode())
    assert status == 201 and notice["title"] == "Pool closed"


def test_json_in_another_charset_is_415(api, editor):
    status, err = api.call("POST", "/api/notices", claims=editor,
                           content_type="application/json; charset=latin-1",
                           raw_body=json.dumps(NOTICE).encode())
    assert (status, err["error"]["code"]) == (415, "unsupported_media_type")


def test_a_body_without_a_content_type_is_never_read(api, editor):
    # Not even to find identity fields: it is refused before anything in it counts.
    for body in (NOTICE, {**NOTICE, "workspace_id": "other-club"}):
        status, err = api.call("POST", "/api/notices", claims=editor, content_type=None,
                               raw_body=json.dumps(body).encode())
        assert (status, err["error"]["code"]) == (415, "unsupported_media_type")
    assert notices(api, editor) == []


@pytest.mark.parametrize("raw", [b"{not json", b'{"title": NaN, "body": "b"}', b"\xff\xfe{}"])
def test_malformed_json_is_400(api, editor, raw):
    status, err = api.call("POST", "/api/notices", claims=editor, raw_body=raw,
                           content_type="application/json")
    assert (status, err["error"]["code"]) == (400, "invalid_json")


def test_a_json_array_is_not_its_first_element(api, editor):
    status, err = api.call("POST", "/api/notices", claims=editor, content_type="application/json",
                           raw_body=json.dumps([NOTICE]).encode())
    assert (status, err["error"]["code"]) == (422, "validation_error")
    assert notices(api, editor) == []


def test_a_base64_encoded_json_body_is_read(api, container, editor):
    # API Gateway base64-encodes a body whose type is listed among the binary media types.
    event_body = base64.b64encode(json.dumps(NOTICE).encode()).decode()
    status, notice = api.call("POST", "/api/notices", claims=editor, content_type="application/json",
                              raw_body=b"", event_overrides={"body": event_body,
                                                             "isBase64Encoded": True})
    assert status == 201 and notice["body"] == NOTICE["body"]


def test_no_token_is_401_before_anything_about_the_body(api):
    status, err = api.call("POST", "/api/notices", content_type="text/plain", raw_body=b"hi")
    assert (status, err["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("body", [
    {"query": "pool", "workspace_id": "other-club"},
    {"query": "pool", "user_id": "maria"},  # the caller's own id: still not the body's to say
    {"query": "pool", "workspace": "riverside"},
])
def test_identity_fields_in_a_json_body_are_403(api, editor, body):
    status, err = api.call("POST", "/api/search", body, claims=editor)
    assert (status, err["error"]["code"]) == (403, "forbidden")


def test_identity_fields_nested_in_a_body_are_403(api, editor):
    request = {"filename": "a.pdf", "content_type": "application/pdf", "size_bytes": 10,
               "metadata": {"tags": [{"owner": "eve"}]}}
    status, err = api.call("POST", "/api/uploads", request, claims=editor)
    assert (status, err["error"]["code"]) == (403, "forbidden")


def test_identity_in_a_multipart_body_is_403(api, editor):
    file = {"file": ("a.txt", b"Pool rules.", "text/plain")}
    for fields in ({"workspace_id": "other-club"}, {"metadata": json.dumps({"user_id": "eve"})}):
        body, ctype = multipart(fields, file)
        status, err = api.call("POST", "/api/upload", claims=editor, raw_body=body,
                               content_type=ctype)
        assert (status, err["error"]["code"]) == (403, "forbidden"), fields
    assert documents(api, editor) == []


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain",
                                          "application/json"])
def test_the_upload_route_refuses_non_multipart_bodies_with_415(api, editor, content_type):
    status, err = api.call("POST", "/api/upload", claims=editor, raw_body=b"Pool rules.",
                           content_type=content_type)
    assert (status, err["error"]["code"]) == (415, "unsupported_media_type")


def test_multipart_without_a_boundary_is_400(api, editor):
    body, _ = multipart({}, {"file": ("a.txt", b"Pool rules.", "text/plain")})
    status, err = api.call("POST", "/api/upload", claims=editor, raw_body=body,
                           content_type="multipart/form-data")
    assert (status, err["error"]["code"]) == (400, "invalid_multipart")
    assert "boundary" in err["error"]["message"]


def test_a_truncated_multipart_body_is_refused_and_nothing_is_stored(api, container, editor):
    body, ctype = multipart({}, {"file": ("minutes.txt", b"Minutes of the meeting. " * 40,
                                          "text/plain")})
    cut = body[: len(body) // 2]  # the connection dropped halfway through the file
    status, err = api.call("POST", "/api/upload", claims=editor, raw_body=cut, content_type=ctype)
    assert (status, err["error"]["code"]) == (400, "invalid_multipart")
    assert "closing boundary" in err["error"]["message"]
    container.queue.drain()
    assert documents(api, editor) == []
    assert container.index.count("riverside") == 0


@pytest.mark.parametrize("raw", [
    b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nPool rules.\r\n--b--\r\n",
    b"--b\r\nContent-Type: text/plain\r\n\r\nPool rules.\r\n--b--\r\n",  # no Content-Disposition
    b"--b\r\nContent-Disposition: form-data; filename=\"a.txt\"\r\n\r\nPool rules.\r\n--b--\r\n",
    b"no boundary anywhere",
])
def test_a_malformed_multipart_body_is_400(api, editor, raw):
    status, err = api.call("POST", "/api/upload", claims=editor, raw_body=raw,
                           content_type="multipart/form-data; boundary=b")
    assert (status, err["error"]["code"]) == (400, "invalid_multipart")


def test_multipart_media_type_and_boundary_parameter_in_any_case_and_quoting(api, editor):
    body, ctype = multipart({}, {"file": ("a.txt", b"Pool rules: shower first.", "text/plain")})
    boundary = ctype.split("boundary=")[1]
    status, out = api.call("POST", "/api/upload", claims=editor, raw_body=body,
                           content_type=f'Multipart/Form-Data; Boundary="{boundary}"')
    assert status == 202 and out["status"] == "queued"


def test_a_route_that_takes_no_body_never_reads_one(api, editor):
    _, notice = api.call("POST", "/api/notices", NOTICE, claims=editor)
    status, _ = api.call("DELETE", f"/api/notices/{notice['notice_id']}", claims=editor,
                         raw_body=b"{\"workspace_id\": \"other-club\"}", content_type="text/plain")
    assert status == 204
    assert notices(api, editor) == []
