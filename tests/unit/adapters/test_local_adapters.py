import os

import pytest

from noticebot.adapters.local.events import s3_object_created
from noticebot.adapters.local.folder_blob_store import FolderBlobStore
from noticebot.adapters.local.jwt_auth import LocalJwtAuthority
from noticebot.domain.errors import Unauthorized
from noticebot.handlers.api.identity import principal_from_claims


def test_blob_store_emits_object_created_and_round_trips(tmp_path):
    seen = []
    store = FolderBlobStore(tmp_path, on_object_created=lambda key, size: seen.append((key, size)))
    store.put("tenants/w/raw/d/a b.txt", b"hello")
    assert store.get("tenants/w/raw/d/a b.txt") == b"hello"
    assert seen == [("tenants/w/raw/d/a b.txt", 5)]
    assert store.delete_prefix("tenants/w/raw/d/") == 1
    with pytest.raises(KeyError):
        store.get("tenants/w/raw/d/a b.txt")


def test_blob_store_refuses_keys_that_escape(tmp_path):
    store = FolderBlobStore(tmp_path / "blobs")
    with pytest.raises(ValueError):
        store.put("../outside.txt", b"x")


def test_s3_event_key_is_url_encoded_like_s3():
    event = s3_object_created("tenants/w/raw/d/my file+1.pdf", 10)
    record = event["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "tenants/w/raw/d/my+file%2B1.pdf"


def test_local_jwt_carries_cognito_claims(tmp_path):
    authority = LocalJwtAuthority(tmp_path / "secret")
    claims = authority.verify(authority.issue("maria", "riverside", editor=True))
    assert claims["custom:workspace"] == "riverside"
    p = principal_from_claims(claims)
    assert (p.user_id, p.workspace_id, p.is_editor) == ("maria", "riverside", True)
    assert oct(os.stat(tmp_path / "secret").st_mode & 0o777) == "0o600"


def test_local_jwt_rejects_forgery_and_expiry(tmp_path):
    authority = LocalJwtAuthority(tmp_path / "secret")
    other = LocalJwtAuthority(tmp_path / "other-secret")
    with pytest.raises(Unauthorized):
        authority.verify(other.issue("eve", "riverside", editor=True))
    with pytest.raises(Unauthorized):
        authority.verify(authority.issue("maria", "riverside", ttl_seconds=-10))
    with pytest.raises(Unauthorized):
        authority.verify("not.a.token")


def test_groups_claim_forms_from_rest_authorizers():
    assert principal_from_claims({"sub": "u", "cognito:groups": "[editors admins]"}).is_editor
    assert principal_from_claims({"sub": "u", "cognito:groups": "admins,editors"}).is_editor
    assert not principal_from_claims({"sub": "u", "cognito:groups": "members"}).is_editor
    assert principal_from_claims({"sub": "u"}).workspace_id == "user-u"
