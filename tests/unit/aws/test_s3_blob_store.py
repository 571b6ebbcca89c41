import base64
import json

import pytest

from noticebot.adapters.aws.clients import AwsClients
from noticebot.adapters.aws.s3_blob_store import S3BlobStore
from noticebot.domain.keys import raw_key

KEY = raw_key("riverside", "doc1", "rules v2+final.pdf")


def test_put_get_with_sse_s3(s3):
    store = S3BlobStore("noticebot-docs", s3)
    store.put(KEY, b"%PDF-1.7", "application/pdf")
    assert store.get(KEY) == b"%PDF-1.7"
    head = s3.head_object(Bucket="noticebot-docs", Key=KEY)
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "application/pdf"


def test_put_with_a_kms_key(s3):
    store = S3BlobStore("noticebot-docs", s3, kms_key_id="alias/noticebot")
    store.put(KEY, b"x")
    head = s3.head_object(Bucket="noticebot-docs", Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith("alias/noticebot")


def test_missing_key_is_a_key_error(s3):
    with pytest.raises(KeyError):
        S3BlobStore("noticebot-docs", s3).get("tenants/ws/raw/none/a.txt")


def test_delete_prefix_counts_and_stays_inside_the_prefix(s3):
    store = S3BlobStore("noticebot-docs", s3)
    for n in range(3):
        store.put(raw_key("ws", "d1", f"f{n}.txt"), b"x")
    store.put(raw_key("ws", "d10", "other.txt"), b"x")
    assert store.delete_prefix("tenants/ws/raw/d1/") == 3
    assert store.get(raw_key("ws", "d10", "other.txt")) == b"x"
    assert store.delete_prefix("tenants/ws/raw/d1/") == 0


@pytest.mark.parametrize("prefix", ["", "/", "tenants/", "other/ws/raw/"])
def test_delete_prefix_refuses_tenantless_prefixes(s3, prefix):
    with pytest.raises(ValueError):
        S3BlobStore("noticebot-docs", s3).delete_prefix(prefix)


def policy_of(form) -> dict:
    return json.loads(base64.b64decode(form.fields["policy"]))


def production_s3():
    """The client bootstrap_aws builds (SigV4 signing: SSE-KMS uploads need it)."""
    return AwsClients("us-east-1").provider("s3")


def test_presigned_post_policy_bounds_key_type_size_and_sse(s3):
    store = S3BlobStore("noticebot-docs", production_s3(), kms_key_id="key-123")
    form = store.presign_upload(KEY, "application/pdf", max_bytes=50_000_000, expires_in=600)
    assert form.direct and form.method == "POST" and form.file_field == "file"
    assert form.url.startswith("https://noticebot-docs.s3")
    assert form.fields["key"] == KEY and form.fields["Content-Type"] == "application/pdf"
    assert form.fields["x-amz-server-side-encryption"] == "aws:kms"
    conditions = policy_of(form)["conditions"]
    assert ["content-length-range", 1, 50_000_000] in conditions
    assert ["starts-with", "$key", "tenants/riverside/raw/"] in conditions
    assert {"key": KEY} in conditions and {"bucket": "noticebot-docs"} in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"x-amz-server-side-encryption-aws-kms-key-id": "key-123"} in conditions
    assert form.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4, not the legacy signature


def test_presign_refuses_keys_outside_the_upload_layout(s3):
    with pytest.raises(ValueError):
        S3BlobStore("noticebot-docs", s3).presign_upload("elsewhere/a.pdf", "application/pdf", 10)


def test_a_presigned_upload_lands_at_the_key(s3):
    import requests  # moto intercepts requests to AWS hosts as well

    store = S3BlobStore("noticebot-docs", production_s3())
    form = store.presign_upload(KEY, "text/plain", max_bytes=1000)
    response = requests.post(form.url, data=form.fields, files={"file": ("a.txt", b"hello")})
    assert response.status_code in (200, 201, 204)
    assert store.get(KEY) == b"hello"


def test_the_local_store_points_at_the_api_upload(tmp_path):
    from noticebot.adapters.local.folder_blob_store import FolderBlobStore

    form = FolderBlobStore(tmp_path).presign_upload(KEY, "application/pdf", 10)
    assert form.url == "/api/upload" and not form.direct and form.fields == {}
