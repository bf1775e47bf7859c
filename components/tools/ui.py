"""Program-aided answers: the model writes an expression, a safe calculator computes it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.state import Keys
from components.untrusted import show_untrusted, show_warning
from lifecycle.models import ChatModel, GenParams
from lifecycle.text import md_escape
from lifecycle.tools.pal import model_asker, program_aided, score_tools

PARAMS = GenParams(max_new_tokens=64)
EXAMPLE = "A shop sells 17 boxes of 23 pens and 4 loose pens. How many pens is that?"


def tools_ui(lm: ChatModel) -> None:
    """One question both ways, then the built-in set's accuracy direct vs with the tool."""
    st.caption(
        "LLMs are weak at exact arithmetic and dates. Here the model answers directly, then "
        "writes one expression that a calculator evaluates: parsed with `ast`, only numbers, "
        "arithmetic, a few functions and dates allowed, bounded in size and time (no `eval`). "
        "Both prompts show the same worked examples; the expression's decoding is constrained "
        "to the calculator's grammar (exactly on llama.cpp, by character on transformers)."
    )
    question = st.text_input("Question", EXAMPLE, key=Keys.TOOLS_QUESTION)
    if st.button("Answer both ways", icon=":material/calculate:", disabled=not question.strip()):
        with st.spinner("Asking the model twice..."):
            st.session_state[Keys.TOOLS_LAST] = program_aided(question, model_asker(lm, PARAMS))
    last = st.session_state.get(Keys.TOOLS_LAST)
    if last:
        left, right = st.columns(2)
        left.markdown("**The model's own answer**")
        show_untrusted(last.direct, markdown=True, container=left)
        right.markdown("**With the calculator**")
        right.caption("The model's reply, as written:")
        show_untrusted(last.reply, container=right, empty="(empty reply)")
        right.caption("The expression the calculator read:")
        if last.expression:
            right.code(last.expression, language="python")
        else:
            right.caption("(none)")
        if last.value:
            right.markdown(f"= **{md_escape(last.value)}**")
        else:
            show_warning(f"No result: {last.error}", right)
    st.divider()
    if st.button("Score the built-in question set", icon=":material/fact_check:"):
        bar = st.progress(0.0, text="Asking")
        score = score_tools(
            model_asker(lm, PARAMS),
            on_step=lambda d, t: bar.progress(d / max(t, 1), text=f"{d}/{t}"),
        )
        st.session_state[Keys.TOOLS_SCORE] = score
    score = st.session_state.get(Keys.TOOLS_SCORE)
    if score:
        m1, m2 = st.columns(2)
        m1.metric("Direct answers right", f"{score.direct_accuracy:.0%}")
        m2.metric("With the calculator", f"{score.tool_accuracy:.0%}")
        rows = [
            {
                "question": r.question,
                "expected": r.expected,
                "direct": r.direct,
                "direct ok": r.direct_ok,
                "reply": r.reply,
                "expression": r.expression,
                "tool": r.tool_value,
                "tool ok": r.tool_ok,
            }
            for r in score.rows
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
