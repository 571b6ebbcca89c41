"""A chunk's place in its document's structure ("Sheet 'Budget' rows 2-41", "slide 3") travels
from ingestion through the index to search passages and chat citations."""

import csv
import io

from apiclient import multipart


def _upload(api, claims, name: str, data: bytes, content_type: str):
    body, ctype = multipart({}, {"file": (name, data, content_type)})
    return api.call("POST", "/api/upload", claims=claims, raw_body=body, content_type=ctype)


def _rota() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Date", "Volunteer", "Task"])
    writer.writerow(["2024-05-04", "Ann", "Cakes"])
    writer.writerow(["2024-05-11", "Bob", "Tombola"])
    return out.getvalue().encode()


def test_location_reaches_search_passages_and_chat_citations(api, container, editor, member):
    status, body = _upload(api, editor, "rota.csv", _rota(), "text/csv")
    assert status == 202
    container.queue.drain()
    _, doc = api.call("GET", f"/api/documents/{body['document_id']}", claims=editor)
    assert doc["status"] == "indexed", doc.get("error")

    _, hits = api.call("POST", "/api/search", {"query": "who runs the tombola volunteer"},
                       claims=member)
    top = hits["results"][0]
    assert top["document_id"] == body["document_id"]
    assert top["location"] in ("rows 2-3", "rows 2-3, profile")
    rows_hit = next(h for h in hits["results"] if h["location"] == "rows 2-3")
    assert "Volunteer: Bob; Task: Tombola" in rows_hit["snippet"]

    status, answer = api.call("POST", "/api/chat", {"query": "Who runs the tombola?"},
                              claims=member)
    assert status == 200 and answer["citations"]
    cited = [c for c in answer["citations"] if c["document_id"] == body["document_id"]]
    assert cited and all(c["location"] in ("rows 2-3", "rows 2-3, profile") for c in cited)

    # the stored conversation keeps the location too
    _, conv = api.call("GET", f"/api/conversations/{answer['conversation_id']}", claims=member)
    assert conv["turns"][1]["citations"][0]["location"] == answer["citations"][0]["location"]


def test_passages_without_structure_have_no_location(api, container, editor, member):
    _, n = api.call("POST", "/api/notices", {"title": "Choir", "body": "Rehearsal in the crypt."},
                    claims=editor)
    _, hits = api.call("POST", "/api/search", {"query": "choir rehearsal"}, claims=member)
    assert hits["results"][0]["document_id"] == n["notice_id"]
    assert hits["results"][0]["location"] is None
    _, answer = api.call("POST", "/api/chat", {"query": "Where is choir rehearsal?"}, claims=member)
    assert answer["citations"][0]["location"] is None
