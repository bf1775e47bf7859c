"""Small text helpers shared by the report and the pages."""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"  # invisible and unbreakable: splits a URL so that no renderer links it
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:&=])")
# GFM renderers link bare `scheme://`, `www.` and e-mail addresses even when their punctuation is
# backslash-escaped (remark finds them in the parsed text): a word joiner inside stops that.
_BARE_LINK = re.compile(r"(?<=[A-Za-z])(?=\\?:\\?/\\?/)|(?<=www)(?=\\?\.)|(?<=@)", re.IGNORECASE)
# `](`, `][` and `]:` are the only ways a bracket becomes a link, an image or a definition, `<`
# starts every autolink and HTML tag, and `&` a character reference (`&#58;` would spell the `:`
# of a URL): a word joiner right there leaves them plain text.
_LINK_SYNTAX = re.compile(r"(?<=\])(?=[(\[:])|(?<=[<&])")

MB = 10**6  # sizes are shown in decimal megabytes, as the upload widget shows them


def md_escape(text: str) -> str:
    """User text made inert in Markdown (and HTML), so a name like `<b>**x**</b>` shows as typed."""
    return _MD_SPECIAL.sub(r"\\\1", _BARE_LINK.sub(WORD_JOINER, str(text)))


def safe_markdown(text: str) -> str:
    """Untrusted Markdown kept readable, its links, images, HTML and bare URLs made inert."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _LINK_SYNTAX.sub(WORD_JOINER, _BARE_LINK.sub(WORD_JOINER, text))
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", text)  # a line break stays a line break


def md_code(text: object) -> str:
    """Text as inline code that nothing inside can close (a path, a model id, a command)."""
    text = re.sub(r"\s", " ", str(text))  # a line break could start a block and end the span
    if not text:
        return ""
    fence = "`" * (max(map(len, re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""  # CommonMark strips it again
    return f"{fence}{pad}{text}{pad}{fence}"


def plot_text(text: object) -> str:
    """Text for a Plotly label: its tags (`<a href>`, `<b>`) are shown, not applied."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;")


def csv_safe(cell: object) -> object:
    """A cell that a spreadsheet shows as text: one starting with =, +, -, @ is not a formula."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def slug(text: str, default: str = "project") -> str:
    """A file-name-safe version of a name."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:60] or default


def gib(value: float | None) -> str:
    """A memory figure for tables: '12.6 GiB', or 'n/a'."""
    return (
        "n/a"
        if value is None
        else f"{value:,.1f} GiB"
        if value >= 0.1
        else f"{value * 1024:,.0f} MiB"
    )


def usd(value: float) -> str:
    """Dollars with cents only where they matter: '$0.05', '$26,175'."""
    return f"${value:,.2f}" if value < 100 else f"${value:,.0f}"


def days(value: float) -> str:
    """A duration in days, with a decimal only when it is short."""
    if value < 0.1:
        return "under 0.1 days"
    return f"{value:,.1f} days" if value < 10 else f"{value:,.0f} days"


def plural(count: int, word: str, many: str = "") -> str:
    """'1 row', '2 rows', '1,024 rows' (`many` for irregular plurals: 'query', 'queries')."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def short_time(stamp: object) -> str:
    """A stored ISO timestamp as people read it: '2026-03-01 14:05:09' (no microseconds)."""
    text = str(stamp or "")
    return text[:19].replace("T", " ") if len(text) >= 19 and text[10:11] == "T" else text
