"""OcrEngine on Debian's tesseract (installed by ``scripts/install_system_packages.sh``).

One ``tesseract`` process per page image: PNG on stdin, TSV on stdout, with a timeout. The TSV
gives the words with their block / paragraph / line numbers and confidences in one run, so the
text keeps its lines (table rows stay rows) and paragraphs, and the page gets a mean word
confidence the parsers use to drop noise (a photo with no text yields a few doubtful "words").

Why the process is started here and not through pytesseract: tesseract's OpenMP threads must be
limited to one (``OMP_THREAD_LIMIT=1``) for that process only. Measured on a 2-core machine under
load: 3.9 s for a dense page with one thread, 56 s with two. pytesseract always passes the
parent's environment, and setting the variable process-wide slows CTranslate2 (Whisper) twenty
times, since it shares the OpenMP runtime. Each page is independent, so parallelism belongs to
the ingest workers, not to one tesseract.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess

from noticebot.ports.ocr import EngineUnavailable, OcrEngine, OcrPage

INSTALL_HINT = "run scripts/install_system_packages.sh"


class TesseractOcr(OcrEngine):
    name = "tesseract"

    def __init__(self, languages: str = "eng", page_segmentation: int = 3,
                 command: str | None = None, threads: int = 1):
        """``page_segmentation`` is tesseract's --psm (3: automatic layout analysis)."""
        self.languages = languages
        self.page_segmentation = page_segmentation
        self.command = command
        self.threads = threads

    def _command(self) -> str:
        command = self.command or shutil.which("tesseract")
        if not command:
            raise EngineUnavailable(f"OCR needs the tesseract program ({INSTALL_HINT})")
        return command

    def available(self) -> bool:
        try:
            self._command()
        except EngineUnavailable:
            return False
        return True

    def recognize(self, image: bytes, *, page: int = 1, timeout: float | None = None) -> OcrPage:
        args = [self._command(), "stdin", "stdout", "--psm", str(self.page_segmentation),
                "-l", self.languages, "tsv"]
        env = {**os.environ, "OMP_THREAD_LIMIT": str(self.threads)}
        try:
            done = subprocess.run(args, input=image, capture_output=True, env=env,
                                  timeout=timeout, check=False)
        except FileNotFoundError as exc:
            raise EngineUnavailable(f"OCR needs the tesseract program ({INSTALL_HINT})") from exc
        except subprocess.TimeoutExpired as exc:
            raise TimeoutError(f"OCR of page {page} timed out after {timeout:.0f} s") from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"tesseract failed (exit {done.returncode}): "
                               f"{detail[-1] if detail else 'no message'}")
        return _assemble(_read_tsv(done.stdout), page)


def _read_tsv(raw: bytes) -> dict[str, list]:
    """tesseract's TSV as columns (the shape pytesseract's Output.DICT has)."""
    rows = csv.reader(io.StringIO(raw.decode("utf-8", "replace")), delimiter="\t",
                      quoting=csv.QUOTE_NONE)
    header = next(rows, [])
    columns: dict[str, list] = {name: [] for name in header}
    for row in rows:
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        for name, value in zip(header, row):
            columns[name].append(value)
    return columns


def _assemble(data: dict, page: int) -> OcrPage:
    """Words -> lines (one per tesseract line), blank line between paragraphs and blocks."""
    lines: list[str] = []
    current: list[str] = []
    last_line = last_par = None
    confidences: list[tuple[float, int]] = []
    for i, word in enumerate(data.get("text", [])):
        word = (word or "").strip()
        if not word:
            continue
        par = (data["block_num"][i], data["par_num"][i])
        line = par + (data["line_num"][i],)
        if line != last_line:
            if current:
                lines.append(" ".join(current))
                current = []
            if last_par is not None and par != last_par:
                lines.append("")
            last_line, last_par = line, par
        current.append(word)
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            conf = -1.0
        if conf >= 0:
            confidences.append((conf, len(word)))
    if current:
        lines.append(" ".join(current))
    weight = sum(n for _, n in confidences)
    confidence = sum(c * n for c, n in confidences) / weight if weight else None
    return OcrPage(text="\n".join(lines).strip(), confidence=confidence, page=page)
