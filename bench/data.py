"""The evaluation sets (BEIR layout) and the PDFs used for the ingest benchmark."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATASETS_DIR = SHARED / "datasets"
CORPUS_DIR = SHARED / "corpus"
DATASETS = ("xquad_en", "tatqa_dev", "pubmedqa_l")

# Answer strings longer than this are sentences, not answers a passage "contains" verbatim.
MAX_ANSWER_WORDS = 8
# TAT-QA answers of these types are computed (sums, ratios, counts), not copied from the text.
TATQA_EXTRACTIVE = ("span", "multi-span")

# Text PDFs of the shared corpus (none tagged encrypted / no-text-layer in MANIFEST.csv),
# chosen for several pages of real prose and tables each.
BENCH_PDFS = (
    "pypdf/GeoBase_NHNC1_Data_Model_UML_EN.pdf",
    "pypdf/Seige_of_Vicksburg_Sample_OCR.pdf",
    "pypdf/pdflatex-outline.pdf",
    "pypdf/indirect-rotation.pdf",
    "py-pdf_sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf",
    "pdfplumber/federal-register-2020-17221.pdf",
    "unstructured/pdf/multi-column.pdf",
)
QUICK_PDFS = BENCH_PDFS[:3]


@dataclass
class Query:
    qid: str
    text: str
    gold: dict[str, float]  # corpus id -> grade
    answers: list[str] = field(default_factory=list)  # eligible short answer strings
    require_all: bool = False  # multi-span: every span must be found
    all_answers: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    name: str
    corpus: list[dict]  # {"_id", "title", "text"}
    queries: list[Query]
    answer_note: str = ""


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _qrels(path: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)  # header
        for row in reader:
            if len(row) >= 3 and float(row[2]) > 0:
                out.setdefault(row[0], {})[row[1]] = float(row[2])
    return out


def _eligible(name: str, raw: dict) -> tuple[list[str], bool]:
    answers = [a for a in raw.get("answers") or [] if isinstance(a, str) and a.strip()]
    if name == "pubmedqa_l":
        return [], False  # yes / no / maybe: not a string a passage contains
    require_all = False
    if name == "tatqa_dev":
        if raw.get("answer_type") not in TATQA_EXTRACTIVE:
            return [], False
        require_all = raw.get("answer_type") == "multi-span"
    short = [a for a in answers if len(a.split()) <= MAX_ANSWER_WORDS]
    if require_all and len(short) < len(answers):
        return [], False  # one long span: the set is not a short answer
    return short, require_all


ANSWER_NOTES = {
    "xquad_en": f"extractive SQuAD answers of <= {MAX_ANSWER_WORDS} words",
    "tatqa_dev": (f"only 'span' / 'multi-span' answers of <= {MAX_ANSWER_WORDS} words "
                  "(arithmetic and count answers are computed, not in the text); "
                  "multi-span: all spans must appear in the top-5 texts"),
    "pubmedqa_l": "not applicable: answers are yes / no / maybe (skipped)",
}


def load_dataset(name: str) -> Dataset:
    folder = DATASETS_DIR / name
    corpus = _jsonl(folder / "corpus.jsonl")
    qrels = _qrels(folder / "qrels" / "test.tsv")
    queries = []
    for raw in _jsonl(folder / "queries.jsonl"):
        gold = qrels.get(str(raw["_id"]))
        if not gold:
            continue
        answers, require_all = _eligible(name, raw)
        queries.append(Query(str(raw["_id"]), raw["text"], gold, answers, require_all,
                             [a for a in raw.get("answers") or [] if isinstance(a, str)]))
    return Dataset(name, corpus, queries, ANSWER_NOTES[name])


def sample_queries(queries: list[Query], n: int | None, seed: int) -> list[Query]:
    """A fixed, seeded sample (in file order) of at most n queries."""
    if n is None or n >= len(queries):
        return list(queries)
    picked = sorted(random.Random(seed).sample(range(len(queries)), n))
    return [queries[i] for i in picked]


def shrink_corpus(ds: Dataset, queries: list[Query], distractors: int, seed: int) -> list[dict]:
    """For --quick: the gold passages of the sampled queries plus seeded distractors."""
    gold = {cid for q in queries for cid in q.gold}
    rest = [r for r in ds.corpus if r["_id"] not in gold]
    extra = random.Random(seed).sample(rest, min(distractors, len(rest)))
    keep = gold | {r["_id"] for r in extra}
    return [r for r in ds.corpus if r["_id"] in keep]


def split_dev_test(queries: list[Query], seed: int) -> tuple[set[str], set[str]]:
    """Seeded halves: fusion settings are chosen on dev and reported on test."""
    ids = [q.qid for q in queries]
    random.Random(seed + 1).shuffle(ids)
    half = len(ids) // 2
    return set(ids[:half]), set(ids[half:])


def manifest_tags() -> dict[str, str]:
    with (CORPUS_DIR / "MANIFEST.csv").open(encoding="utf-8") as fh:
        return {row["path"]: row.get("tags") or "" for row in csv.DictReader(fh)}
