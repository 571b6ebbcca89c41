from datetime import datetime, timedelta, timezone


def test_notice_crud_and_board_order(api, editor, member):
    status, a = api.call("POST", "/api/notices", {"title": "Bake sale", "body": "Friday at noon."},
                         claims=editor)
    assert status == 201 and a["author"] == "maria"
    _, b = api.call("POST", "/api/notices", {"title": "AGM", "body": "Annual meeting on 3 May.",
                                             "pinned": True}, claims=editor)
    _, board = api.call("GET", "/api/notices", claims=member)
    assert [n["notice_id"] for n in board["notices"]] == [b["notice_id"], a["notice_id"]]

    status, patched = api.call("PATCH", f"/api/notices/{a['notice_id']}",
                               {"body": "Friday at 13:00."}, claims=editor)
    assert status == 200 and patched["body"] == "Friday at 13:00." and patched["title"] == "Bake sale"
    assert api.call("GET", f"/api/notices/{a['notice_id']}", claims=member)[1]["body"] == "Friday at 13:00."

    assert api.call("PATCH", f"/api/notices/{a['notice_id']}", {"pinned": True}, claims=member)[0] == 403
    assert api.call("DELETE", f"/api/notices/{a['notice_id']}", claims=member)[0] == 403
    assert api.call("DELETE", f"/api/notices/{a['notice_id']}", claims=editor)[0] == 204
    assert api.call("GET", f"/api/notices/{a['notice_id']}", claims=member)[0] == 404


def test_notices_are_searchable_and_edits_reindex(api, editor, member):
    _, n = api.call("POST", "/api/notices", {"title": "Choir rehearsal",
                                             "body": "Rehearsal moves to the crypt."}, claims=editor)
    _, hits = api.call("POST", "/api/search", {"query": "where is choir rehearsal"}, claims=member)
    assert hits["results"][0]["document_id"] == n["notice_id"]
    assert "crypt" in hits["results"][0]["snippet"]
    api.call("PATCH", f"/api/notices/{n['notice_id']}", {"body": "Rehearsal moves to the vestry."},
             claims=editor)
    _, hits = api.call("POST", "/api/search", {"query": "choir rehearsal"}, claims=member)
    snippets = " ".join(h["snippet"] for h in hits["results"])
    assert "vestry" in snippets and "crypt" not in snippets


def test_expired_notices_leave_the_board_and_are_not_cited(api, container, editor, member):
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    _, n = api.call("POST", "/api/notices", {"title": "Jumble sale", "body": "Jumble sale in the hall.",
                                             "expires_at": past}, claims=editor)
    assert api.call("GET", "/api/notices", claims=member)[1]["notices"] == []
    _, with_expired = api.call("GET", "/api/notices", claims=member,
                               query={"include_expired": "true"})
    assert [x["notice_id"] for x in with_expired["notices"]] == [n["notice_id"]]
    assert with_expired["notices"][0]["expired"] is True
    _, hits = api.call("POST", "/api/search", {"query": "jumble sale"}, claims=member)
    assert hits["results"] == []
    _, answer = api.call("POST", "/api/chat", {"query": "When is the jumble sale?"}, claims=member)
    assert answer["citations"] == []


def test_naive_expiry_is_rejected(api, editor):
    status, err = api.call("POST", "/api/notices", {"title": "t", "body": "b",
                                                    "expires_at": "2030-01-01T10:00:00"}, claims=editor)
    # A date-time without its zone does not fit the schema (RFC 3339 date-time): 422.
    assert status == 422 and "time zone" in err["error"]["message"]


def test_chat_answers_with_citations_and_keeps_the_conversation(api, container, editor, member):
    _, n = api.call("POST", "/api/notices", {"title": "Summer party",
                                             "body": "The summer party is on 12 July at the boathouse."},
                    claims=editor)
    status, first = api.call("POST", "/api/chat", {"query": "When is the summer party?"}, claims=member)
    assert status == 200
    assert "12 July" in first["answer"]
    assert first["citations"][0]["document_id"] == n["notice_id"]
    assert first["citations"][0]["title"] == "Summer party"
    assert first["model"] == "fake-chat" and first["grounded"] is True

    _, second = api.call("POST", "/api/chat", {"query": "Where is the summer party?",
                                               "conversation_id": first["conversation_id"]},
                         claims=member)
    assert second["conversation_id"] == first["conversation_id"]
    prompt = container.chat_model.requests[-1]
    assert any(m.role == "assistant" and "12 July" in m.content for m in prompt)  # history carried

    status, conv = api.call("GET", f"/api/conversations/{first['conversation_id']}", claims=member)
    assert status == 200
    assert [t["role"] for t in conv["turns"]] == ["user", "assistant", "user", "assistant"]
    assert conv["turns"][1]["citations"][0]["document_id"] == n["notice_id"]
    # another member of the same workspace cannot read it
    from apiclient import claims_for

    other = claims_for("ana", "riverside")
    assert api.call("GET", f"/api/conversations/{first['conversation_id']}", claims=other)[0] == 404


def test_chat_says_plainly_when_sources_do_not_hold_the_answer(api, container, editor, member):
    api.call("POST", "/api/notices", {"title": "Summer party", "body": "On 12 July."}, claims=editor)
    calls = len(container.chat_model.requests)
    _, answer = api.call("POST", "/api/chat", {"query": "Quantum chromodynamics lattice"},
                         claims=member)
    assert answer["grounded"] is False
    assert "could not find" in answer["answer"]
    assert answer["citations"] == []
    assert len(container.chat_model.requests) == calls  # the model was not asked to guess


def test_chat_rejects_unknown_conversation_and_model(api, member):
    assert api.call("POST", "/api/chat", {"query": "hi", "conversation_id": "nope"},
                    claims=member)[0] == 404
    status, err = api.call("POST", "/api/chat", {"query": "hi", "model": "gpt-9"}, claims=member)
    # Like the unknown conversation: the request names something this workspace does not have.
    assert status == 404 and "model" in err["error"]["message"]


def test_search_modes_and_top_k(api, editor, member):
    for i in range(6):
        api.call("POST", "/api/notices", {"title": f"Match {i}", "body": f"Football match number {i}."},
                 claims=editor)
    _, hits = api.call("POST", "/api/search", {"query": "football match", "top_k": 3}, claims=member)
    assert len(hits["results"]) == 3
    scores = [h["score"] for h in hits["results"]]
    assert scores == sorted(scores, reverse=True)
    _, bm25 = api.call("POST", "/api/search", {"query": "football", "mode": "bm25"}, claims=member)
    assert bm25["results"]
    assert api.call("POST", "/api/search", {"query": "x", "mode": "magic"}, claims=member)[0] == 422
    assert api.call("POST", "/api/search", {"query": ""}, claims=member)[0] == 422
