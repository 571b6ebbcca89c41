"""POST /api/uploads in aws mode (moto S3 + DynamoDB) and in local mode."""

import base64
import json

import pytest

from apiclient import ApiClient, claims_for
from fakes import FakeChatModel, FakeEmbedder, FakeVectorIndex
from noticebot.adapters.aws.clients import AwsClients
from noticebot.bootstrap_aws import bootstrap_aws
from noticebot.config import Settings
from noticebot.domain.models import DocumentStatus
from noticebot.entrypoints.local_stack import local_stack
from noticebot.handlers.api.app import handler_for

EDITOR = claims_for("maria", "riverside", editor=True)
REQUEST = {"filename": "Annual report 2026.pdf", "content_type": "application/pdf",
           "size_bytes": 25_000_000, "title": "Annual report"}


@pytest.fixture
def aws_api(s3, ddb):
    settings = Settings(mode="aws", bucket="noticebot-docs", table="noticebot-test",
                        search_endpoint="unused", presigned_max_bytes=50_000_000,
                        kms_key_id="key-9")
    c = bootstrap_aws(settings, clients=AwsClients("us-east-1"), embedder=FakeEmbedder(),
                      chat_model=FakeChatModel(), index=FakeVectorIndex())
    return ApiClient(handler_for(c)), c


def test_editor_gets_a_presigned_form_and_a_queued_document(aws_api):
    api, c = aws_api
    status, body = api.call("POST", "/api/uploads", REQUEST, claims=EDITOR)
    assert status == 201 and body["status"] == "queued"
    doc = c.metadata.get_document("riverside", body["document_id"])
    assert doc.status == DocumentStatus.QUEUED and doc.size_bytes == 25_000_000
    assert doc.title == "Annual report" and doc.uploaded_by == "maria"
    upload = body["upload"]
    assert upload["direct"] and upload["method"] == "POST" and upload["file_field"] == "file"
    assert upload["fields"]["key"] == doc.blob_key == (
        f"tenants/riverside/raw/{doc.document_id}/Annual report 2026.pdf")
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 25_000_000] in policy["conditions"]
    assert {"x-amz-server-side-encryption": "aws:kms"} in policy["conditions"]
    status, listed = api.call("GET", "/api/documents", claims=EDITOR)
    assert [d["document_id"] for d in listed["documents"]] == [body["document_id"]]


@pytest.mark.parametrize("change,claims,status,code", [
    ({}, claims_for("sam", "riverside"), 403, "forbidden"),
    ({"size_bytes": 60_000_000}, EDITOR, 413, "payload_too_large"),
    ({"content_type": "video/mp4"}, EDITOR, 415, "unsupported_media_type"),
    ({"metadata": {"workspace": "other-club"}}, EDITOR, 403, "forbidden"),
    ({"workspace_id": "other-club"}, EDITOR, 403, "forbidden"),
    ({"size_bytes": 0}, EDITOR, 422, "validation_error"),
    ({"filename": ""}, EDITOR, 422, "validation_error"),
    ({"bucket": "elsewhere"}, EDITOR, 422, "validation_error"),
])
def test_bad_requests_are_refused_before_anything_is_stored(aws_api, change, claims, status, code):
    api, c = aws_api
    got, body = api.call("POST", "/api/uploads", {**REQUEST, **change}, claims=claims)
    assert (got, body["error"]["code"]) == (status, code)
    assert c.metadata.list_documents("riverside") == []


def test_no_token_is_401(aws_api):
    api, _ = aws_api
    assert api.call("POST", "/api/uploads", REQUEST)[0] == 401


def test_local_mode_points_the_client_at_the_multipart_upload(tmp_path):
    c = local_stack(Settings(data_dir=tmp_path, max_upload_bytes=1_000_000),
                    embedder=FakeEmbedder(), chat_model=FakeChatModel(), index=FakeVectorIndex())
    api = ApiClient(handler_for(c))
    status, body = api.call("POST", "/api/uploads", {**REQUEST, "size_bytes": 1000},
                            claims=EDITOR)
    assert status == 201 and body["document_id"] is None
    assert body["upload"]["url"] == "/api/upload" and not body["upload"]["direct"]
    assert json.loads(body["upload"]["fields"]["metadata"]) == {"title": "Annual report"}
    assert c.metadata.list_documents("riverside") == []
    status, body = api.call("POST", "/api/uploads", REQUEST, claims=EDITOR)
    assert status == 413
