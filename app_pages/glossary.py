"""Glossary: every technical term the pages use, in one plain sentence, and where it matters."""

import streamlit as st

from components.pages import PAGE_BY_TITLE
from lifecycle.glossary import load_glossary

st.title("Glossary")
st.caption(
    "The words the pages use, each in one plain sentence, with links to where it matters. "
    "Hover the ⓘ next to a label on any page for the same explanation."
)
query = st.text_input("Find a term", placeholder="e.g. LoRA, ROUGE, KV cache").strip().lower()
terms = [t for t in load_glossary() if query in (t.name + " " + t.plain).lower()]
if not terms:
    st.info("No term matches; try a shorter word.")
for t in terms:
    with st.container(border=True):
        st.markdown(f"**{t.name}**: {t.plain}")
        links = st.columns(max(len(t.where), 1) + 2)
        for col, title in zip(links, t.where):
            with col:
                st.page_link(
                    PAGE_BY_TITLE[title].path, label=title, icon=":material/arrow_forward:"
                )
