"""Asking a collection: sources with scores, a grounded answer beside a plain one, citations."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.playground.ui import metrics_ui, stream_into
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error, show_untrusted
from lifecycle.decision_records import keep_quality
from lifecycle.models import ChatModel, GenParams
from lifecycle.rag import (
    Hit,
    QualityReport,
    RagCollection,
    RagError,
    citations,
    document_text,
    finish_answer,
    grounded_messages,
    plain_messages,
    retrieval_quality,
    retrieve,
    unknown_citations,
)
from lifecycle.store import StoreError
from lifecycle.text import md_escape, plural

PARAMS = GenParams(max_new_tokens=120)  # greedy: the same question gives the same answer
EXAMPLE = "What does LoRA change in the model, and why is it cheaper than full fine-tuning?"


def ask_ui(lm: ChatModel, coll: RagCollection) -> None:
    """One question answered without and with retrieval, side by side."""
    question = st.text_input("Question", EXAMPLE, key=Keys.RAG_QUESTION)
    c1, c2 = st.columns(2)
    k = c1.slider("Sources (top-k)", 1, 10, 3, key=Keys.RAG_K)
    mmr = c2.toggle(
        "Diverse sources (MMR)",
        key=Keys.RAG_MMR,
        help="Maximal marginal relevance: skip near-duplicate chunks.",
    )
    if st.button("Ask", type="primary", icon=":material/search:", disabled=not question.strip()):
        try:
            hits = retrieve(coll, question, k=k, mmr=mmr)
        except RagError as err:
            show_error(err)
            return
        left, right = st.columns(2)
        left.markdown("**Without retrieval**")
        plain = stream_into(left.empty(), lm, plain_messages(question), PARAMS)
        right.markdown("**With retrieval (answers only from the sources)**")
        grounded = stream_into(right.empty(), lm, grounded_messages(question, hits), PARAMS)
        if plain and grounded:
            st.session_state[Keys.RAG_LAST] = {
                "collection": coll.info.name,
                "plain": plain,
                "answer": finish_answer(question, hits, grounded),
            }
            st.rerun()
    last = st.session_state.get(Keys.RAG_LAST)
    if last and last["collection"] == coll.info.name:
        show_answer(coll, last["plain"], last["answer"])


def show_answer(coll: RagCollection, plain, answer) -> None:
    """Both answers, the low-relevance warning, and every source with its score."""
    st.caption(f"Question: {md_escape(answer.question)}")
    left, right = st.columns(2)
    left.markdown("**Without retrieval**")
    show_untrusted(plain.text, markdown=True, container=left)
    metrics_ui(plain, left)
    right.markdown("**With retrieval**")
    show_untrusted(answer.text, markdown=True, container=right)
    metrics_ui(answer.result, right)
    if answer.low_relevance:
        st.warning(
            "The best source is a poor match for this question: the collection may not "
            "cover it, so treat the grounded answer with care."
        )
    cited = {n for n, _ in citations(answer.text, answer.hits)}
    unknown = unknown_citations(answer.text, answer.hits)
    if unknown:
        st.warning(
            f"The answer cites {', '.join(f'[{n}]' for n in unknown)}, but only "
            f"{plural(len(answer.hits), 'source')} were given ([1] to [{len(answer.hits)}]): "
            "those citations point at nothing."
        )
    if answer.hits and not cited:
        st.info("The answer cites no source: check it against the sources below.")
    st.markdown("**Sources**")
    for n, hit in enumerate(answer.hits, 1):
        mark = " · cited" if n in cited else ""
        with st.expander(f"[{n}] {md_escape(hit.source)} · similarity {hit.score:.2f}{mark}"):
            highlighted(coll, hit)


def _escaped(part: str, line_start: bool) -> str:
    """A piece of a line made inert; at a line's start its indentation survives Markdown."""
    indent = len(part) - len(part.lstrip(" ")) if line_start else 0
    return "\u00a0" * indent + md_escape(part[indent:])


def highlighted(coll: RagCollection, hit: Hit, context: int = 600) -> None:
    """The chunk highlighted inside its document (as plain text: nothing in it runs)."""
    text = document_text(coll, hit.doc_hash)
    start = hit.start if 0 <= hit.start < len(text) else max(0, text.find(hit.text))
    st.markdown(highlight_markdown(text, start, start + len(hit.text), context))


def highlight_markdown(text: str, start: int, end: int, context: int = 600) -> str:
    """text[start:end] highlighted with `context` characters around it, every line kept."""
    before = ("…" if start > context else "") + text[max(0, start - context) : start]
    after = text[end : end + context] + ("…" if end + context < len(text) else "")
    lines = [""]
    for piece, marked in ((before, False), (text[start:end], True), (after, False)):
        for i, part in enumerate(piece.split("\n")):
            if i:
                lines.append("")
            shown = _escaped(part, not lines[-1])
            # The highlight directive cannot span lines: each line of the chunk is wrapped.
            lines[-1] += f":orange-background[{shown}]" if marked and part.strip() else shown
    # A hard break ("  ") at every line end: Markdown would join the lines of a code block.
    return "  \n".join(lines)


def quality_ui(coll: RagCollection) -> None:
    """Hit rate@k and MRR of questions made from sampled chunks, for these chunk settings."""
    c1, c2 = st.columns(2)
    n = c1.slider("Questions (one per sampled chunk)", 5, 50, 20, key=Keys.RAG_QUALITY + "_n")
    k = c2.slider("k", 1, 10, 4, key=Keys.RAG_QUALITY + "_k")
    if st.button("Measure retrieval quality", icon=":material/analytics:"):
        bar = st.progress(0.0, text="Retrieving")
        try:
            report = retrieval_quality(
                coll, n=n, k=k, on_step=lambda d, t: bar.progress(d / max(t, 1))
            )
        except RagError as err:
            show_error(err)
            return
        st.session_state[Keys.RAG_QUALITY] = {"collection": coll.info.name, "report": report}
        keep_evidence(coll, report)
    last = st.session_state.get(Keys.RAG_QUALITY)
    if last and last["collection"] == coll.info.name:
        r = last["report"]
        m1, m2 = st.columns(2)
        m1.metric(f"Hit rate@{r.k}", f"{r.hit_rate:.2f}")
        m2.metric("MRR", f"{r.mrr:.2f}")
        rows = [
            {
                "question": q.question,
                "made from": q.origin,
                "source": q.source,
                "rank": str(q.rank) if q.rank else "missed",  # one type: Arrow refuses a mix
            }
            for q in r.rows
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption("Change the chunking in a new collection and measure again to compare.")


def keep_evidence(coll: RagCollection, report: QualityReport) -> None:
    """Save the measurement in the project: the retrieval gate proposes from it."""
    try:
        keep_quality(get_store(), coll.info, report)
    except StoreError as err:
        show_error(err)
