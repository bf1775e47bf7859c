"""Stage 7, Additional infrastructure: retrieval-augmented generation and tools."""

import streamlit as st

from components.guide import render_guide
from components.playground import load_ui
from components.project import require_project
from components.rag_ask import ask_ui, quality_ui
from components.rag_ui import collection_ui, documents_ui, store_ui, upload_ui
from components.tools_ui import tools_ui
from lifecycle.models import EMBEDDED
from lifecycle.rag import RagError

project = require_project()
st.title("7 · Infrastructure: RAG and tools")
render_guide("infrastructure")
st.caption(
    "The model invents what it does not know and is weak at exact maths. Retrieval gives it "
    "your documents to quote; a calculator does the arithmetic."
)

store = store_ui()
try:
    coll = collection_ui(store, project.id)
except RagError as err:
    st.error(str(err))
    st.stop()
lm = load_ui(EMBEDDED)
if lm is None:
    st.stop()

ask_tab, docs_tab, quality_tab, tools_tab = st.tabs(
    ["Ask", "Documents", "Retrieval quality", "Tools (calculator)"]
)
with ask_tab:
    ask_ui(lm, coll)
with docs_tab:
    upload_ui(coll, lm.tokenizer)
    documents_ui(store, coll)
with quality_tab:
    quality_ui(coll)
with tools_tab:
    tools_ui(lm)
