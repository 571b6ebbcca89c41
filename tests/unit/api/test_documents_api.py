import json

from apiclient import multipart


def upload(api, claims, name="rules.md", data=b"# Rules\n\nThe hall closes at 22:00 on Fridays.",
           metadata=None):
    fields = {"metadata": json.dumps(metadata)} if metadata is not None else {}
    body, ctype = multipart(fields, {"file": (name, data, "text/markdown")})
    return api.call("POST", "/api/upload", claims=claims, raw_body=body, content_type=ctype)


def test_upload_is_queued_then_indexed_by_the_worker(api, container, editor):
    status, body = upload(api, editor, metadata={"title": "House rules"})
    assert status == 202
    assert body["status"] == "queued"
    doc_id = body["document_id"]

    container.queue.drain()  # the S3 -> SQS -> ingest Lambda path, in process

    status, doc = api.call("GET", f"/api/documents/{doc_id}", claims=editor)
    assert status == 200
    assert doc["status"] == "indexed"
    assert doc["title"] == "House rules"
    assert doc["chunk_count"] >= 1
    status, listing = api.call("GET", "/api/documents", claims=editor)
    assert [d["document_id"] for d in listing["documents"]] == [doc_id]


def test_same_content_uploaded_twice_is_one_document(api, container, editor):
    _, first = upload(api, editor)
    container.queue.drain()
    status, second = upload(api, editor, name="copy.md")
    assert status == 202
    assert second["document_id"] == first["document_id"]
    assert second["duplicate"] is True
    assert container.index.count("riverside") == container.documents.get(
        container_principal(editor), first["document_id"]).chunk_count


def container_principal(claims):
    from noticebot.handlers.api.identity import principal_from_claims

    return principal_from_claims(claims)


def test_unreadable_file_ends_failed_with_a_message(api, container, editor):
    status, body = upload(api, editor, name="broken.pdf", data=b"%PDF-1.7\n garbage without xref")
    assert status == 202
    container.queue.drain()
    _, doc = api.call("GET", f"/api/documents/{body['document_id']}", claims=editor)
    assert doc["status"] == "failed"
    assert "pdf" in doc["error"].lower()
    assert container.index.count("riverside") == 0


def test_delete_removes_document_and_chunks(api, container, editor):
    _, body = upload(api, editor)
    container.queue.drain()
    assert container.index.count("riverside") > 0
    status, _ = api.call("DELETE", f"/api/documents/{body['document_id']}", claims=editor)
    assert status == 204
    assert container.index.count("riverside") == 0
    status, err = api.call("GET", f"/api/documents/{body['document_id']}", claims=editor)
    assert status == 404
    assert err["error"]["code"] == "not_found"


def test_members_cannot_upload_or_delete(api, container, editor, member):
    status, err = upload(api, member)
    assert status == 403
    assert err["error"]["code"] == "forbidden"
    _, body = upload(api, editor)
    status, _ = api.call("DELETE", f"/api/documents/{body['document_id']}", claims=member)
    assert status == 403


def test_upload_over_the_limit_is_413(api, editor):
    status, err = upload(api, editor, data=b"x" * 200_001)
    assert status == 413
    assert "limit" in err["error"]["message"]


def test_upload_without_file_is_422(api, editor):
    body, ctype = multipart({"metadata": "{}"}, {})
    status, err = api.call("POST", "/api/upload", claims=editor, raw_body=body, content_type=ctype)
    assert status == 422
    assert err["error"]["code"] == "validation_error"


def test_metadata_must_be_json_object(api, editor):
    for text in ("not json", "[1, 2]"):
        body, ctype = multipart({"metadata": text}, {"file": ("a.txt", b"hello there", "text/plain")})
        status, err = api.call("POST", "/api/upload", claims=editor, raw_body=body, content_type=ctype)
        assert status == 422, text
        assert "metadata" in err["error"]["message"]


def test_null_metadata_is_the_same_as_none(api, container, editor):
    """Multipart can only say null by leaving the part out: both are an upload without it."""
    for n, fields in enumerate(({"metadata": "null"}, {})):
        body, ctype = multipart(fields, {"file": (f"a{n}.txt", f"hello {n}".encode(), "text/plain")})
        status, out = api.call("POST", "/api/upload", claims=editor, raw_body=body,
                               content_type=ctype)
        assert status == 202, out
        doc = container.metadata.get_document(editor["custom:workspace"], out["document_id"])
        assert doc.title == f"a{n}.txt" and doc.metadata == {}


def test_a_field_sent_twice_is_refused_and_extra_parts_are_ignored(api, editor):
    boundary = "twice"

    def part(name, value, filename=None):
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n"

    ctype = f"multipart/form-data; boundary={boundary}"
    twice = part("metadata", "{}") + part("metadata", '{"title": "B"}') + part("file", "x", "a.txt")
    status, err = api.call("POST", "/api/upload", claims=editor,
                           raw_body=(twice + f"--{boundary}--\r\n").encode(), content_type=ctype)
    assert status == 400 and "'metadata' is sent more than once" in err["error"]["message"]
    extra = part("note", "a") + part("note", "b") + part("file", "y", "b.txt")
    status, out = api.call("POST", "/api/upload", claims=editor,
                           raw_body=(extra + f"--{boundary}--\r\n").encode(), content_type=ctype)
    assert status == 202, out


def test_metadata_naming_another_workspace_is_403(api, editor):
    status, err = upload(api, editor, metadata={"workspace_id": "other-club"})
    assert status == 403
    assert "workspace" in err["error"]["message"]


def test_filename_cannot_escape_the_workspace_prefix(api, container, editor):
    status, body = upload(api, editor, name="../../../etc/passwd")
    assert status == 202
    doc = container.metadata.get_document("riverside", body["document_id"])
    assert doc.blob_key.startswith("tenants/riverside/raw/")
    assert ".." not in doc.blob_key


def test_uploading_a_failed_documents_bytes_again_retries_it(api, container, editor):
    _, first = upload(api, editor, name="empty.md", data=b"")
    container.queue.drain()
    status, failed = api.call("GET", f"/api/documents/{first['document_id']}", claims=editor)
    assert failed["status"] == "failed"
    status, again = upload(api, editor, name="empty.md", data=b"")
    assert status == 202
    assert (again["document_id"], again["status"], again["retried"], again["duplicate"]) == (
        first["document_id"], "queued", True, False)
    assert first["retried"] is False
