"""The MetadataStore conformance suite. Every adapter (SQLite now, DynamoDB next) runs it
by subclassing and providing a ``store`` fixture."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from noticebot.domain.models import (
    Citation,
    Conversation,
    ConversationTurn,
    Document,
    DocumentStatus,
    Notice,
)


def make_doc(ws="ws1", doc_id="d1", sha="abc", status=DocumentStatus.QUEUED, source="upload"):
    return Document(workspace_id=ws, document_id=doc_id, filename="a.txt", title="A",
                    content_type="text/plain", size_bytes=3, sha256=sha,
                    blob_key=f"tenants/{ws}/raw/{doc_id}/a.txt", status=status, source=source,
                    metadata={"k": "v"}, uploaded_by="u1")


class MetadataStoreContract:
    def test_document_round_trip(self, store):
        doc = make_doc()
        store.put_document(doc)
        got = store.get_document("ws1", "d1")
        assert got.title == "A" and got.metadata == {"k": "v"} and got.status == DocumentStatus.QUEUED
        assert got.created_at == doc.created_at

    def test_documents_are_scoped_to_their_workspace(self, store):
        store.put_document(make_doc("ws1", "d1"))
        store.put_document(make_doc("ws2", "d2"))
        assert store.get_document("ws2", "d1") is None
        assert [d.document_id for d in store.list_documents("ws1")] == ["d1"]
        assert store.find_document_by_sha256("ws2", "abc").document_id == "d2"
        assert store.delete_document("ws2", "d1") is False
        assert store.get_document("ws1", "d1") is not None

    def test_list_filters_by_source(self, store):
        store.put_document(make_doc(doc_id="d1"))
        store.put_document(make_doc(doc_id="n1", sha="n", source="notice"))
        assert [d.document_id for d in store.list_documents("ws1", source="upload")] == ["d1"]
        assert len(store.list_documents("ws1")) == 2

    def test_conditional_transitions_reject_stale_messages(self, store):
        store.put_document(make_doc())
        P, Q, I = DocumentStatus.PROCESSING, DocumentStatus.QUEUED, DocumentStatus.INDEXED
        assert store.transition_document("ws1", "d1", P, allowed_from=(Q,))
        assert store.transition_document("ws1", "d1", I, allowed_from=(P,), chunk_count=7, page_count=2)
        # a redelivered message must not drag an indexed document back to processing
        assert not store.transition_document("ws1", "d1", P, allowed_from=(Q, P))
        got = store.get_document("ws1", "d1")
        assert got.status == I and got.chunk_count == 7 and got.page_count == 2
        assert not store.transition_document("ws1", "missing", P, allowed_from=(Q,))

    def test_failure_keeps_its_message(self, store):
        store.put_document(make_doc(status=DocumentStatus.PROCESSING))
        assert store.transition_document("ws1", "d1", DocumentStatus.FAILED,
                                         allowed_from=(DocumentStatus.PROCESSING,),
                                         error="password protected PDF")
        assert store.get_document("ws1", "d1").error == "password protected PDF"

    def test_notices_round_trip_order_and_scope(self, store):
        t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        store.put_notice(Notice("ws1", "n1", "Old", "b", "u1", created_at=t0))
        store.put_notice(Notice("ws1", "n2", "New", "b", "u1", created_at=t0 + timedelta(days=1),
                                expires_at=t0 + timedelta(days=9)))
        store.put_notice(Notice("ws1", "n3", "Pinned", "b", "u1", pinned=True, created_at=t0))
        assert [n.notice_id for n in store.list_notices("ws1")] == ["n3", "n2", "n1"]
        assert store.get_notice("ws1", "n2").expires_at == t0 + timedelta(days=9)
        assert store.get_notice("ws2", "n1") is None
        assert store.delete_notice("ws1", "n1") and not store.delete_notice("ws1", "n1")

    def test_conversation_turns_append_in_order(self, store):
        store.put_conversation(Conversation("ws1", "c1", "u1", title="t"))
        store.append_turns("ws1", "c1", [ConversationTurn("user", "q1"),
                                         ConversationTurn("assistant", "a1", [Citation("d1", "A", 2, "s", 0.5)])])
        store.append_turns("ws1", "c1", [ConversationTurn("user", "q2")])
        conv = store.get_conversation("ws1", "c1")
        assert [t.content for t in conv.turns] == ["q1", "a1", "q2"]
        assert conv.turns[1].citations[0].page == 2
        assert store.get_conversation("ws2", "c1") is None
