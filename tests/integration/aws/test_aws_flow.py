"""The whole flow in aws mode on moto: upload -> S3 -> SQS -> ingest -> index -> chat via
SageMaker -> answer with citations; plus tenancy, bad input, DLQ and redelivery."""

import json

import requests

from apiclient import multipart
from noticebot.domain.models import DocumentStatus

RULES = (b"# Club rules\n\nMembers must wear bicycle helmets on every club ride. "
         b"Rides start at the north gate of the park at nine on Saturdays.\n")


def upload(stack, claims, name="club rules+v2.md", data=RULES, meta=None):
    body, ctype = multipart({"metadata": json.dumps(meta or {"title": "Club rules"})},
                            {"file": (name, data, "text/markdown")})
    return stack.api.call("POST", "/api/upload", claims=claims, raw_body=body, content_type=ctype)


def test_only_uploads_reach_the_ingest_queue(stack):
    """Datasets, adapters and spot checkpoints live under tenants/ too; none of them wakes the
    ingest function (S3's prefix filter could not tell them apart; the rule's wildcard can)."""
    for key in ("tenants/riverside/datasets/job1/train/train.jsonl",
                "tenants/riverside/models/noticebot-dev-ft-1/output/model.tar.gz",
                "tenants/riverside/models/noticebot-dev-ft-1/checkpoints/adapter.safetensors",
                "transcripts/noticebot-docs-test-tx-doc.json"):
        stack.s3.put_object(Bucket="noticebot-docs-test", Key=key, Body=b"{}")
    assert stack.poller.receive() == []
    key = "tenants/riverside/raw/doc-1/Minutes 12:03 (final).md"
    stack.s3.put_object(Bucket="noticebot-docs-test", Key=key, Body=b"# Minutes")
    (message,) = stack.poller.receive()
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
    from noticebot.handlers.ingest import object_keys

    assert object_keys(event) == [key]


def test_upload_to_s3_ingest_from_sqs_then_chat_with_citations(stack, editor, member):
    status, body = upload(stack, editor)
    assert status == 202 and body["status"] == "queued"
    doc_id = body["document_id"]
    key = f"tenants/riverside/raw/{doc_id}/club rules+v2.md"
    head = stack.s3.head_object(Bucket="noticebot-docs-test", Key=key)
    assert head["ServerSideEncryption"] == "AES256"

    delivered = stack.poller.drain()
    event = json.loads(delivered[0]["Body"])
    assert event["detail-type"] == "Object Created"
    assert event["detail"]["object"]["key"] == key  # EventBridge carries the key as it is
    status, doc = stack.api.call("GET", f"/api/documents/{doc_id}", claims=member)
    assert (status, doc["status"]) == (200, "indexed") and doc["chunk_count"] >= 1
    assert stack.index.count("riverside") == doc["chunk_count"]

    stack.queue_model_answers("Yes: members must wear bicycle helmets on every club ride [1]."
                              "<|eot_id|>")
    status, answer = stack.api.call("POST", "/api/chat", {"query": "Do I need a helmet on club rides?"},
                                    claims=member)
    assert status == 200, answer
    assert "helmets" in answer["answer"] and "<|eot_id|>" not in answer["answer"]
    assert answer["citations"][0]["document_id"] == doc_id
    assert answer["citations"][0]["title"] == "Club rules" and answer["model"] == "llama3-base"
    # The API function embedded the question through the embedder function.
    assert [c["event"] for c in stack.lambdas.calls] == [
        {"kind": "query", "texts": ["Do I need a helmet on club rides?"]}]
    (request,) = stack.model_requests()
    assert request["x-amzn-sagemaker-inference-component"] == "llama3-base"
    payload = json.loads(request["body"])
    prompt = payload["inputs"]
    # LMI's tokenizer adds the BOS token itself; stop strings go in LMI's stop_sequences.
    assert prompt.startswith("<|start_header_id|>system<|end_header_id|>")
    assert "<|begin_of_text|>" not in prompt
    assert "<|eot_id|>" in payload["parameters"]["stop_sequences"]
    assert "stop" not in payload["parameters"]
    assert "bicycle helmets" in prompt and prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")

    status, conv = stack.api.call("GET", f"/api/conversations/{answer['conversation_id']}",
                                  claims=member)
    assert status == 200 and [t["role"] for t in conv["turns"]] == ["user", "assistant"]
    stored = stack.ddb.get_item(TableName="noticebot", Key={
        "pk": {"S": "WS#riverside"}, "sk": {"S": f"CONV#{answer['conversation_id']}"}})["Item"]
    assert "ttl" in stored and stored["turn_count"] == {"N": "2"}


def test_presigned_upload_goes_straight_to_s3_and_is_ingested(stack, editor):
    stack.poller.drain()
    data = b"The swimming pool is closed for repairs until spring. " * 40
    status, body = stack.api.call("POST", "/api/uploads", {
        "filename": "pool notice.txt", "content_type": "text/plain", "size_bytes": len(data)},
        claims=editor)
    assert status == 201 and body["status"] == "queued"
    form = body["upload"]
    response = requests.post(form["url"], data=form["fields"],
                             files={form["file_field"]: ("pool notice.txt", data, "text/plain")})
    assert response.status_code in (200, 201, 204)
    (message,) = stack.poller.drain()
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Object Created"
    key = f"tenants/riverside/raw/{body['document_id']}/pool notice.txt"
    assert event["detail"]["object"]["key"] == key
    doc = stack.container.metadata.get_document("riverside", body["document_id"])
    assert doc.status == DocumentStatus.INDEXED and doc.chunk_count >= 1


def test_tenancy_holds_across_s3_dynamodb_index_and_chat(stack, editor, outsider):
    stack.poller.drain()
    _, body = upload(stack, editor)
    stack.poller.drain()
    doc_id = body["document_id"]
    assert stack.api.call("GET", f"/api/documents/{doc_id}", claims=outsider)[0] == 404
    assert stack.api.call("DELETE", f"/api/documents/{doc_id}", claims=outsider)[0] == 404
    status, found = stack.api.call("POST", "/api/search", {"query": "bicycle helmets"}, claims=outsider)
    assert status == 200 and found["results"] == []
    status, answer = stack.api.call("POST", "/api/chat", {"query": "Do riders need bicycle helmets?"},
                                    claims=outsider)
    assert status == 200 and answer["citations"] == [] and answer["grounded"] is False
    assert stack.model_requests() == []  # nothing of another workspace reached the model
    status, err = stack.api.call("POST", "/api/search", {"query": "helmets", "workspace_id": "riverside"},
                                 claims=outsider)
    assert (status, err["error"]["code"]) == (403, "forbidden")
    keys = [o["Key"] for o in stack.s3.list_objects_v2(Bucket="noticebot-docs-test")["Contents"]]
    assert keys == [f"tenants/riverside/raw/{doc_id}/club rules+v2.md"]
    assert stack.index.count("other-club") == 0


def test_bad_input_is_refused_and_queues_nothing(stack, editor, member):
    stack.poller.drain()
    too_big = upload(stack, editor, data=b"x" * 250_000)
    assert (too_big[0], too_big[1]["error"]["code"]) == (413, "payload_too_large")
    assert upload(stack, member)[0] == 403  # members read; editors upload
    assert stack.api.call("POST", "/api/chat", {"query": ""}, claims=member)[0] == 422
    assert stack.api.call("POST", "/api/chat", raw_body=b"{nope", content_type="application/json",
                          claims=member)[0] == 400
    assert stack.api.call("POST", "/api/chat", {"query": "hi"})[0] == 401
    assert stack.poller.receive() == []
    assert stack.s3.list_objects_v2(Bucket="noticebot-docs-test").get("KeyCount") == 0


def test_a_poison_message_fails_alone_and_ends_in_the_dlq(stack, editor):
    stack.poller.drain()
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="this is not an S3 event")
    _, body = upload(stack, editor)
    messages, failed = stack.poller.poll()
    assert len(messages) == 2 and len(failed) == 1  # the good record succeeds beside it
    assert stack.container.metadata.get_document("riverside", body["document_id"]).status \
        == DocumentStatus.INDEXED
    for _ in range(5):
        stack.poller.poll()
    assert stack.poller.receive() == []
    assert stack.dead_letters() == ["this is not an S3 event"]


def test_a_redelivered_event_changes_nothing(stack, editor):
    stack.poller.drain()
    _, body = upload(stack, editor)
    (original,) = stack.poller.drain()
    before = stack.container.metadata.get_document("riverside", body["document_id"])
    count = stack.index.count("riverside")
    for _ in range(2):  # S3 delivers at least once; SQS may deliver twice
        stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=original["Body"])
    messages, failed = stack.poller.poll()
    assert len(messages) == 2 and failed == set()
    after = stack.container.metadata.get_document("riverside", body["document_id"])
    assert stack.index.count("riverside") == count
    assert (after.status, after.chunk_count, after.updated_at) == (
        DocumentStatus.INDEXED, before.chunk_count, before.updated_at)
    assert stack.dead_letters() == []


def test_a_missing_endpoint_is_a_clear_503(stack, editor, member):
    from botocore.stub import Stubber

    stack.poller.drain()
    upload(stack, editor)
    stack.poller.drain()
    runtime = stack.api_container.chat_model.endpoint.client  # the client bootstrap_aws built
    with Stubber(runtime) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code="ValidationError",
                              service_message="Endpoint noticebot-llm of account 123456789012 "
                                              "not found.", http_status_code=400)
        status, body = stack.api.call("POST", "/api/chat", {"query": "Do I need a bicycle helmet?"},
                                      claims=member)
    assert status == 503 and body["error"]["code"] == "model_unavailable"
    assert "not deployed" in body["error"]["message"] and "123456789012" not in body["error"]["message"]


def test_an_upload_without_a_title_is_listed_under_the_title_inside_it(stack, editor, member):
    stack.poller.drain()
    status, body = upload(stack, editor, name="rules.md", meta={"tags": ["club"]})
    assert status == 202
    _, queued = stack.api.call("GET", f"/api/documents/{body['document_id']}", claims=member)
    assert queued["title"] == "rules.md"  # nothing better is known before parsing
    stack.poller.drain()
    status, doc = stack.api.call("GET", f"/api/documents/{body['document_id']}", claims=member)
    assert (status, doc["status"], doc["title"]) == (200, "indexed", "Club rules")
    # An editor's own title is never replaced.
    status, titled = upload(stack, editor, name="other.md", data=RULES.replace(b"Saturdays", b"Sundays"),
                            meta={"title": "Ride rules (2026)"})
    stack.poller.drain()
    status, doc = stack.api.call("GET", f"/api/documents/{titled['document_id']}", claims=member)
    assert (doc["status"], doc["title"]) == ("indexed", "Ride rules (2026)")


def test_an_internal_error_on_every_delivery_fails_the_document_and_dead_letters(
        stack, editor, member, monkeypatch):
    stack.poller.drain()
    _, body = upload(stack, editor)

    def down(texts):
        raise ConnectionError("embedding endpoint unreachable")

    monkeypatch.setattr(stack.container.ingest.embedder, "embed_documents", down)
    doc_id = body["document_id"]
    for receive in (1, 2):  # SQS counts the receives; before the last, it stays processing
        messages, failed = stack.poller.poll()
        assert messages[0]["Attributes"]["ApproximateReceiveCount"] == str(receive) and failed
        assert stack.container.metadata.get_document("riverside", doc_id).status \
            == DocumentStatus.PROCESSING
    stack.poller.poll()
    for _ in range(2):
        stack.poller.poll()
    assert stack.poller.receive() == [] and len(stack.dead_letters()) == 1
    status, doc = stack.api.call("GET", f"/api/documents/{doc_id}", claims=member)
    assert (status, doc["status"]) == (200, "failed")
    assert "after 3 attempts" in doc["error"] and "upload the file again" in doc["error"]
    # Uploading the same bytes again retries that document.
    monkeypatch.delattr(stack.container.ingest.embedder, "embed_documents")  # back up
    status, again = upload(stack, editor)
    assert (status, again["document_id"], again["retried"]) == (202, doc_id, True)
    stack.poller.drain()
    assert stack.container.metadata.get_document("riverside", doc_id).status \
        == DocumentStatus.INDEXED
