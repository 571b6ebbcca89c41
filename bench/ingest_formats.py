"""Ingest throughput per format, and peak memory, over the shared corpus.

    .venv/bin/python bench/ingest_formats.py [--quick] [--out FILE]

``measure_ingest_formats()`` is what ``bench/run.py`` calls. It runs the product's parse stage -
``parse_document`` (detect, parse, clean) with the real local engines (Tesseract, Whisper
tiny.en int8) and ``chunk_sections`` - over every corpus file of a group, and reports:

- PDF with a text layer and scanned PDF (OCR): pages/s
- images (OCR): pages/s (a TIFF frame is a page)
- tables (CSV/TSV/XLSX/XLS): data rows/s (rows counted independently of the parser)
- audio: seconds of audio transcribed per wall-clock second (the inverse real-time factor)
- documents (Word, HTML, text, Markdown, e-mail, JSON, ...): documents/s and MB/s
- peak memory: the Python heap per group (tracemalloc, in a second pass over the group's
  largest files: tracing slows pure-Python parsers such as pypdf several times, so it never
  runs during the timed pass) and the process's peak RSS (``resource.getrusage``; Whisper and
  pdfium allocate natively, outside tracemalloc's view; tesseract runs as a child process).

Embedding is left out on purpose: it is the same per chunk whatever the format, and the
project benchmark measures it on its own (its ``embedding`` section). Failed files (encrypted,
empty, unsupported...) are counted, not timed into the rates. The Whisper model's one-off load
is timed separately (``whisper_load_s``) so it does not distort audio throughput.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import resource
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "lambdas"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from noticebot.domain.errors import UnreadableDocument  # noqa: E402
from noticebot.ingestion import chunk_sections, detect_kind, parse_document  # noqa: E402
from noticebot.bootstrap_local import local_engines  # noqa: E402
from noticebot.ingestion.engines import Engines  # noqa: E402
from noticebot.ingestion.parsed import ParseLimits  # noqa: E402

CORPUS_DIR = ROOT.parent / "shared" / "corpus"
TABLE_KINDS = {"csv", "tsv", "xlsx", "xls"}
Log = Callable[[str], None]

# group -> (unit the rate is given in, how a file of the group is measured)
UNITS = {"pdf_text": "pages", "pdf_ocr": "pages", "image_ocr": "pages", "table": "rows",
         "audio": "audio_seconds", "document": "documents"}


def _group(kind: str, tags: str) -> str | None:
    if kind == "pdf":
        return "pdf_ocr" if "no-text-layer" in tags else "pdf_text"
    if kind == "image":
        return "image_ocr"
    if kind == "audio":
        return "audio"
    if kind in TABLE_KINDS:
        return "table"
    if kind in ("unsupported", "zip", "archive", "video", "encrypted-office"):
        return None
    return "document"


def _table_rows(data: bytes, kind: str) -> int:
    """Data rows (header excluded) counted without the product's parser."""
    try:
        if kind in ("csv", "tsv"):
            text = data.decode("utf-8", "replace")
            csv.field_size_limit(1 << 30)
            rows = [r for r in csv.reader(io.StringIO(text),
                                          delimiter="\t" if kind == "tsv" else ",") if any(r)]
            return max(0, len(rows) - 1)
        if kind == "xlsx":
            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            return sum(max(0, (sheet.max_row or 0) - 1) for sheet in book.worksheets)
        if kind == "xls":
            import xlrd

            book = xlrd.open_workbook(file_contents=data)
            return sum(max(0, sheet.nrows - 1) for sheet in book.sheets())
    except Exception:  # noqa: BLE001 - a table the counter cannot read counts no rows
        return 0
    return 0


def _audio_seconds(data: bytes) -> float:
    try:
        import av

        with av.open(io.BytesIO(data), metadata_errors="ignore") as container:
            return (container.duration or 0) / 1_000_000
    except Exception:  # noqa: BLE001
        return 0.0


def _units(group: str, data: bytes, kind: str, doc) -> float:
    if group in ("pdf_text", "pdf_ocr", "image_ocr"):
        return float(doc.page_count or 1)
    if group == "table":
        return float(_table_rows(data, kind))
    if group == "audio":
        return _audio_seconds(data)
    return 1.0


def _corpus_files(corpus: Path) -> list[tuple[str, bytes, str, str]]:
    """(path, bytes, kind, tags) of every manifest file that is not empty."""
    with (corpus / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    files = []
    for row in rows:
        data = (corpus / row["path"]).read_bytes()
        if data:
            name = Path(row["path"]).name
            files.append((row["path"], data, detect_kind(data, name, row["mime"] or None),
                          row.get("tags") or ""))
    return files


def _python_peak(files, engines, limits, count_tokens, n: int) -> int:
    """Peak Python heap (bytes) parsing each of the ``n`` largest files, one at a time."""
    peak = 0
    for path, data, _kind in sorted(files, key=lambda f: -len(f[1]))[:n]:
        tracemalloc.start()
        try:
            doc = parse_document(data, Path(path).name, None, limits, engines)
            chunk_sections(doc.sections, count_tokens)
        except UnreadableDocument:
            pass
        finally:
            peak = max(peak, tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    return peak


def _max_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux: kilobytes


def _warm_whisper(engines: Engines, log: Log) -> float | None:
    """Load the Whisper model once, outside the timed runs."""
    transcriber = engines.transcriber
    if transcriber is None or getattr(transcriber, "loaded", True):
        return None
    started = time.perf_counter()
    try:
        transcriber._load()  # noqa: SLF001 - the adapter's lazy load, timed on its own
    except Exception as exc:  # noqa: BLE001
        log(f"  whisper unavailable: {exc}")
        return None
    return round(time.perf_counter() - started, 2)


def measure_ingest_formats(corpus: Path = CORPUS_DIR, *, engines: Engines | None = None,
                           max_files_per_group: int | None = None,
                           count_tokens: Callable[[str], int] = lambda t: len(t.split()),
                           trace_files: int = 3, log: Log = print) -> dict:
    """Throughput per format group and peak memory; see the module docstring."""
    if not (corpus / "MANIFEST.csv").is_file():
        return {"error": f"corpus not found at {corpus}"}
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged corpus PDFs are expected
    engines = engines or local_engines()
    limits = ParseLimits()
    whisper_load = _warm_whisper(engines, log)
    groups: dict[str, list] = defaultdict(list)
    for path, data, kind, tags in _corpus_files(corpus):
        group = _group(kind, tags)
        if group and (max_files_per_group is None or len(groups[group]) < max_files_per_group):
            groups[group].append((path, data, kind))
    results: dict[str, dict] = {}
    for group, files in sorted(groups.items()):
        unit = UNITS[group]
        seconds = units = 0.0
        done = failed = chunks = 0
        size = 0
        for path, data, kind in files:
            started = time.perf_counter()
            try:
                doc = parse_document(data, Path(path).name, None, limits, engines)
                drafts = chunk_sections(doc.sections, count_tokens)
            except UnreadableDocument:
                failed += 1
                continue
            seconds += time.perf_counter() - started
            done += 1
            chunks += len(drafts)
            size += len(data)
            units += _units(group, data, kind, doc)
        peak = _python_peak(files, engines, limits, count_tokens, trace_files)
        rate = round(units / seconds, 2) if seconds else None
        results[group] = {
            "files": len(files), "indexed": done, "failed": failed, "chunks": chunks,
            unit: round(units, 1), "seconds": round(seconds, 2),
            f"{unit}_per_s": rate, "mb_per_s": round(size / 1e6 / seconds, 2) if seconds else None,
            "peak_python_mb": round(peak / 1e6, 1),
        }
        log(f"  {group:10s} {done:3d} ok / {failed:2d} failed  {units:8.1f} {unit} in "
            f"{seconds:6.2f} s = {rate} {unit}/s  (python peak {peak / 1e6:.0f} MB)")
    return {
        "formats": results,
        "whisper_load_s": whisper_load,
        "max_rss_mb": _max_rss_mb(resource.RUSAGE_SELF),
        "note": "parse + clean + chunk with the real local engines; embedding excluded",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="at most 5 files per format group")
    ap.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    result = measure_ingest_formats(args.corpus, max_files_per_group=5 if args.quick else None,
                                    log=lambda m: print(m, file=sys.stderr, flush=True))
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
