"""Reading SageMaker channels: record shapes, bad lines, duplicates, hold-out, tokenizing."""

import json

import chat_format as cf
import training_data as td
from fake_tokens import chars, words


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_every_record_shape_and_the_bad_ones(tmp_path):
    msgs = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    write(tmp_path / "a.jsonl", [
        json.dumps(msgs),
        json.dumps(msgs),  # duplicate
        json.dumps({"text": "The boathouse opens at 06:00."}),
        json.dumps({"question": "Fee?", "answer": "240 EUR", "system": "Be brief."}),
        json.dumps({"prompt": "Key code?", "completion": "Given at induction."}),
        "{not json",
        json.dumps({"messages": [{"role": "user", "content": "only a question"}]}),
        json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
        json.dumps({"question": "", "answer": "x"}),
        json.dumps({"text": "  "}),
        json.dumps({"other": 1}),
        json.dumps([1, 2]),
    ])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.csv").write_text("question,answer\nWho coaches juniors?,Ana Lopez\n,empty\n")
    (tmp_path / "c.json").write_text(json.dumps([{"question": "Q2", "answer": "A2"}]))
    (tmp_path / "notes.txt").write_text("ignored")
    examples, stats = td.read_channel(tmp_path)
    assert [e.kind for e in examples] == ["chat", "text", "chat", "chat", "chat", "chat"]
    assert examples[2].messages[0] == {"role": "system", "content": "Be brief."}
    assert stats.files == 3 and stats.examples == 6 and stats.records == 15
    assert stats.skipped == {"duplicate": 1, "bad json": 1, "no assistant reply": 1, "bad message role": 1,
                             "empty pair": 2, "empty text": 1, "unknown record shape": 1, "not an object": 1}


def test_trailing_user_turn_is_dropped(tmp_path):
    write(tmp_path / "a.jsonl", [json.dumps({"messages": [
        {"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"},
        {"role": "user", "content": "and?"}]})])
    (example,), _ = td.read_channel(tmp_path)
    assert [m["role"] for m in example.messages] == ["user", "assistant"]


def test_missing_channel_and_unreadable_file(tmp_path):
    assert td.read_channel(tmp_path / "absent") == ([], td.SplitStats())
    assert td.read_channel(None)[0] == []
    (tmp_path / "bad.jsonl").write_bytes(b"\xff\xfe\xfa not utf-8")
    examples, stats = td.read_channel(tmp_path)
    assert examples == [] and stats.skipped == {"unreadable file": 1}


def test_hold_out_is_seeded_and_disjoint():
    examples = [td.Example(text=f"doc {i}") for i in range(25)]
    train, val = td.hold_out(examples, seed=3)
    assert len(val) == 2 and len(train) == 23 and not set(train) & set(val)
    assert td.hold_out(examples, seed=3) == (train, val)
    assert td.hold_out(examples[:1], seed=3) == (examples[:1], [])


def test_tokenize_counts_targets_truncation_and_drops():
    examples = [
        td.Example(messages=({"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"})),
        td.Example(messages=({"role": "user", "content": "x" * 200}, {"role": "assistant", "content": "A"})),
        td.Example(text="y" * 150),
    ]
    feats = td.tokenize(examples, "llama3", words, 100)
    assert feats.dropped == 1 and len(feats) == 1 + 2  # the text is cut into two windows
    first = feats.labels[0]
    assert chars(x for x in first if x != cf.IGNORE_INDEX) == "A<|eot_id|>"
    assert feats.target_tokens == 2 + sum(len(x) - 1 for x in feats.labels[1:])
