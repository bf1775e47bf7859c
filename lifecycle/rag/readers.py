"""Uploaded files to plain text: .txt, .md, .pdf (text layer) and .html, with safe names."""

from __future__ import annotations

import hashlib
import io
import re
import time
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath

from lifecycle.rag.embedder import RagError
from lifecycle.text import MB

MAX_UPLOAD_BYTES = 20 * MB  # a 20 MB text is ~25k chunks: minutes of embedding on CPU
MAX_TEXT_CHARS = MAX_UPLOAD_BYTES  # a PDF may hold no more text than the largest text file
MAX_PDF_PAGES = 2000  # a long book; more is an archive to split
PDF_SECONDS = 20.0  # reading a text PDF takes well under a second a page
# pypdf's own budgets, tightened: with its defaults, a 21 KB file holding three 2.7 MB content
# streams took 99 s to read (a page at this budget: about a second).
PDF_LIMITS = {
    "stream_parsing_work_maximum_count": 200_000,  # tokens a page may hold (a text page: ~10k)
    "zlib_maximum_output_length": 16_000_000,  # bytes one stream may inflate to
    "xform_maximum_invocations_per_extraction": 500,  # embedded forms drawn on one page
}
MAX_NAME_CHARS = 100
EXTENSIONS = (".txt", ".md", ".pdf", ".html", ".htm")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()-]+")
_SKIPPED_TAGS = {"script", "style", "noscript", "template"}
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "pre"}


@dataclass(frozen=True)
class SourceDoc:
    """A document ready to split: its safe display name, text and content hash."""

    name: str  # safe display name; never used as a path
    text: str
    original_name: str = ""  # as uploaded, for display only
    note: str = ""  # what reading left out (PDF pages too complex to read), for the preview

    @property
    def doc_hash(self) -> str:
        """sha256 of the text: the same content uploaded twice is one document."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def safe_name(name: str) -> str:
    """A display name without folders or odd characters: '../etc/passwd' -> 'passwd'."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem, dot, ext = base.rpartition(".")
    if dot and len(base) > MAX_NAME_CHARS:
        base = f"{stem[: MAX_NAME_CHARS - len(ext) - 1]}.{ext}"
    return base[:MAX_NAME_CHARS] or "document"


def read_upload(name: str, data: bytes) -> SourceDoc:
    """Text of one uploaded file; refuses what cannot be read, saying why."""
    display = safe_name(name)
    ext = "." + display.rpartition(".")[2].lower() if "." in display else ""
    if ext not in EXTENSIONS:
        raise RagError(f"{display}: only {', '.join(EXTENSIONS)} files can be added.")
    if not data:
        raise RagError(f"{display} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise RagError(
            f"{display} is {len(data) / MB:,.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES / MB:,.0f} MB. Split it into smaller files."
        )
    text, note = _pdf_text(display, data) if ext == ".pdf" else (_decode(display, data), "")
    if ext in (".html", ".htm"):
        text = html_text(text)
    text = _tidy(text)
    if not text.strip():
        raise RagError(f"{display} has no text to add.")
    return SourceDoc(display, text, str(name)[:200], note)


def _decode(display: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise RagError(f"{display} looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RagError(
            f"{display} is not UTF-8 text (byte {err.start:,}): save it as UTF-8 and upload "
            "it again."
        ) from err


def _pdf_text(display: str, data: bytes) -> tuple[str, str]:
    """The text layer of a PDF and a note naming the pages left out as too complex."""
    from pypdf import PdfReader, apply_configuration

    try:
        with apply_configuration(None, **PDF_LIMITS):  # pypdf's defaults with our limits
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise RagError(f"{display} is encrypted: save an unprotected copy and upload it.")
            pages, skipped = _pages_text(display, reader)
    except RagError:
        raise
    except Exception as err:
        # Untrusted files break parsers in many ways; each is "not a readable PDF" to the user.
        raise RagError(f"{display} could not be read as a PDF: {err}") from err
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    complex_pages = f"page{'s' * (len(skipped) > 1)} {', '.join(map(str, skipped[:10]))}"
    if not text and skipped:
        raise RagError(
            f"{display}: {complex_pages} {'are' if len(skipped) > 1 else 'is'} too complex to "
            "read (drawings rather than text) and no other page has text. Upload its text instead."
        )
    if not text:
        raise RagError(
            f"{display}: this PDF has no text layer (scanned?). Run OCR on it first, "
            "or upload its text."
        )
    note = f"Left out {complex_pages}: too complex to read (drawings rather than text)."
    return text, note if skipped else ""


def _pages_text(display: str, reader) -> tuple[list[str], list[int]]:
    """Text of each page and the pages over pypdf's budget; refuses too long a file or read."""
    from pypdf.errors import LimitReachedError

    count = len(reader.pages)
    if count > MAX_PDF_PAGES:
        raise RagError(
            f"{display} has {count:,} pages; the limit is {MAX_PDF_PAGES:,}. Split it into "
            "smaller files."
        )
    deadline, pages, skipped, chars = time.monotonic() + PDF_SECONDS, [], [], 0
    for number, page in enumerate(reader.pages, 1):
        if time.monotonic() > deadline:
            raise RagError(
                f"{display}: reading stopped at page {number} of {count} after "
                f"{PDF_SECONDS:.0f} s. Split the file, or upload its text."
            )
        try:
            pages.append(page.extract_text() or "")
        except LimitReachedError:  # one chart with 100k points must not refuse a whole paper
            skipped.append(number)
            continue
        chars += len(pages[-1])
        if chars > MAX_TEXT_CHARS:
            raise RagError(
                f"{display} has more than {MAX_TEXT_CHARS:,} characters of text. Split it into "
                "smaller files."
            )
    return pages, skipped


class _TextOnly(HTMLParser):
    """Collects visible text; skips scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The visible text of an HTML page, with block elements on their own lines."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
