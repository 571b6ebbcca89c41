from datetime import datetime, timedelta, timezone

import pytest

from contracts.metadata_store_contract import MetadataStoreContract, TuningStoreContract, make_doc
from noticebot.adapters.aws.dynamodb_metadata_store import DynamoDbMetadataStore
from noticebot.domain.errors import NotFound
from noticebot.domain.models import Conversation, ConversationTurn, DocumentStatus


class TestDynamoDbMetadataStore(MetadataStoreContract, TuningStoreContract):
    """The same conformance suite the SQLite store passes, against moto's DynamoDB."""

    @pytest.fixture
    def store(self, ddb):
        return DynamoDbMetadataStore("noticebot-test", ddb)


def item(ddb, pk, sk):
    return ddb.get_item(TableName="noticebot-test", Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]


def test_single_table_keys(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    store.put_document(make_doc())
    store.put_conversation(Conversation("ws1", "c1", "u1"))
    store.append_turns("ws1", "c1", [ConversationTurn("user", "q"), ConversationTurn("assistant", "a")])
    assert item(ddb, "WS#ws1", "DOC#d1")["gsi1pk"] == {"S": "WS#ws1#SHA#abc"}
    assert item(ddb, "WS#ws1", "CONV#c1#TURN#000001")["role"] == {"S": "assistant"}
    assert item(ddb, "WS#ws1", "CONV#c1")["turn_count"] == {"N": "2"}


def test_transition_is_a_conditional_write(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    store.put_document(make_doc(status=DocumentStatus.INDEXED))
    assert not store.transition_document("ws1", "d1", DocumentStatus.PROCESSING,
                                         allowed_from=(DocumentStatus.QUEUED,))
    # a transition never creates a row for a document that does not exist
    assert not store.transition_document("ws1", "ghost", DocumentStatus.FAILED,
                                         allowed_from=(DocumentStatus.PROCESSING,))
    assert ddb.scan(TableName="noticebot-test")["Count"] == 1


def test_error_is_cleared_when_a_retry_succeeds(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    store.put_document(make_doc(status=DocumentStatus.FAILED))
    store.transition_document("ws1", "d1", DocumentStatus.FAILED, allowed_from=(DocumentStatus.FAILED,),
                              error="boom")
    store.transition_document("ws1", "d1", DocumentStatus.PROCESSING, allowed_from=(DocumentStatus.FAILED,))
    assert store.get_document("ws1", "d1").error is None


def test_conversations_carry_a_ttl_and_expire_on_read(ddb):
    now = [datetime(2026, 1, 1, tzinfo=timezone.utc)]
    store = DynamoDbMetadataStore("noticebot-test", ddb, conversation_ttl_days=30, clock=lambda: now[0])
    store.put_conversation(Conversation("ws1", "c1", "u1"))
    store.append_turns("ws1", "c1", [ConversationTurn("user", "q")])
    expected = int((now[0] + timedelta(days=30)).timestamp())
    assert item(ddb, "WS#ws1", "CONV#c1")["ttl"] == {"N": str(expected)}
    assert item(ddb, "WS#ws1", "CONV#c1#TURN#000000")["ttl"] == {"N": str(expected)}
    assert store.get_conversation("ws1", "c1") is not None
    now[0] += timedelta(days=31)  # DynamoDB may not have deleted it yet: reads treat it as gone
    assert store.get_conversation("ws1", "c1") is None


def test_resaving_a_conversation_keeps_its_turns(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    conv = Conversation("ws1", "c1", "u1", title="first")
    store.put_conversation(conv)
    store.append_turns("ws1", "c1", [ConversationTurn("user", "q1")])
    conv.title = "renamed"
    store.put_conversation(conv)
    store.append_turns("ws1", "c1", [ConversationTurn("user", "q2")])
    got = store.get_conversation("ws1", "c1")
    assert got.title == "renamed" and [t.content for t in got.turns] == ["q1", "q2"]


def test_conversation_prefix_does_not_leak_into_a_longer_id(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    for cid in ("c1", "c10"):
        store.put_conversation(Conversation("ws1", cid, "u1"))
        store.append_turns("ws1", cid, [ConversationTurn("user", f"q-{cid}")])
    assert [t.content for t in store.get_conversation("ws1", "c1").turns] == ["q-c1"]


def test_appending_to_a_missing_conversation_is_not_found(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    with pytest.raises(NotFound):
        store.append_turns("ws1", "nope", [ConversationTurn("user", "q")])


def test_many_documents_page_through_queries(ddb):
    store = DynamoDbMetadataStore("noticebot-test", ddb)
    for n in range(60):
        store.put_document(make_doc(doc_id=f"d{n:02d}", sha=f"s{n}"))
    assert len(store.list_documents("ws1")) == 60
    assert store.find_document_by_sha256("ws1", "s42").document_id == "d42"
    assert store.find_document_by_sha256("ws1", "") is None


def test_no_client_is_needed_to_construct(monkeypatch):
    built = []
    store = DynamoDbMetadataStore("t", lambda: built.append(1))
    assert built == [] and store.table == "t"


def test_notices_without_bodies_are_read_without_them(ddb):
    """The unread count on every GET /api/me reads who wrote what when, not the texts."""
    from botocore.stub import ANY, Stubber

    from noticebot.adapters.aws import dynamodb_items as items
    from noticebot.domain.models import Notice

    store = DynamoDbMetadataStore("noticebot-test", ddb)
    store.put_notice(Notice("ws1", "n1", "Regatta", "Boats at 9. " * 300, "u1"))
    [head] = store.list_notices("ws1", bodies=False)
    assert (head.notice_id, head.author, head.title, head.body) == ("n1", "u1", "", "")
    # the request botocore's model validates: the projection names every attribute it reads
    with Stubber(ddb) as stub:
        stub.add_response("query", {"Items": []}, {
            "TableName": "noticebot-test", "ConsistentRead": True,
            "KeyConditionExpression": ANY, "ExpressionAttributeValues": ANY,
            **items.NOTICE_HEAD_PROJECTION})
        assert store.list_notices("ws1", bodies=False) == []


def test_invitations_are_deleted_by_ttl_a_month_after_they_expire(ddb):
    from noticebot.domain.members import Invitation, InvitationStatus, Role

    store = DynamoDbMetadataStore("noticebot-test", ddb)
    t0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
    invitation = Invitation(workspace_id="ws1", invitation_id="i1", email="a@example.org",
                            role=Role.MEMBER, invited_by="ed", created_at=t0,
                            expires_at=t0 + timedelta(days=7))
    store.put_invitation(invitation)
    expected = int((t0 + timedelta(days=37)).timestamp())
    assert item(ddb, "WS#ws1", "INVITE#i1")["ttl"] == {"N": str(expected)}
    # a revocation rewrites the item: the ttl stays
    from dataclasses import replace

    store.update_invitation(replace(invitation, status=InvitationStatus.REVOKED,
                                    revoked_at=t0 + timedelta(days=1)),
                            allowed_from=(InvitationStatus.PENDING,))
    assert item(ddb, "WS#ws1", "INVITE#i1")["ttl"] == {"N": str(expected)}
    assert store.get_invitation("ws1", "i1").status == InvitationStatus.REVOKED
