"""Images, scanned PDF pages and audio through the injected OCR / speech-to-text ports (fakes)."""

from __future__ import annotations

import io

import pytest

from media_fakes import FakeOcr, FakeTranscriber, png, tiff_pages, wav
from noticebot.domain.errors import UnreadableDocument
from noticebot.ingestion import ParseLimits, chunk_sections, parse_document
from noticebot.ingestion.engines import Engines
from noticebot.ingestion.parsers.audio import time_range, timestamp, transcript_sections
from noticebot.ports.ocr import EngineUnavailable, OcrPage
from noticebot.ports.transcriber import TranscriptSegment

pytest.importorskip("PIL")


def _image(fmt: str, mode: str = "RGB", size=(160, 90), frames: int = 1) -> bytes:
    from PIL import Image, ImageDraw

    white, black = ((0, 0, 0, 0), (0, 0, 0, 255)) if mode == "CMYK" else ("white", "black")
    imgs = []
    for n in range(frames):
        img = Image.new(mode, size, white)
        ImageDraw.Draw(img).rectangle((10, 10, 80 + n, 40), fill=black)
        imgs.append(img)
    out = io.BytesIO()
    imgs[0].save(out, format=fmt, save_all=frames > 1, append_images=imgs[1:])
    return out.getvalue()


# -- images ------------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "name", "mode"), [
    ("PNG", "poster.png", "RGB"), ("JPEG", "photo.jpg", "RGB"), ("GIF", "a.gif", "P"),
    ("BMP", "scan.bmp", "RGB"), ("WEBP", "pic.webp", "RGB"), ("TIFF", "fax.tif", "L"),
    ("PNG", "alpha.png", "RGBA"), ("TIFF", "cmyk.tiff", "CMYK"),
])
def test_image_formats_are_read_by_ocr(fmt, name, mode) -> None:
    ocr = FakeOcr(lambda image, page: "Choir practice moves to Thursday at 7 pm.")
    doc = parse_document(_image(fmt, mode), name, engines=Engines(ocr=ocr))
    assert doc.kind == "image" and doc.text == "Choir practice moves to Thursday at 7 pm."
    assert doc.sections[0].page is None and doc.page_count is None  # one image: no pages
    assert len(ocr.calls) == 1


def test_multi_page_tiff_gives_one_page_per_frame_and_skips_blank_ones() -> None:
    ocr = FakeOcr()
    doc = parse_document(tiff_pages(False, True, False), "minutes.tiff", engines=Engines(ocr=ocr))
    assert [s.page for s in doc.sections] == [1, 3] and doc.page_count == 3
    assert [call[0] for call in ocr.calls] == [1, 3]  # the blank page costs no OCR call
    assert doc.sections[1].text == "Notice text of page 3"


def test_animated_gif_reads_only_the_first_frame() -> None:
    ocr = FakeOcr()
    parse_document(_image("GIF", "P", frames=3), "anim.gif", engines=Engines(ocr=ocr))
    assert len(ocr.calls) == 1


def test_low_confidence_ocr_is_noise_not_text() -> None:
    ocr = FakeOcr(lambda image, page: OcrPage("lI1 ~~ ,. rn", confidence=18.0))
    with pytest.raises(UnreadableDocument, match=r"^no readable text found in the image$"):
        parse_document(png(), "flower.png", engines=Engines(ocr=ocr))


def test_tiny_and_blank_images_fail_without_calling_ocr() -> None:
    ocr = FakeOcr()
    for data in (png(16, 16, text=None), png(300, 200, text=None)):
        with pytest.raises(UnreadableDocument, match="no readable text found in the image"):
            parse_document(data, "icon.png", engines=Engines(ocr=ocr))
    assert ocr.calls == []


def test_image_without_an_ocr_engine_fails_clearly() -> None:
    with pytest.raises(UnreadableDocument, match="no OCR engine is configured"):
        parse_document(png(), "poster.png")


def test_ocr_engine_not_installed_names_the_fix() -> None:
    def missing(image, page):
        raise EngineUnavailable("OCR needs the tesseract program (run "
                                "scripts/install_system_packages.sh)")
    with pytest.raises(UnreadableDocument,
                       match=r"^cannot read this image here: OCR needs the tesseract program"):
        parse_document(png(), "poster.png", engines=Engines(ocr=FakeOcr(missing)))


def test_decompression_bomb_fails_before_decoding() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (9000, 9000), 1).save(out, format="PNG")  # 81 Mpx in a few kB
    assert len(out.getvalue()) < 100_000
    ocr = FakeOcr()
    with pytest.raises(UnreadableDocument,
                       match=r"^image too large \(9000 x 9000 = 81 megapixels > 40 megapixels"):
        parse_document(out.getvalue(), "bomb.png", engines=Engines(ocr=ocr))
    assert ocr.calls == []


def test_pixel_limit_is_configurable() -> None:
    with pytest.raises(UnreadableDocument, match="image too large"):
        parse_document(png(200, 80), "a.png", limits=ParseLimits(max_image_pixels=10_000),
                       engines=Engines(ocr=FakeOcr()))


def test_too_many_tiff_pages_for_ocr() -> None:
    with pytest.raises(UnreadableDocument, match=r"too many pages to read with OCR \(3 > 2\)"):
        parse_document(tiff_pages(False, False, False), "fax.tif",
                       limits=ParseLimits(max_ocr_pages=2), engines=Engines(ocr=FakeOcr()))


def test_time_budget_stops_ocr_with_a_clear_message() -> None:
    with pytest.raises(UnreadableDocument, match=r"^image took too long to read \(over 0 s\)"):
        parse_document(png(), "a.png", limits=ParseLimits(max_seconds=0.0),
                       engines=Engines(ocr=FakeOcr()))


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG signature and nothing after it
    png()[:60],  # truncated inside the first chunk
    b"GIF89a" + b"\xff" * 20,
])
def test_corrupt_images_fail_as_corrupt(data) -> None:
    with pytest.raises(UnreadableDocument, match=r"^(corrupt|could not read image)"):
        parse_document(data, "broken.png", engines=Engines(ocr=FakeOcr()))


# -- scanned PDFs ----------------------------------------------------------------------------
def _mixed_pdf(make_pdf, pages) -> bytes:
    """Pages given as lists of text lines, "scan" (an image-only page) or "blank"."""
    from PIL import Image, ImageDraw
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in pages:
        if isinstance(page, list):
            writer.add_page(PdfReader(io.BytesIO(make_pdf([page]))).pages[0])
            continue
        img = Image.new("L", (850, 1100), 255)  # US letter at 100 dpi
        if page == "scan":
            ImageDraw.Draw(img).rectangle((100, 100, 600, 160), fill=0)
        out = io.BytesIO()
        img.save(out, format="PDF", resolution=100)
        writer.add_page(PdfReader(io.BytesIO(out.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_scanned_pdf_pages_are_filled_by_ocr(make_pdf) -> None:
    pytest.importorskip("pypdfium2")
    data = _mixed_pdf(make_pdf, [["Agenda of the annual meeting"], "scan", ["Minutes approved"],
                                 "blank", "scan"])
    ocr = FakeOcr(lambda image, page: "" if page == 5 else f"Scanned page {page} text")
    doc = parse_document(data, "board.pdf", engines=Engines(ocr=ocr))
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert doc.sections[1].text == "Scanned page 2 text"
    # the blank page renders white and costs no OCR call; pages are rendered at 200 dpi
    assert [page for page, _ in ocr.calls] == [2, 5]
    assert ocr.calls[0][1] == (1700, 2200)


def test_scanned_pdf_with_no_text_found_says_ocr_found_none(make_pdf) -> None:
    pytest.importorskip("pypdfium2")
    ocr = FakeOcr(lambda image, page: "")
    with pytest.raises(UnreadableDocument, match=r"^no extractable text: the PDF has no text "
                                                 r"layer and OCR found no readable text on its 2"):
        parse_document(_mixed_pdf(make_pdf, ["scan", "scan"]), "scan.pdf",
                       engines=Engines(ocr=ocr))


def test_scanned_pdf_without_ocr_keeps_the_old_message(make_pdf) -> None:
    with pytest.raises(UnreadableDocument,
                       match=r"^no extractable text \(scanned PDF without a text layer\?\)$"):
        parse_document(make_pdf([[]]), "scan.pdf")


def test_engine_that_reads_whole_pdfs_gets_only_the_textless_pages(make_pdf) -> None:
    ocr = FakeOcr(pdf_pages={2: OcrPage("Textract read page two", 99.0, 2),
                             3: OcrPage("??", 12.0, 3)})
    doc = parse_document(make_pdf([["Page one text"], [], []]), "a.pdf", engines=Engines(ocr=ocr))
    assert ocr.pdf_calls == [[2, 3]] and ocr.calls == []
    assert [(s.page, s.text) for s in doc.sections] == [(1, "Page one text"),
                                                        (2, "Textract read page two")]


def test_too_many_scanned_pages(make_pdf) -> None:
    with pytest.raises(UnreadableDocument, match=r"too many scanned pages to read with OCR "
                                                 r"\(3 > 2\)"):
        parse_document(make_pdf([[], [], []]), "a.pdf", limits=ParseLimits(max_ocr_pages=2),
                       engines=Engines(ocr=FakeOcr()))


def test_pdf_with_a_text_layer_never_calls_ocr(make_pdf) -> None:
    ocr = FakeOcr()
    parse_document(make_pdf([["Hello there"], ["Second page"]]), "a.pdf", engines=Engines(ocr=ocr))
    assert ocr.calls == []


# -- audio ----------------------------------------------------------------------------------
def test_timestamps() -> None:
    assert timestamp(0) == "00:00:00" and timestamp(65.4) == "00:01:05"
    assert timestamp(3725) == "01:02:05"
    assert time_range(65.2, 91.3) == "00:01:05-00:01:32"


def test_transcript_segments_group_into_time_ranged_sections() -> None:
    segments = [TranscriptSegment(i * 10.0, i * 10.0 + 9.5, f"Sentence number {i} " + "w " * 20)
                for i in range(12)]
    sections = transcript_sections(segments, max_words=90, max_seconds=60)
    assert all(s.location and s.page is None for s in sections)
    assert sections[0].location == "00:00:00-00:00:30"  # 3 segments of 23 words; a 4th > 90
    assert sum(len(s.text.split()) for s in sections) == sum(len(x.text.split()) for x in segments)
    assert all(len(s.text.split()) <= 90 for s in sections)
    long = [TranscriptSegment(i * 30.0, i * 30.0 + 29, "short") for i in range(5)]
    assert [s.location for s in transcript_sections(long)] == [
        "00:00:00-00:00:59", "00:01:00-00:01:59", "00:02:00-00:02:29"]


def test_audio_becomes_time_ranged_sections_and_chunks() -> None:
    transcriber = FakeTranscriber()
    doc = parse_document(wav(), "memo.wav", engines=Engines(transcriber=transcriber))
    assert doc.kind == "audio"
    # the second segment ends over 60 s after the first began: a section of its own
    assert [s.location for s in doc.sections] == ["00:00:00-00:00:05", "00:01:05-00:01:33"]
    chunks = chunk_sections(doc.sections, lambda t: len(t.split()))
    assert [c.location for c in chunks] == ["00:00:00-00:00:05", "00:01:05-00:01:33"]
    assert transcriber.calls == [("memo.wav", 3600.0)]  # the duration limit is passed on


def test_audio_without_speech_fails_clearly() -> None:
    with pytest.raises(UnreadableDocument, match=r"^no speech found in the recording$"):
        parse_document(wav(), "music.wav", engines=Engines(transcriber=FakeTranscriber([])))


def test_audio_without_a_transcriber_fails_clearly() -> None:
    with pytest.raises(UnreadableDocument, match="no speech-to-text engine is configured"):
        parse_document(wav(), "memo.mp3")


def test_transcriber_limit_message_reaches_the_document() -> None:
    error = UnreadableDocument("recording too long (75 min > 60 min limit)")
    with pytest.raises(UnreadableDocument, match=r"^recording too long"):
        parse_document(wav(), "talk.flac", engines=Engines(transcriber=FakeTranscriber(error=error)))


def test_transcriber_timeout_is_a_clear_failure() -> None:
    error = TimeoutError("transcription stopped at 300 s")
    with pytest.raises(UnreadableDocument, match=r"^audio recording took too long to read"):
        parse_document(wav(), "talk.wav", engines=Engines(transcriber=FakeTranscriber(error=error)))
