"""Small text helpers shared by the report and the pages."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:])")


def md_escape(text: str) -> str:
    """User text made inert in Markdown (and HTML), so a name like `<b>**x**</b>` shows as typed."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


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
