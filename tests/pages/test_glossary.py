"""Glossary page: every term in a plain sentence, a search box, links to where it matters."""

from __future__ import annotations

from lifecycle.glossary import load_glossary

from .helpers import goto, rerun

PAGE = "app_pages/glossary.py"


def test_every_term_is_listed_with_links_to_its_pages(make_app):
    at = goto(make_app(), PAGE)
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(shown) == len(load_glossary())
    assert any(s.startswith("**KV cache**: ") for s in shown)


def test_search_narrows_the_list(make_app):
    at = goto(make_app(), PAGE)
    at.text_input[0].input("chinchilla")
    at = rerun(at)
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(shown) == 1 and shown[0].startswith("**Chinchilla**")
    at.text_input[0].input("zzzz")
    at = rerun(at)
    assert "No term matches" in at.info[0].value
