"""Uploaded files to plain text: .txt, .md, .pdf (text layer) and .html, with safe names."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePosixPath

from lifecycle.rag.embedder import RagError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a 20 MB text is ~25k chunks: minutes of embedding on CPU
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
            f"{display} is {len(data) / 2**20:,.1f} MB; the limit is "
            f"{MAX_UPLOAD_BYTES / 2**20:,.0f} MB. Split it into smaller files."
        )
    text = _pdf_text(display, data) if ext == ".pdf" else _decode(display, data)
    if ext in (".html", ".htm"):
        text = html_text(text)
    text = _tidy(text)
    if not text.strip():
        raise RagError(f"{display} has no text to add.")
    return SourceDoc(display, text, str(name)[:200])


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


def _pdf_text(display: str, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise RagError(f"{display} is encrypted: save an unprotected copy and upload it.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except RagError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        # Untrusted files break parsers in many ways; each is "not a readable PDF" to the user.
        raise RagError(f"{display} could not be read as a PDF: {err}") from err
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise RagError(
            f"{display}: this PDF has no text layer (scanned?). Run OCR on it first, "
            "or upload its text."
        )
    return text


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
