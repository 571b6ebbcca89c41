import json
from datetime import timedelta

import pytest

from contracts.metadata_store_contract import make_doc
from fakes import FakeVectorIndex
from noticebot.adapters.local.folder_blob_store import FolderBlobStore
from noticebot.adapters.local.sqlite_metadata_store import SqliteMetadataStore
from noticebot.domain.models import Chunk, DocumentStatus, utcnow
from noticebot.services.finetune_dataset import Dataset, DatasetBuilder, DatasetLimits


@pytest.fixture
def parts(tmp_path):
    return SqliteMetadataStore(":memory:"), FolderBlobStore(tmp_path / "blobs"), FakeVectorIndex()


def add_file(parts, doc_id, filename, data: bytes, ws="ws1", status=DocumentStatus.INDEXED):
    metadata, blobs, _ = parts
    doc = make_doc(ws, doc_id, sha=doc_id, status=status)
    doc.filename, doc.size_bytes = filename, len(data)
    doc.blob_key = f"tenants/{ws}/raw/{doc_id}/{filename}"
    metadata.put_document(doc)
    blobs.put(doc.blob_key, data)


def add_chunks(parts, doc_id, texts, ws="ws1", **kw):
    parts[2].upsert(ws, [Chunk(chunk_id=f"{doc_id}:{i}", document_id=doc_id, ordinal=i, text=t,
                               title=kw.get("title", "Handbook"), vector=[0.0],
                               expires_at=kw.get("expires_at")) for i, t in enumerate(texts)])


def messages(example):
    return [(m["role"], m["content"]) for m in example["messages"]]


def test_csv_jsonl_and_messages_become_chat_examples(parts):
    add_file(parts, "csv", "faq.csv", b"Question;Answer\nWhen is choir?;Monday at six.\n"
                                      b"Where is the hall?;Behind the church.\n")
    add_file(parts, "jl", "pairs.jsonl", "\n".join(json.dumps(r) for r in [
        {"prompt": "Who runs the bake sale?", "completion": "The parents' committee."},
        {"instruction": "Summarise the rule", "input": "Helmets on every ride.",
         "output": "Always wear a helmet."},
        {"not": "a pair"},
    ]).encode() + b"\n{truncated")
    add_file(parts, "msg", "chats.json", json.dumps({"data": [
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Is the pool open?"},
                      {"role": "assistant", "content": "Not until spring."}]},
        {"messages": [{"role": "user", "content": "No answer here"}]},
    ]}).encode())
    ds = DatasetBuilder(*parts, DatasetLimits(min_train=1, min_validation=1)).build("ws1")
    everything = ds.train + ds.validation
    pairs = {tuple(messages(e)) for e in everything}
    assert (("user", "When is choir?"), ("assistant", "Monday at six.")) in pairs
    assert (("user", "Who runs the bake sale?"), ("assistant", "The parents' committee.")) in pairs
    assert (("user", "Summarise the rule\n\nHelmets on every ride."),
            ("assistant", "Always wear a helmet.")) in pairs
    assert (("system", "Be brief."), ("user", "Is the pool open?"),
            ("assistant", "Not until spring.")) in pairs
    assert ds.report["qa_pairs"] == 5 and ds.report["qa_files"] == 3
    assert ds.report["empty"] == 2  # {"not": ...} and the chat without an answer


def test_dedupe_empties_and_caps(parts):
    rows = ["question,answer", "When is choir?,Monday.", " when is  CHOIR? , monday. ",
            "Empty answer?,", ",No question", f"Long?,{'word ' * 400}"]
    add_file(parts, "csv", "faq.csv", "\n".join(rows).encode())
    ds = DatasetBuilder(*parts, DatasetLimits(max_chars=100, min_train=1,
                                              min_validation=1)).build("ws1")
    r = ds.report
    assert (r["qa_pairs"], r["duplicates"], r["empty"], r["truncated"]) == (2, 1, 2, 1)
    long = next(e for e in ds.train + ds.validation if e["messages"][0]["content"] == "Long?")
    assert len(long["messages"][1]["content"]) <= 100 and not long["messages"][1]["content"].endswith(" ")


def test_indexed_chunks_become_domain_text_except_qa_files_and_expired_notices(parts):
    add_file(parts, "csv", "faq.csv", b"question,answer\nWhen is choir?,Monday.\n")
    add_chunks(parts, "csv", ["Question: When is choir? Answer: Monday."])  # the table's own chunks
    add_chunks(parts, "hand", ["Members must wear bicycle helmets on every club ride.",
                               "Members must wear bicycle helmets on every club ride.",
                               "Too short."])
    add_chunks(parts, "old", ["The summer fete was moved to the school field this year."],
               title="Notice", expires_at=utcnow() - timedelta(days=1))
    add_chunks(parts, "hand", ["Rides start at the north gate of the park at nine."], ws="ws2")
    ds = DatasetBuilder(*parts, DatasetLimits(min_train=1, min_validation=1)).build("ws1")
    texts = [e["text"] for e in ds.train + ds.validation if "text" in e]
    assert texts == ["Handbook\n\nMembers must wear bicycle helmets on every club ride."]
    assert ds.report["text_passages"] == 1 and ds.report["duplicates"] == 1


def test_split_is_deterministic_and_reports_counts(parts):
    rows = ["question,answer"] + [f"Question {i}?,Answer {i}." for i in range(40)]
    add_file(parts, "csv", "faq.csv", "\n".join(rows).encode())
    builder = DatasetBuilder(*parts)
    a, b = builder.build("ws1"), builder.build("ws1")
    assert a.validation == b.validation and len(a.validation) == 4 and len(a.train) == 36
    assert (a.report["train"], a.report["validation"], a.report["examples"]) == (36, 4, 40)
    assert not builder.too_small(a)
    lines = Dataset.jsonl(a.train).decode().splitlines()
    assert len(lines) == 36 and "messages" in json.loads(lines[0])


def test_too_small_failed_documents_and_other_formats(parts):
    add_file(parts, "csv", "faq.csv", b"question,answer\nA?,B.\n")
    add_file(parts, "bad", "broken.csv", b"question,answer\n" + b"X?,Y.\n" * 30,
             status=DocumentStatus.FAILED)
    add_file(parts, "pdf", "doc.pdf", b"%PDF-1.7 question,answer")
    builder = DatasetBuilder(*parts)
    ds = builder.build("ws1")
    assert ds.report["qa_pairs"] == 1 and builder.too_small(ds)
    assert DatasetBuilder(*parts).build("nobody").report["examples"] == 0
