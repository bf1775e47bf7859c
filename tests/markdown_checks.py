"""Checks that rendered Markdown is inert: no link, image, HTML or bare URL a renderer links."""

from __future__ import annotations

import re

import pytest

from lifecycle.text import WORD_JOINER

markdown_it = pytest.importorskip("markdown_it")

# What a GFM renderer (remark, cmark-gfm) links in plain text, escapes resolved: a URL with a
# scheme, `www.` and an e-mail address (the patterns of mdast-util-gfm-autolink-literal).
BARE_LINK = re.compile(r"https?://|www\.|[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.IGNORECASE)


def _parser():
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")


def tokens(text: str) -> list:
    """Every token of the CommonMark (+ tables, HTML on) rendering, inline children included."""
    out = []
    for token in _parser().parse(text):
        out.append(token)
        out.extend(token.children or [])
    return out


def assert_inert(text: str) -> None:
    """No link, image, autolink or HTML token, and no bare URL that GFM would link."""
    found = tokens(text)
    kinds = {t.type for t in found}
    assert not kinds & {"link_open", "image", "html_inline", "html_block"}, (text, kinds)
    for t in found:
        if t.type == "text":
            assert not BARE_LINK.search(t.content), (text, t.content)
    html = _parser().render(text)
    assert "<a " not in html and "<img" not in html, html


def shown(text: str) -> str:
    """The visible text of a rendering (without the invisible word joiners)."""
    words = [t.content for t in tokens(text) if t.type in ("text", "code_inline")]
    return "".join(words).replace(WORD_JOINER, "")
