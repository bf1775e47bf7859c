"""The one way pages show text the app did not write: model answers, replies, names, files."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from lifecycle.text import safe_markdown

# Streamlit renders Markdown almost everywhere (markdown, write, write_stream, captions, alerts,
# toasts, labels), and Markdown can make the browser fetch a remote image. So such text is shown
# as typed (`st.text`, or `md_escape` for a value inside a sentence of the app's own) or as
# Markdown whose links, images, HTML and bare URLs are inert (`safe_markdown`: model answers,
# messages that quote a server or a file). Never `unsafe_allow_html`.

EMPTY = "_(empty answer)_"


def show_untrusted(text: str, *, markdown: bool = False, container=None, empty: str = EMPTY):
    """Untrusted text, line breaks kept: as typed, or as Markdown without live links or images."""
    c = container if container is not None else st
    if not text:
        return c.markdown(empty)
    if markdown:
        return c.markdown(safe_markdown(text))
    return c.text(text, width="stretch")


def stream_untrusted(container, chunks: Iterable[str]) -> str:
    """Stream model tokens into `container` as inert Markdown; returns the whole text."""
    # Not `write_stream`: it renders the tokens as Markdown, links and images included.
    slot = container.empty()
    text = ""
    for chunk in chunks:
        text += chunk
        slot.markdown(safe_markdown(text))
    if not text:
        slot.markdown(EMPTY)
    return text


def show_error(message: object, container=None, **kwargs) -> None:
    """An error whose message may quote untrusted text (a server's reply, a file or model name)."""
    (container if container is not None else st).error(safe_markdown(str(message)), **kwargs)


def show_warning(message: object, container=None, **kwargs) -> None:
    """A warning whose message may quote untrusted text."""
    (container if container is not None else st).warning(safe_markdown(str(message)), **kwargs)
