"""Reading a SageMaker channel and turning its records into token ids and labels.

A channel is a folder (``SM_CHANNEL_TRAIN``, ``SM_CHANNEL_VALIDATION``) of ``*.jsonl``
files, one record a line, as the dataset builder writes them:

    {"messages": [{"role": "user", "content": ..}, {"role": "assistant", "content": ..}]}
    {"text": "..."}                                   domain adaptation (loss on every token)

Also taken, so a hand-made file works: ``{"question", "answer"}`` and
``{"prompt", "completion"}`` lines (an optional ``"system"`` string), ``*.json`` holding a
list of such records, and ``*.csv`` with question/answer, prompt/completion or text
columns. Bad lines are skipped and counted, never fatal alone: the caller decides what
too little data is. Standard library only.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import chat_format

PAIR_KEYS = (("question", "answer"), ("prompt", "completion"), ("instruction", "output"))


@dataclass(frozen=True)
class Example:
    messages: tuple[dict, ...] | None = None  # chat example
    text: str | None = None  # domain-adaptation document

    @property
    def kind(self) -> str:
        return "chat" if self.messages is not None else "text"


@dataclass
class SplitStats:
    files: int = 0
    records: int = 0
    examples: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count

    def as_dict(self) -> dict:
        return {"files": self.files, "records": self.records, "examples": self.examples,
                "skipped": dict(self.skipped)}


def to_example(record) -> Example:
    """One record -> Example; ValueError with a short reason when it is unusable."""
    if not isinstance(record, dict):
        raise ValueError("not an object")
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            raise ValueError("empty messages")
        out = []
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in chat_format.ROLES:
                raise ValueError("bad message role")
            if not isinstance(m.get("content"), str):
                raise ValueError("bad message content")
            out.append({"role": m["role"], "content": m["content"]})
        while out and out[-1]["role"] != "assistant":
            out.pop()  # a trailing question has nothing to learn from
        if not any(m["role"] == "assistant" and m["content"].strip() for m in out):
            raise ValueError("no assistant reply")
        return Example(messages=tuple(out))
    if "text" in record:
        text = record["text"]
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty text")
        return Example(text=text)
    for q_key, a_key in PAIR_KEYS:
        if q_key in record and a_key in record:
            question, answer = record[q_key], record[a_key]
            if not isinstance(question, str) or not isinstance(answer, str):
                raise ValueError("non-string pair")
            if not question.strip() or not answer.strip():
                raise ValueError("empty pair")
            messages = []
            system = record.get("system")
            if isinstance(system, str) and system.strip():
                messages.append({"role": "system", "content": system})
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
            return Example(messages=tuple(messages))
    raise ValueError("unknown record shape")


def _records(path: Path) -> Iterator[object]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            yield from csv.DictReader(fh)
        return
    text = path.read_text(encoding="utf-8-sig")
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            yield _BadRecord("bad json")
            return
        yield from data
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            yield _BadRecord("bad json")


class _BadRecord:
    def __init__(self, reason: str):
        self.reason = reason


def channel_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in Path(folder).rglob("*")
        if p.is_file() and p.suffix.lower() in (".jsonl", ".json", ".csv") and not p.name.startswith(".")
    )


def read_channel(folder: Path | str | None) -> tuple[list[Example], SplitStats]:
    """Every usable example under ``folder`` (missing folder: none), exact duplicates dropped."""
    stats = SplitStats()
    examples: list[Example] = []
    if folder is None or not Path(folder).is_dir():
        return examples, stats
    seen: set[str] = set()
    for path in channel_files(Path(folder)):
        stats.files += 1
        try:
            records = list(_records(path))
        except (UnicodeDecodeError, csv.Error, OSError):
            stats.skipped["unreadable file"] += 1
            continue
        for record in records:
            stats.records += 1
            if isinstance(record, _BadRecord):
                stats.skipped[record.reason] += 1
                continue
            try:
                example = to_example(record)
            except ValueError as exc:
                stats.skipped[str(exc)] += 1
                continue
            key = json.dumps([example.messages, example.text], sort_keys=True)
            if key in seen:
                stats.skipped["duplicate"] += 1
                continue
            seen.add(key)
            examples.append(example)
    stats.examples = len(examples)
    return examples, stats


def hold_out(examples: list[Example], seed: int, share: float = 0.1) -> tuple[list[Example], list[Example]]:
    """(train, validation) when no validation channel was given: a seeded 10 % (at least 1)."""
    if len(examples) < 2:
        return examples, []
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(examples) * share))
    val_idx = set(order[:n_val])
    return ([e for i, e in enumerate(examples) if i not in val_idx],
            [e for i, e in enumerate(examples) if i in val_idx])


@dataclass
class Features:
    """Tokenized examples: parallel lists of ids and labels."""

    input_ids: list[list[int]] = field(default_factory=list)
    labels: list[list[int]] = field(default_factory=list)
    truncated: int = 0
    dropped: int = 0  # nothing trainable left (e.g. the reply fell past max_seq_length)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def target_tokens(self) -> int:
        return sum(sum(1 for x in lab[1:] if x != chat_format.IGNORE_INDEX) for lab in self.labels)


def tokenize(
    examples: Iterable[Example], template: str, encode: chat_format.Encode, max_length: int
) -> Features:
    feats = Features()
    for example in examples:
        if example.kind == "text":
            windows = chat_format.encode_text_windows(example.text, template, encode, max_length)
            if not windows:
                feats.dropped += 1
            for ids, labels in windows:
                feats.input_ids.append(ids)
                feats.labels.append(labels)
            continue
        encoded = chat_format.encode_segments(
            chat_format.render_segments(example.messages, template), encode, max_length)
        if encoded is None:
            feats.dropped += 1
            continue
        ids, labels, truncated = encoded
        feats.truncated += int(truncated)
        feats.input_ids.append(ids)
        feats.labels.append(labels)
    return feats
