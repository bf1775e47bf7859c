"""Stage 7, Additional infrastructure: retrieval-augmented generation and tools."""

import streamlit as st

from components.guide.decisions import render_gates
from components.guide.panel import render_guide
from components.guide.tracker import render_next
from components.models.background import background_model_ui
from components.models.pick import pick_model
from components.project import require_project
from components.rag.ask import ask_ui, quality_ui
from components.rag.ui import chunk_tokenizer, collection_ui, documents_ui, store_ui, upload_ui
from components.state import Keys
from components.tools.ui import tools_ui
from components.untrusted import show_error
from lifecycle.rag import RagError

project = require_project()
st.title("7 · Infrastructure: RAG and tools")
render_guide("infrastructure")
st.caption(
    "The model invents what it does not know and is weak at exact maths. Retrieval gives it "
    "your documents to quote; a calculator does the arithmetic."
)

try:
    vectors = store_ui(project.id)  # None while it loads; a server that is down is reported
    coll = collection_ui(vectors, project.id) if vectors else None
except RagError as err:
    show_error(err)
    st.stop()
ref = pick_model(
    "Answering model",
    Keys.RAG_MODEL,
    project.id,
    help="Retrieval is the same whatever answers; endpoints are added in Settings.",
    serving=True,
    gguf=True,
)
lm = background_model_ui(ref) if ref else None  # the rest works without it

ask_tab, docs_tab, quality_tab, tools_tab = st.tabs(
    ["Ask", "Documents", "Retrieval quality", "Tools (calculator)"]
)
NO_MODEL = "Answers need the model above: choose one that loads, or wait until it has loaded."
NO_STORE = "The collections appear here once the vector store is open (its status is above)."
with ask_tab:
    if lm and coll:
        ask_ui(lm, coll)
    else:
        st.info(NO_STORE if lm else NO_MODEL)
with docs_tab:
    if vectors and coll:
        upload_ui(coll, lm.tokenizer if lm and lm.tokenizer else chunk_tokenizer())
        documents_ui(vectors, coll)
    else:
        st.info(NO_STORE)
with quality_tab:
    if coll:
        quality_ui(coll)
    else:
        st.info(NO_STORE)
with tools_tab:
    if lm:
        tools_ui(lm)
    else:
        st.info(NO_MODEL)

render_gates("rag")
render_next("rag")
