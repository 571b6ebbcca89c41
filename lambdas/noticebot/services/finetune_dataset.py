"""The fine-tune dataset of a workspace: train / validation JSONL in the form train.py reads.

Two kinds of example:
- instruction pairs, ``{"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}``,
  from uploaded Q&A tables and JSON: CSV/TSV with ``question``/``answer`` (or ``prompt``/
  ``completion``, ``instruction``/``response``...) columns, JSON arrays and JSONL of such
  objects, or objects that already hold ``messages``;
- domain text, ``{"text": ...}``, from the workspace's indexed chunks (documents and notices),
  read through ``VectorIndex.chunks``; files that gave Q&A pairs are not repeated as text.

Cleaning: empties dropped (a question without an answer, a passage of a few characters),
exact duplicates dropped (case and whitespace folded), each message and passage capped at
``max_chars`` (cut at a word boundary). The split is deterministic (by a hash of each example),
so the same data gives the same validation set, and the base model's and the fine-tune's
validation losses are measured on the same examples.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from noticebot.domain.models import DocumentStatus, utcnow
from noticebot.ingestion.textdecode import decode_text
from noticebot.ports import BlobStore, MetadataStore, VectorIndex

logger = logging.getLogger(__name__)

QUESTION_KEYS = ("question", "prompt", "instruction", "query", "input", "q")
ANSWER_KEYS = ("answer", "completion", "response", "output", "reply", "a")
TABLE_SUFFIXES = {".csv", ".tsv", ".tab"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".ldjson"}
ROLES = {"system", "user", "assistant"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class DatasetLimits:
    min_train: int = 8
    min_validation: int = 2
    validation_fraction: float = 0.1
    max_validation: int = 500
    max_chars: int = 4000  # per message / passage; train.py also cuts at max_seq_length tokens
    min_text_chars: int = 40  # shorter passages carry no domain knowledge
    max_examples: int = 20000
    max_chunks: int = 5000
    max_file_bytes: int = 20 * 1024 * 1024


@dataclass
class Dataset:
    train: list[dict] = field(default_factory=list)
    validation: list[dict] = field(default_factory=list)
    report: dict = field(default_factory=dict)

    @staticmethod
    def jsonl(rows: list[dict]) -> bytes:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text or "").strip()


def _cap(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip(), True


def _pick(row: dict, keys: tuple[str, ...]) -> str:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for key in keys:
        value = lowered.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    return ""


class DatasetBuilder:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore, index: VectorIndex,
                 limits: DatasetLimits = DatasetLimits()):
        self.metadata = metadata
        self.blobs = blobs
        self.index = index
        self.limits = limits

    # ---------------------------------------------------------------- building
    def build(self, workspace_id: str) -> Dataset:
        counts = {"qa_pairs": 0, "text_passages": 0, "duplicates": 0, "empty": 0,
                  "truncated": 0, "qa_files": 0}
        examples: dict[str, dict] = {}  # dedupe key -> example, first one wins

        def add(example: dict | None, key: str) -> None:
            if example is None:
                counts["empty"] += 1
            elif key in examples:
                counts["duplicates"] += 1
            elif len(examples) < self.limits.max_examples:
                examples[key] = example
                counts["qa_pairs" if "messages" in example else "text_passages"] += 1

        qa_docs = set()
        for doc in self.metadata.list_documents(workspace_id, source="upload"):
            if doc.status == DocumentStatus.FAILED:
                continue
            rows = self._rows(doc.blob_key, doc.filename, doc.size_bytes)
            pairs = [self._pair(r, counts) for r in rows]
            if any(p is not None for p in pairs):
                qa_docs.add(doc.document_id)
                counts["qa_files"] += 1
                for p in pairs:
                    add(p, self._key(p) if p else "")
        now = utcnow()
        for chunk in self.index.chunks(workspace_id, limit=self.limits.max_chunks):
            if chunk.document_id in qa_docs or (chunk.expires_at and chunk.expires_at <= now):
                continue
            text, cut = _cap(_norm(chunk.text), self.limits.max_chars)
            counts["truncated"] += cut
            if len(text) < self.limits.min_text_chars:
                add(None, "")
                continue
            title = _norm(chunk.title)
            add({"text": f"{title}\n\n{text}" if title else text}, "t:" + text.lower())
        return self._split(list(examples.items()), counts)

    def _split(self, items: list[tuple[str, dict]], counts: dict) -> Dataset:
        ranked = sorted(items, key=lambda kv: hashlib.sha256(kv[0].encode()).hexdigest())
        n = len(ranked)
        n_val = min(self.limits.max_validation,
                    max(self.limits.min_validation, round(n * self.limits.validation_fraction)))
        validation = [e for _, e in ranked[:n_val]]
        train = [e for _, e in ranked[n_val:]]
        report = {**counts, "train": len(train), "validation": len(validation), "examples": n}
        return Dataset(train=train, validation=validation, report=report)

    def too_small(self, dataset: Dataset) -> bool:
        return (dataset.report["examples"]
                < self.limits.min_train + self.limits.min_validation)

    # ---------------------------------------------------------------- examples
    def _pair(self, row: dict, counts: dict) -> dict | None:
        """A chat example from one record, or None when it has nothing to learn from."""
        limit = self.limits.max_chars
        if isinstance(row.get("messages"), list):
            messages = []
            for m in row["messages"]:
                if not isinstance(m, dict) or m.get("role") not in ROLES:
                    return None
                content, cut = _cap(_norm(str(m.get("content") or "")), limit)
                counts["truncated"] += cut
                if content:
                    messages.append({"role": m["role"], "content": content})
            roles = [m["role"] for m in messages]
            if "user" not in roles or not roles or roles[-1] != "assistant":
                return None
            return {"messages": messages}
        question, answer = _norm(_pick(row, QUESTION_KEYS)), _norm(_pick(row, ANSWER_KEYS))
        if "instruction" in {str(k).lower() for k in row} and _norm(_pick(row, ("input",))):
            question = f"{question}\n\n{_norm(_pick(row, ('input',)))}".strip()
        if not question or not answer:
            return None
        (question, cut_q), (answer, cut_a) = _cap(question, limit), _cap(answer, limit)
        counts["truncated"] += cut_q + cut_a
        return {"messages": [{"role": "user", "content": question},
                             {"role": "assistant", "content": answer}]}

    @staticmethod
    def _key(example: dict) -> str:
        return "m:" + "\x1f".join(f"{m['role']}:{m['content'].lower()}"
                                  for m in example["messages"])

    # ------------------------------------------------------------------- files
    def _rows(self, blob_key: str, filename: str, size: int) -> list[dict]:
        suffix = PurePosixPath(filename.lower()).suffix
        if suffix not in TABLE_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES:
            return []
        if size > self.limits.max_file_bytes:
            logger.info("skipping %s for the dataset: %d bytes", filename, size)
            return []
        try:
            text = decode_text(self.blobs.get(blob_key))
        except KeyError:
            return []
        text = text.lstrip("\ufeff")
        if suffix in TABLE_SUFFIXES:
            return self._table_rows(text, suffix)
        if suffix in JSONL_SUFFIXES:
            return [r for r in (_loads(line) for line in text.splitlines()) if isinstance(r, dict)]
        data = _loads(text)
        if isinstance(data, dict):  # {"data": [...]} / {"questions": [...]} / one record
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else [data]
        return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []

    @staticmethod
    def _table_rows(text: str, suffix: str) -> list[dict]:
        sample = text[:65536]
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel_tab if suffix in (".tsv", ".tab") else csv.excel
        csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))
        try:
            return list(csv.DictReader(io.StringIO(text), dialect=dialect))
        except csv.Error:
            return []


def _loads(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None
