"""bench/ingest_formats.py on a tiny corpus it is given, with fake OCR / speech engines."""

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.ingest_formats import _group, _table_rows, measure_ingest_formats  # noqa: E402
from media_fakes import FakeOcr, FakeTranscriber, png, wav  # noqa: E402
from noticebot.ingestion.engines import Engines  # noqa: E402


def _corpus(tmp_path: Path) -> Path:
    files = {
        "rota.csv": (b"name,day\nAnna,Mon\nBen,Tue\nCara,Wed\n", "text/csv", ""),
        "notes.txt": (b"The hall is booked on Friday.\n", "text/plain", ""),
        "poster.png": (png(), "image/png", "image"),
        "memo.wav": (wav(2.0), "audio/x-wav", "audio"),
        "empty.pdf": (b"", "application/pdf", "zero-byte"),
    }
    with (tmp_path / "MANIFEST.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "mime", "tags"])
        for name, (data, mime, tags) in files.items():
            (tmp_path / name).write_bytes(data)
            writer.writerow([name, mime, tags])
    return tmp_path


def test_groups_and_row_counting() -> None:
    assert _group("pdf", "no-text-layer (image/scan or vector)") == "pdf_ocr"
    assert _group("pdf", "") == "pdf_text" and _group("xlsx", "") == "table"
    assert _group("zip", "") is None and _group("docx", "") == "document"
    assert _table_rows(b"a,b\n1,2\n3,4\n\n", "csv") == 2
    assert _table_rows(b"a\tb\n1\t2\n", "tsv") == 1


def test_measures_each_group_with_its_unit(tmp_path) -> None:
    engines = Engines(ocr=FakeOcr(), transcriber=FakeTranscriber())
    result = measure_ingest_formats(_corpus(tmp_path), engines=engines, log=lambda m: None)
    formats = result["formats"]
    assert formats["table"]["rows"] == 3 and formats["table"]["rows_per_s"] > 0
    assert formats["image_ocr"]["pages"] == 1 and formats["image_ocr"]["pages_per_s"] > 0
    assert formats["audio"]["audio_seconds"] == 2.0
    assert formats["document"]["documents"] == 1
    assert "pdf_text" not in formats  # the zero-byte file is not measured
    assert result["max_rss_mb"] > 0 and formats["table"]["peak_python_mb"] >= 0


def test_missing_corpus_is_reported(tmp_path) -> None:
    assert "error" in measure_ingest_formats(tmp_path / "nowhere")
