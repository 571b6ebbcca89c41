"""The MetadataStore conformance suite. Every adapter (SQLite, DynamoDB) runs it by
subclassing and providing a ``store`` fixture. ``MetadataStoreContract`` carries the members
and invitations part (``MembersStoreContract``) with it."""

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


LEASE = timedelta(seconds=300)


def make_doc(ws="ws1", doc_id="d1", sha="abc", status=DocumentStatus.QUEUED, source="upload"):
    return Document(workspace_id=ws, document_id=doc_id, filename="a.txt", title="A",
                    content_type="text/plain", size_bytes=3, sha256=sha,
                    blob_key=f"tenants/{ws}/raw/{doc_id}/a.txt", status=status, source=source,
                    metadata={"k": "v"}, uploaded_by="u1")


# ------------------------------------------------------------ members and invitations
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)


def make_member(ws="ws1", user="u1", role=None, email="", joined_at=None):
    from noticebot.domain.members import Role, new_member

    return new_member(ws, user, role or Role.MEMBER, email=email or f"{user}@example.org",
                      now=joined_at or T0)


def make_invitation(ws="ws1", invitation_id="i1", email="new@example.org", role=None,
                    user_id="", created_at=None, expires_at=None):
    from noticebot.domain.members import Invitation, Role

    created = created_at or T0
    return Invitation(workspace_id=ws, invitation_id=invitation_id, email=email,
                      role=role or Role.MEMBER, invited_by="boss", user_id=user_id,
                      created_at=created, expires_at=expires_at or created + timedelta(days=7))


class MembersStoreContract:
    def test_a_member_round_trips_and_is_scoped_to_its_workspace(self, store):
        from noticebot.domain.members import JoinResult, MemberStatus, Role

        assert store.join_member(make_member(role=Role.EDITOR, email="ann@example.org")) \
            == JoinResult.JOINED
        got = store.get_member("ws1", "u1")
        assert (got.role, got.status, got.email, got.joined_at) == (
            Role.EDITOR, MemberStatus.ACTIVE, "ann@example.org", T0)
        assert got.invited_by is None and got.sessions_not_before is None
        assert store.get_member("ws2", "u1") is None and store.list_members("ws2") == []
        assert store.remove_member("ws2", "u1", removed_by="x").value == "not_found"
        assert store.change_member_role("ws2", "u1", Role.MEMBER).value == "not_found"
        assert store.get_member("ws1", "u1").role == Role.EDITOR

    def test_joining_twice_is_refused_and_members_list_by_join_time(self, store):
        from noticebot.domain.members import JoinResult

        store.join_member(make_member(user="b", joined_at=T0 + timedelta(hours=1)))
        store.join_member(make_member(user="a", joined_at=T0 + timedelta(hours=2)))
        store.join_member(make_member(user="c", joined_at=T0))
        assert store.join_member(make_member(user="a")) == JoinResult.ALREADY_MEMBER
        assert [m.user_id for m in store.list_members("ws1")] == ["c", "b", "a"]

    def test_the_last_editor_can_be_neither_demoted_nor_removed(self, store):
        from noticebot.domain.members import MemberChange, Role

        store.join_member(make_member(user="ed", role=Role.EDITOR))
        store.join_member(make_member(user="mem"))
        assert store.change_member_role("ws1", "ed", Role.MEMBER) == MemberChange.LAST_EDITOR
        assert store.remove_member("ws1", "ed", removed_by="ed") == MemberChange.LAST_EDITOR
        assert store.get_member("ws1", "ed").is_editor
        # a second editor makes either change possible, once
        assert store.change_member_role("ws1", "mem", Role.EDITOR) == MemberChange.DONE
        assert store.change_member_role("ws1", "mem", Role.EDITOR) == MemberChange.UNCHANGED
        assert store.change_member_role("ws1", "ed", Role.MEMBER) == MemberChange.DONE
        assert store.remove_member("ws1", "mem", removed_by="mem") == MemberChange.LAST_EDITOR
        assert store.change_member_role("ws1", "mem", Role.MEMBER) == MemberChange.LAST_EDITOR
        assert store.get_member("ws1", "mem").is_editor
        assert not store.get_member("ws1", "ed").is_editor

    def test_removal_leaves_a_tombstone_that_a_new_join_replaces(self, store):
        from noticebot.domain.members import JoinResult, MemberChange, MemberStatus, Role

        store.join_member(make_member(user="ed", role=Role.EDITOR))
        store.join_member(make_member(user="sam"))
        assert store.remove_member("ws1", "sam", removed_by="ed", now=T0) == MemberChange.DONE
        gone = store.get_member("ws1", "sam")
        assert (gone.status, gone.removed_by, gone.removed_at) == (MemberStatus.REMOVED, "ed", T0)
        assert not gone.active
        assert store.remove_member("ws1", "sam", removed_by="ed") == MemberChange.NOT_FOUND
        assert store.change_member_role("ws1", "sam", Role.EDITOR) == MemberChange.NOT_FOUND
        assert store.join_member(make_member(user="sam", role=Role.EDITOR)) == JoinResult.JOINED
        back = store.get_member("ws1", "sam")
        assert back.active and back.role == Role.EDITOR and back.removed_at is None
        # two editors again: the first may now go
        assert store.remove_member("ws1", "ed", removed_by="ed") == MemberChange.DONE

    def test_removing_a_member_never_counts_against_the_editors(self, store):
        from noticebot.domain.members import MemberChange, Role

        store.join_member(make_member(user="ed", role=Role.EDITOR))
        store.join_member(make_member(user="m1"))
        assert store.remove_member("ws1", "m1", removed_by="ed") == MemberChange.DONE
        store.join_member(make_member(user="ed2", role=Role.EDITOR))
        assert store.remove_member("ws1", "ed", removed_by="ed2") == MemberChange.DONE
        assert store.remove_member("ws1", "ed2", removed_by="ed2") == MemberChange.LAST_EDITOR

    def test_session_cutoff_only_moves_forward_and_needs_an_active_member(self, store):
        store.join_member(make_member(user="sam"))
        assert store.end_member_sessions("ws1", "sam", 2000)
        assert store.end_member_sessions("ws1", "sam", 1000)  # an earlier one changes nothing
        assert store.get_member("ws1", "sam").sessions_not_before == 2000
        assert not store.end_member_sessions("ws1", "ghost", 3000)
        assert not store.end_member_sessions("ws2", "sam", 3000)
        assert store.get_member("ws1", "ghost") is None

    def test_invitations_round_trip_newest_first_and_scoped(self, store):
        from noticebot.domain.members import InvitationStatus, Role

        store.put_invitation(make_invitation(invitation_id="old", role=Role.EDITOR))
        store.put_invitation(make_invitation(invitation_id="new", email="b@example.org",
                                             created_at=T0 + timedelta(hours=1)))
        assert [i.invitation_id for i in store.list_invitations("ws1")] == ["new", "old"]
        got = store.get_invitation("ws1", "old")
        assert (got.role, got.status, got.invited_by, got.expires_at) == (
            Role.EDITOR, InvitationStatus.PENDING, "boss", T0 + timedelta(days=7))
        assert store.get_invitation("ws2", "old") is None and store.list_invitations("ws2") == []

    def test_an_invitation_update_is_conditional_on_its_status(self, store):
        from dataclasses import replace

        from noticebot.domain.members import InvitationStatus as S

        invitation = make_invitation(user_id="u9")
        store.put_invitation(invitation)
        revoked = replace(invitation, status=S.REVOKED, revoked_by="boss", revoked_at=T0)
        assert store.update_invitation(revoked, allowed_from=(S.PENDING,))
        assert not store.update_invitation(replace(invitation, status=S.ACCEPTED),
                                           allowed_from=(S.PENDING,))
        got = store.get_invitation("ws1", "i1")
        assert (got.status, got.revoked_by, got.revoked_at, got.user_id) == (
            S.REVOKED, "boss", T0, "u9")
        assert not store.update_invitation(make_invitation(invitation_id="ghost"),
                                           allowed_from=(S.PENDING,))
        assert store.get_invitation("ws1", "ghost") is None

    def test_joining_accepts_the_invitation_in_the_same_write(self, store):
        from noticebot.domain.members import InvitationStatus, JoinResult, Role, new_member

        invitation = make_invitation(user_id="newbie", role=Role.EDITOR)
        store.put_invitation(invitation)
        now = T0 + timedelta(days=1)
        member = new_member("ws1", "newbie", Role.EDITOR, email=invitation.email,
                            invitation=invitation, now=now)
        assert store.join_member(member, accepting=invitation, now=now) == JoinResult.JOINED
        got = store.get_invitation("ws1", "i1")
        assert (got.status, got.accepted_at) == (InvitationStatus.ACCEPTED, now)
        assert store.get_member("ws1", "newbie").invited_by == "boss"
        # accepted once: a second acceptance (another device, a replay) writes nothing
        other = new_member("ws1", "someone", Role.EDITOR, invitation=invitation, now=now)
        assert store.join_member(other, accepting=invitation, now=now) \
            == JoinResult.INVITATION_GONE
        assert store.get_member("ws1", "someone") is None

    def test_an_expired_or_revoked_invitation_cannot_be_accepted(self, store):
        from dataclasses import replace

        from noticebot.domain.members import InvitationStatus, JoinResult, Role, new_member

        invitation = make_invitation(user_id="late")
        store.put_invitation(invitation)
        after = invitation.expires_at + timedelta(seconds=1)
        member = new_member("ws1", "late", Role.MEMBER, invitation=invitation, now=after)
        assert store.join_member(member, accepting=invitation, now=after) \
            == JoinResult.INVITATION_GONE
        assert store.get_member("ws1", "late") is None
        assert store.get_invitation("ws1", "i1").status == InvitationStatus.PENDING
        store.update_invitation(replace(invitation, status=InvitationStatus.REVOKED),
                                allowed_from=(InvitationStatus.PENDING,))
        assert store.join_member(member, accepting=invitation, now=T0) \
            == JoinResult.INVITATION_GONE
        assert store.get_member("ws1", "late") is None


def make_device(ws="ws1", user="u1", token="ExponentPushToken[abc]", platform="ios",
                created_at=None):
    from noticebot.domain.notifications import Device, Platform, device_id_for

    return Device(workspace_id=ws, device_id=device_id_for(ws, token), user_id=user,
                  token=token, platform=Platform(platform), created_at=created_at or T0)


class InboxStoreContract:
    def test_seen_only_moves_forward_and_is_scoped(self, store):
        assert store.get_inbox("ws1", "u1") is None
        store.mark_seen("ws1", "u1", T0 + timedelta(hours=2))
        store.mark_seen("ws1", "u1", T0 + timedelta(hours=1))  # a slower device: ignored
        assert store.get_inbox("ws1", "u1").seen_at == T0 + timedelta(hours=2)
        assert store.get_inbox("ws1", "u1").push_muted is False
        assert store.get_inbox("ws2", "u1") is None and store.list_inboxes("ws2") == []

    def test_mute_keeps_the_seen_instant_and_lists_per_workspace(self, store):
        store.mark_seen("ws1", "u1", T0)
        store.set_push_muted("ws1", "u1", True)
        store.set_push_muted("ws1", "u2", True)
        store.set_push_muted("ws1", "u2", False)
        store.set_push_muted("ws2", "u3", True)
        inbox = store.get_inbox("ws1", "u1")
        assert (inbox.seen_at, inbox.push_muted) == (T0, True)
        assert [(i.user_id, i.push_muted) for i in store.list_inboxes("ws1")] == [
            ("u1", True), ("u2", False)]
        store.mark_seen("ws1", "u1", T0 + timedelta(minutes=1))
        assert store.get_inbox("ws1", "u1").push_muted is True

    def test_a_token_is_one_device_per_workspace_and_moves_to_its_new_user(self, store):
        first = store.register_device(make_device(user="ann", platform="ios"))
        again = store.register_device(make_device(user="ann", platform="android",
                                                  created_at=T0 + timedelta(days=1)))
        assert (again.device_id, again.created_at, again.platform.value) == (
            first.device_id, T0, "android")
        moved = store.register_device(make_device(user="bob", created_at=T0 + timedelta(days=2)))
        assert (moved.user_id, moved.created_at) == ("bob", T0 + timedelta(days=2))
        assert [d.user_id for d in store.list_devices("ws1")] == ["bob"]
        assert store.list_devices("ws1", "ann") == []
        other = store.register_device(make_device(ws="ws2", user="ann"))
        assert other.device_id != first.device_id
        assert [d.workspace_id for d in store.list_devices("ws2")] == ["ws2"]

    def test_devices_list_oldest_first_and_delete_only_the_owners(self, store):
        store.register_device(make_device(user="ann", token="ExponentPushToken[b]",
                                          created_at=T0 + timedelta(hours=1)))
        store.register_device(make_device(user="ann", token="ExponentPushToken[a]"))
        store.register_device(make_device(user="bob", token="ExponentPushToken[c]"))
        ann = store.list_devices("ws1", "ann")
        assert [d.token for d in ann] == ["ExponentPushToken[a]", "ExponentPushToken[b]"]
        assert not store.delete_device("ws1", ann[0].device_id, "bob")
        assert not store.delete_device("ws2", ann[0].device_id)
        assert store.delete_device("ws1", ann[0].device_id, "ann")
        assert not store.delete_device("ws1", ann[0].device_id, "ann")
        assert store.delete_device("ws1", ann[1].device_id)  # no owner given: any
        assert [d.user_id for d in store.list_devices("ws1")] == ["bob"]

    def test_a_notice_keeps_when_it_was_pinned(self, store):
        store.put_notice(Notice("ws1", "n1", "t", "b", "u1", pinned=True, created_at=T0,
                                pinned_at=T0 + timedelta(hours=3)))
        store.put_notice(Notice("ws1", "n2", "t", "b", "u1", created_at=T0))
        assert store.get_notice("ws1", "n1").pinned_at == T0 + timedelta(hours=3)
        assert store.get_notice("ws1", "n2").pinned_at is None


class MetadataStoreContract(MembersStoreContract, InboxStoreContract):
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

    def test_indexing_can_set_the_title_found_in_the_file(self, store):
        store.put_document(make_doc(status=DocumentStatus.PROCESSING))
        before = store.get_document("ws1", "d1").title
        assert store.transition_document("ws1", "d1", DocumentStatus.INDEXED,
                                         allowed_from=(DocumentStatus.PROCESSING,),
                                         chunk_count=3, title="Club rules 2026")
        assert store.get_document("ws1", "d1").title == "Club rules 2026" != before
        # no title given: the stored one stays
        store.put_document(make_doc(doc_id="d2", sha="x", status=DocumentStatus.PROCESSING))
        keep = store.get_document("ws1", "d2").title
        assert store.transition_document("ws1", "d2", DocumentStatus.FAILED,
                                         allowed_from=(DocumentStatus.PROCESSING,), error="bad")
        assert store.get_document("ws1", "d2").title == keep

    def test_failure_keeps_its_message(self, store):
        store.put_document(make_doc(status=DocumentStatus.PROCESSING))
        assert store.transition_document("ws1", "d1", DocumentStatus.FAILED,
                                         allowed_from=(DocumentStatus.PROCESSING,),
                                         error="password protected PDF")
        assert store.get_document("ws1", "d1").error == "password protected PDF"

    # ---------------------------------------------------------------- ingest leases
    def test_a_claim_starts_an_attempt_under_a_lease(self, store):
        store.put_document(make_doc())
        t0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
        assert store.claim_document("ws1", "d1", holder="msg-1", lease_until=t0 + LEASE, now=t0)
        got = store.get_document("ws1", "d1")
        assert got.status == DocumentStatus.PROCESSING and got.attempts == 1
        assert (got.lease_until, got.lease_holder) == (t0 + LEASE, "msg-1")

    def test_a_live_lease_refuses_another_delivery_until_it_runs_out(self, store):
        store.put_document(make_doc())
        t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
        assert store.claim_document("ws1", "d1", holder="msg-1", lease_until=t0 + LEASE, now=t0)
        later = t0 + LEASE - timedelta(seconds=1)
        assert not store.claim_document("ws1", "d1", holder="msg-2", lease_until=later + LEASE,
                                        now=later)
        assert store.get_document("ws1", "d1").lease_holder == "msg-1"
        expired = t0 + LEASE
        assert store.claim_document("ws1", "d1", holder="msg-2", lease_until=expired + LEASE,
                                    now=expired)
        got = store.get_document("ws1", "d1")
        assert (got.attempts, got.lease_holder, got.lease_until) == (2, "msg-2", expired + LEASE)

    def test_a_redelivered_message_takes_over_its_own_lease_at_once(self, store):
        # The queue redelivers a message only once its earlier receive is over (visibility
        # timeout, failure, or its receiver died), so that attempt no longer runs.
        store.put_document(make_doc())
        t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
        assert store.claim_document("ws1", "d1", holder="msg-1", lease_until=t0 + LEASE, now=t0)
        soon = t0 + timedelta(seconds=5)
        assert store.claim_document("ws1", "d1", holder="msg-1", lease_until=soon + LEASE, now=soon)
        assert store.get_document("ws1", "d1").attempts == 2

    def test_a_claim_never_reopens_a_settled_or_missing_document(self, store):
        t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
        for doc_id, status in (("i", DocumentStatus.INDEXED), ("f", DocumentStatus.FAILED)):
            store.put_document(make_doc(doc_id=doc_id, sha=doc_id, status=status))
            assert not store.claim_document("ws1", doc_id, holder="m", lease_until=t0 + LEASE,
                                            now=t0)
            got = store.get_document("ws1", doc_id)
            assert (got.status, got.attempts) == (status, 0)
        assert not store.claim_document("ws1", "ghost", holder="m", lease_until=t0 + LEASE, now=t0)
        assert store.get_document("ws1", "ghost") is None

    def test_processing_without_a_recorded_lease_can_be_taken_over(self, store):
        store.put_document(make_doc(status=DocumentStatus.PROCESSING))
        t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
        assert store.claim_document("ws1", "d1", holder="m", lease_until=t0 + LEASE, now=t0)
        assert store.get_document("ws1", "d1").lease_holder == "m"

    def test_requeue_resets_a_failed_document_unless_it_changed_since_read(self, store):
        doc = make_doc(status=DocumentStatus.FAILED)
        doc.error, doc.attempts = "indexing failed", 3
        store.put_document(doc)
        seen = store.get_document("ws1", "d1")
        assert store.requeue_document("ws1", "d1", seen=seen, reset_attempts=True)
        got = store.get_document("ws1", "d1")
        assert (got.status, got.attempts, got.error, got.lease_until, got.lease_holder) == (
            DocumentStatus.QUEUED, 0, None, None, "")
        # What was read is stale now: a second requeue on it loses.
        assert not store.requeue_document("ws1", "d1", seen=seen, reset_attempts=True)

    def test_requeue_of_a_stuck_attempt_can_keep_its_attempt_count(self, store):
        store.put_document(make_doc())
        t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
        store.claim_document("ws1", "d1", holder="m", lease_until=t0 + LEASE, now=t0)
        seen = store.get_document("ws1", "d1")
        assert store.requeue_document("ws1", "d1", seen=seen, reset_attempts=False)
        got = store.get_document("ws1", "d1")
        assert (got.status, got.attempts, got.lease_until) == (DocumentStatus.QUEUED, 1, None)

    def test_a_transition_can_require_the_document_unchanged_since_read(self, store):
        store.put_document(make_doc())
        seen = store.get_document("ws1", "d1")
        t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
        store.claim_document("ws1", "d1", holder="m", lease_until=t0 + LEASE, now=t0)
        assert not store.transition_document(
            "ws1", "d1", DocumentStatus.FAILED, error="stuck",
            allowed_from=(DocumentStatus.QUEUED, DocumentStatus.PROCESSING),
            unchanged_since=seen.updated_at)
        fresh = store.get_document("ws1", "d1")
        assert fresh.status == DocumentStatus.PROCESSING
        assert store.transition_document(
            "ws1", "d1", DocumentStatus.FAILED, error="stuck",
            allowed_from=(DocumentStatus.PROCESSING,), unchanged_since=fresh.updated_at)
        assert store.get_document("ws1", "d1").error == "stuck"

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

    def test_notices_without_bodies_keep_authors_times_and_order(self, store):
        t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        store.put_notice(Notice("ws1", "n1", "Old", "long body " * 500, "u1", created_at=t0,
                                expires_at=t0 + timedelta(days=3)))
        store.put_notice(Notice("ws1", "n2", "Pinned", "b", "u2", pinned=True, created_at=t0,
                                pinned_at=t0 + timedelta(hours=5)))

        def head(n):
            return (n.notice_id, n.author, n.pinned, n.created_at, n.updated_at, n.pinned_at,
                    n.expires_at)

        whole = store.list_notices("ws1")
        heads = store.list_notices("ws1", bodies=False)
        assert [head(n) for n in heads] == [head(n) for n in whole]
        assert [n.notice_id for n in heads] == ["n2", "n1"]
        assert store.list_notices("ws2", bodies=False) == []

    def test_conversation_turns_append_in_order(self, store):
        store.put_conversation(Conversation("ws1", "c1", "u1", title="t"))
        store.append_turns("ws1", "c1", [ConversationTurn("user", "q1"),
                                         ConversationTurn("assistant", "a1", [Citation("d1", "A", 2, "s", 0.5)])])
        store.append_turns("ws1", "c1", [ConversationTurn("user", "q2")])
        conv = store.get_conversation("ws1", "c1")
        assert [t.content for t in conv.turns] == ["q1", "a1", "q2"]
        assert conv.turns[1].citations[0].page == 2
        assert store.get_conversation("ws2", "c1") is None


# ------------------------------------------------------------------ fine-tuning (issue 6)
def make_job(ws="ws1", job_id="j1", status=None, created_at=None):
    from noticebot.domain.tuning import FineTuneJob, JobStatus

    job = FineTuneJob(workspace_id=ws, job_id=job_id, created_by="u1",
                      hyperparameters={"epochs": 2, "learning_rate": 2e-4},
                      dataset={"train": 9, "validation": 2}, dataset_prefix=f"tenants/{ws}/datasets/{job_id}/",
                      status=status or JobStatus.QUEUED)
    if created_at:
        job.created_at = created_at
    return job


def make_model(ws="ws1", model_id="m1", created_at=None):
    from noticebot.domain.tuning import ModelVersion

    version = ModelVersion(workspace_id=ws, model_id=model_id, job_id="j1", name="Fine-tune 1",
                           base_model="llama3", adapter_name=f"ic-{model_id}",
                           metrics={"eval_loss": 1.25, "base_eval_loss": 1.5, "steps": 10})
    if created_at:
        version.created_at = created_at
    return version


class TuningStoreContract:
    def test_job_round_trip_and_scope(self, store):
        from noticebot.domain.tuning import JobStatus

        store.put_job(make_job())
        got = store.get_job("ws1", "j1")
        assert got.status == JobStatus.QUEUED and got.hyperparameters["learning_rate"] == 2e-4
        assert got.dataset == {"train": 9, "validation": 2} and got.created_at is not None
        assert store.get_job("ws2", "j1") is None and store.list_jobs("ws2") == []

    def test_jobs_list_newest_first(self, store):
        t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        store.put_job(make_job(job_id="old", created_at=t0))
        store.put_job(make_job(job_id="new", created_at=t0 + timedelta(hours=1)))
        assert [j.job_id for j in store.list_jobs("ws1")] == ["new", "old"]

    def test_update_job_is_conditional_on_status(self, store):
        from noticebot.domain.tuning import JobStatus

        job = make_job()
        store.put_job(job)
        job.status, job.metrics = JobStatus.COMPLETED, {"eval_loss": 0.5}
        assert store.update_job(job, allowed_from=(JobStatus.QUEUED, JobStatus.RUNNING))
        job.status = JobStatus.FAILED  # a late duplicate event must not undo the completion
        assert not store.update_job(job, allowed_from=(JobStatus.QUEUED, JobStatus.RUNNING))
        got = store.get_job("ws1", "j1")
        assert got.status == JobStatus.COMPLETED and got.metrics == {"eval_loss": 0.5}
        assert not store.update_job(make_job(job_id="ghost"), allowed_from=(JobStatus.QUEUED,))
        assert store.get_job("ws1", "ghost") is None

    def test_one_training_slot_per_workspace(self, store):
        assert store.claim_tuning_slot("ws1", "j1") is None
        assert store.claim_tuning_slot("ws1", "j2") == "j1"
        assert store.claim_tuning_slot("ws2", "j3") is None  # another workspace is independent
        assert not store.release_tuning_slot("ws1", "j2")  # only the holder releases
        assert store.release_tuning_slot("ws1", "j1")
        assert store.claim_tuning_slot("ws1", "j2") is None

    def test_models_round_trip_order_and_scope(self, store):
        t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        store.put_model(make_model(model_id="m1", created_at=t0))
        store.put_model(make_model(model_id="m2", created_at=t0 + timedelta(days=1)))
        assert [m.model_id for m in store.list_models("ws1")] == ["m2", "m1"]
        got = store.get_model("ws1", "m1")
        assert got.metrics["eval_loss"] == 1.25 and got.adapter_name == "ic-m1"
        assert store.get_model("ws2", "m1") is None and store.list_models("ws2") == []

    def test_active_model_pointer(self, store):
        assert store.get_active_model("ws1") is None
        store.set_active_model("ws1", "m1")
        assert store.get_active_model("ws1") == "m1" and store.get_active_model("ws2") is None
        store.set_active_model("ws1", None)  # back to the base model
        assert store.get_active_model("ws1") is None
