"""RAG widgets: the store, the project's collections, uploads with a live chunk preview."""

from __future__ import annotations

from functools import partial

import streamlit as st

from components.background import OnStep, ready_ui
from components.project import flash
from components.resources import (
    chunk_summary,
    get_background_load,
    get_embedder,
    get_vector_store,
    uploaded_document,
)
from components.state import Keys
from components.untrusted import show_error, show_warning
from lifecycle.config import data_home
from lifecycle.rag import (
    EMBEDDED_EMBEDDER,
    STARTER_LABEL,
    ChunkSettings,
    RagCollection,
    RagError,
    VectorStore,
    add_documents,
    delete_document,
    documents,
    ensure_starter,
    stats,
)
from lifecycle.rag.ingest import Skipped, screen
from lifecycle.settings import load_settings
from lifecycle.text import md_escape, plural

UPLOAD_TYPES = ["txt", "md", "pdf", "html", "htm"]


def settings_store() -> VectorStore:
    """The vector store chosen in Settings (embedded by default)."""
    s = load_settings()
    return get_vector_store(s.chroma_kind, s.chroma_host, s.chroma_port, str(data_home()))


def settings_store_ready(what: str) -> VectorStore | None:
    """The Settings store once it is open. chromadb's first import takes seconds, so another page
    (Evaluate's retrieval candidates) opens it in the background, its status in place; None
    meanwhile, and quietly None when it cannot open (the RAG page says why)."""
    s = load_settings()
    args = (s.chroma_kind, s.chroma_host, s.chroma_port, str(data_home()))
    job = get_background_load("vector-store", args, partial(_open_store, *args))
    if job.finished and job.error:
        return None
    if not ready_ui(job, what):
        return None
    return settings_store()


def _open_store(kind: str, host: str, port: int, home: str, on_step: OnStep) -> None:
    on_step("opening the vector store (Chroma)", 0.1)
    get_vector_store(kind, host, port, home)


def store_ui(project_id: str) -> VectorStore | None:
    """The store chosen in Settings, switchable for this session in an expander. None (its
    status or its error in view) until the store, the embedder and the project's starter
    collection are ready: their first load runs in the background."""
    saved = load_settings()
    st.session_state.setdefault(Keys.RAG_STORE + "kind", saved.chroma_kind)
    st.session_state.setdefault(Keys.RAG_STORE + "host", saved.chroma_host)
    st.session_state.setdefault(Keys.RAG_STORE + "port", saved.chroma_port)
    with st.expander("Vector store", icon=":material/database:"):
        kind = st.radio(
            "Where vectors live",
            ["embedded", "server"],
            horizontal=True,
            key=Keys.RAG_STORE + "kind",
            format_func={"embedded": "Embedded (data folder)", "server": "Chroma server"}.get,
        )
        host, port = "127.0.0.1", 8000
        if kind == "server":
            c1, c2 = st.columns([3, 1])
            host = c1.text_input("Host", key=Keys.RAG_STORE + "host").strip()
            port = int(c2.number_input("Port", 1, 65535, key=Keys.RAG_STORE + "port"))
            st.caption(
                "Start one with `chroma run --path DIR --port 8000` (ships with chromadb). "
                "The default for every session is set in Settings."
            )
    home = str(data_home())
    load = partial(_open_retrieval, kind, host, port, home, project_id)
    job = get_background_load("retrieval", (kind, host, port, project_id), load)
    if not ready_ui(job, "Opening the vector store and the embedder"):
        return None
    return get_vector_store(kind, host, port, home)


def _open_retrieval(
    kind: str, host: str, port: int, home: str, project_id: str, on_step: OnStep
) -> None:
    on_step("loading the embedder (sentence-transformers)", 0.05)
    embedder = get_embedder(EMBEDDED_EMBEDDER)
    on_step("opening the vector store (Chroma)", 0.5)
    vectors = get_vector_store(kind, host, port, home)
    if not any(i.label == STARTER_LABEL for i in vectors.collections(project_id)):
        ensure_starter(
            vectors,
            project_id,
            embedder,
            lambda d, t: on_step("building the starter collection", 0.7 + 0.3 * d / max(t, 1)),
        )


def collection_ui(vectors: VectorStore, project_id: str) -> RagCollection | None:
    """Pick, create or delete a collection; the starter one is built on first visit."""
    embedder = get_embedder(EMBEDDED_EMBEDDER)
    infos = vectors.collections(project_id)
    if not any(i.label == STARTER_LABEL for i in infos):
        bar = st.progress(0.0, text="Building the starter collection (stage guides, task table)")
        ensure_starter(vectors, project_id, embedder, lambda d, t: bar.progress(d / max(t, 1)))
        bar.empty()
        infos = vectors.collections(project_id)
    names = {i.name: f"{i.label} · chunks of {i.chunks.size} {i.chunks.unit}" for i in infos}
    if st.session_state.get(Keys.RAG_NEXT) in names:
        st.session_state[Keys.RAG_COLLECTION] = st.session_state.pop(Keys.RAG_NEXT)
    if st.session_state.get(Keys.RAG_COLLECTION) not in names:
        st.session_state[Keys.RAG_COLLECTION] = infos[0].name
    c1, c2 = st.columns([3, 2])
    pick = c1.selectbox("Collection", list(names), format_func=names.get, key=Keys.RAG_COLLECTION)
    with c2.popover("New collection", icon=":material/add:"):
        _new_collection(vectors, project_id, embedder)
    return vectors.open(pick, embedder)


def _new_collection(vectors: VectorStore, project_id: str, embedder) -> None:
    # A form: Enter in the name submits it (a plain button would only close the popover).
    with st.form(Keys.RAG_NEW_FORM, border=False, clear_on_submit=True):
        label = st.text_input("Name", key=Keys.RAG_NEW_LABEL, max_chars=80)
        settings = chunk_settings_ui("new_")
        create = st.form_submit_button("Create", type="primary")
    if not create:
        return
    try:
        if not label.strip():
            raise RagError("Give the collection a name.")
        settings.check()
        info = vectors.create(project_id, label, embedder, settings).info
    except (RagError, ValueError) as err:
        show_error(err)
        return
    st.session_state[Keys.RAG_NEXT] = info.name  # applied before the selectbox is drawn
    flash(f"Created the collection “{md_escape(label.strip())}”: add documents to it.")
    st.rerun()


def chunk_settings_ui(prefix: str = "", default: ChunkSettings = ChunkSettings()) -> ChunkSettings:
    """Split by characters or by the generator's tokens, with size and overlap."""
    c1, c2, c3 = st.columns(3)
    k = Keys.RAG_CHUNK + prefix
    unit = c1.selectbox(
        "Split by",
        ["chars", "tokens"],
        key=k + "unit",
        index=["chars", "tokens"].index(default.unit),
        format_func={"chars": "characters", "tokens": "model tokens"}.get,
    )
    size = c2.number_input("Chunk size", 1, 8000, default.size, key=k + "size")
    overlap = c3.number_input("Overlap", 0, 4000, default.overlap, key=k + "overlap")
    return ChunkSettings(unit, int(size), int(overlap))


def chunk_tokenizer():
    """The embedder's tokenizer, for token-sized chunks when the answering model has none here."""
    return get_embedder(EMBEDDED_EMBEDDER).model.tokenizer


def upload_ui(coll: RagCollection, tokenizer) -> None:
    """Upload files, preview their chunks with the collection's settings, then embed them."""
    settings = ChunkSettings.from_metadata(coll.chroma.metadata or {})
    st.caption(
        f"Chunking of this collection: {settings.size} {settings.unit} with {settings.overlap} "
        "overlap. Text, Markdown, PDF (with a text layer) and HTML (text only); 20 MB at most."
    )
    generation = st.session_state.get(Keys.RAG_UPLOADER_KEY, 0)
    files = st.file_uploader(
        "Documents",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key=f"{Keys.RAG_UPLOAD}_{generation}",
    )
    _last_add(coll)
    if not files:
        return
    tok = tokenizer if settings.unit == "tokens" else None
    docs, refused = [], []
    for f in files:
        try:
            doc = uploaded_document(f.name, f.getvalue())  # read and split once, not every rerun
            count, mean_chars, heads = chunk_summary(doc, settings, tok)
        except (RagError, ValueError) as err:
            refused.append(Skipped(f.name, str(err)))
            continue
        docs.append(doc)
        with st.expander(
            f"{md_escape(f.name)}: {plural(count, 'chunk')}, {mean_chars:.0f} characters on average"
        ):
            if doc.note:
                st.caption(doc.note)
            for head in heads:
                st.text(head[:600])
                st.divider()
    docs, duplicates = screen(coll, docs)
    for s in refused + duplicates:
        show_warning(f"{s.name}: {s.reason}")
    if st.button("Embed and add", type="primary", icon=":material/upload:", disabled=not docs):
        bar = st.progress(0.0, text="Embedding")
        try:
            report = add_documents(
                coll,
                docs,
                tok,
                lambda d, t: bar.progress(d / max(t, 1), text=f"Embedding {d}/{t}"),
            )
        except RagError as err:
            show_error(err)
            return
        skipped = [*refused, *duplicates, *report.skipped]
        st.session_state[Keys.RAG_UPLOADER_KEY] = generation + 1
        st.session_state[Keys.RAG_ADDED] = {  # shown after the rerun, reasons included
            "collection": coll.info.name,
            "line": f"Added {plural(len(report.added), 'document')} "
            f"({plural(report.chunks, 'chunk')}) in {report.seconds:.1f} s; "
            f"skipped {len(skipped)}.",
            "skipped": [(x.name, x.reason) for x in skipped],
        }
        st.rerun()


def _last_add(coll: RagCollection) -> None:
    """What the last add did, with every skipped file and why, until the next add."""
    last = st.session_state.get(Keys.RAG_ADDED)
    if not last or last["collection"] != coll.info.name:
        return
    with st.container(border=True):
        st.success(last["line"])
        for name, reason in last["skipped"]:
            show_warning(f"{name}: {reason}")
        st.button(
            "Dismiss",
            key=Keys.RAG_ADDED_DISMISS,
            on_click=st.session_state.pop,
            args=(Keys.RAG_ADDED, None),
        )


def documents_ui(vectors: VectorStore, coll: RagCollection) -> None:
    """The collection's documents with their chunk counts; delete one, or the collection."""
    docs = documents(coll)
    s = stats(coll)
    st.caption(
        f"{plural(len(docs), 'document')} · {plural(s.chunks, 'chunk')} · "
        f"{s.mean_chunk_chars:.0f} characters "
        f"a chunk on average · {md_escape(coll.info.embedder_ref)}"
    )
    confirm = f"{Keys.RAG_DELETE}_{coll.info.name}"  # per collection: a tick never carries over
    for doc in docs:
        c1, c2 = st.columns([5, 1])
        c1.markdown(
            f"{md_escape(doc.source)} · {plural(doc.chunks, 'chunk')} · {doc.chars:,} characters"
        )
        with c2.popover("Delete", icon=":material/delete:"):
            st.markdown(f"Remove {md_escape(doc.source)} and its {plural(doc.chunks, 'chunk')}?")
            sure_doc = st.button(
                "Yes, delete it", key=Keys.RAG_DELETE_DOC + doc.doc_hash, type="primary"
            )
        if sure_doc:
            delete_document(coll, doc.doc_hash)
            st.session_state.pop(confirm, None)
            flash(f"Deleted {md_escape(doc.source)}.")
            st.rerun()
    sure = st.checkbox(
        f"Yes, delete the whole collection “{md_escape(coll.info.label)}”", key=confirm
    )
    if st.button("Delete collection", disabled=not sure, icon=":material/delete_forever:"):
        vectors.delete(coll.info.name)
        st.session_state.pop(Keys.RAG_COLLECTION, None)
        st.session_state.pop(confirm, None)  # made again under this name, it starts unticked
        flash(f"Deleted the collection {md_escape(coll.info.label)}.")
        st.rerun()
