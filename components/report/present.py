"""Present mode's drawing: one stage per screen in large type, one chart, previous / next."""

from __future__ import annotations

import streamlit as st

from components.guide.tracker import ICONS, PAGE_FILES, TITLES
from components.state import Keys
from lifecycle.evaluation.runs import best_like_for_like, primary_key
from lifecycle.evaluation.stats import bootstrap_interval
from lifecycle.finetune.runs import list_runs
from lifecycle.glossary import display_name
from lifecycle.overview import Overview
from lifecycle.present import Screen
from lifecycle.report_summary import retrieval_rows
from lifecycle.selection.memory import EstimateError, devices, estimate
from lifecycle.text import md_escape

COLOURS = {"decided": "green", "in progress": "orange", "not started": "gray", "not needed": "gray"}
CHART_FONT = 20  # px: read from the back of a room
# Arrow keys click the previous / next buttons. Streamlit has no key handler; this script (fixed
# text, never a record) runs in an iframe of the app's origin, listens on the app's document and
# fetches nothing.
KEYS_SCRIPT = """<script>
const doc = window.parent.document;
if (!doc.lifecyclePresentKeys) {
  doc.lifecyclePresentKeys = true;
  doc.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)))
      return;
    const key = {ArrowLeft: "%s", ArrowRight: "%s"}[event.key];
    const button = key && doc.querySelector(".st-key-" + key + " button");
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
}
</script>"""


def _move(step: int, count: int) -> None:
    current = st.session_state.get(Keys.PRESENT_INDEX, 0)
    st.session_state[Keys.PRESENT_INDEX] = min(max(current + step, 0), count - 1)


def screen_index(count: int) -> int:
    """The screen shown, kept inside the deck (a project with fewer screens may open)."""
    index = min(max(int(st.session_state.get(Keys.PRESENT_INDEX, 0)), 0), count - 1)
    st.session_state[Keys.PRESENT_INDEX] = index
    return index


def render_controls(index: int, count: int) -> None:
    """Previous and next buttons (arrow keys press them) and where the deck is."""
    left, middle, right = st.columns([1, 2, 1], vertical_alignment="center")
    left.button(
        "Previous",
        key=Keys.PRESENT_PREV,
        icon=":material/arrow_back:",
        disabled=index == 0,
        on_click=_move,
        args=(-1, count),
        width="stretch",
    )
    middle.markdown(f"Screen {index + 1} of {count} · arrow keys ← → turn", text_alignment="center")
    right.button(
        "Next",
        key=Keys.PRESENT_NEXT,
        icon=":material/arrow_forward:",
        disabled=index == count - 1,
        on_click=_move,
        args=(1, count),
        width="stretch",
    )
    st.iframe(KEYS_SCRIPT % (Keys.PRESENT_PREV, Keys.PRESENT_NEXT), height=1, tab_index=-1)


def render_screen(screen: Screen, ov: Overview, measured: dict) -> None:
    """The stage, its decision in one sentence, one chart (or why none), the next step."""
    st.title(f"{screen.number} · {screen.title}", anchor=False)
    st.badge(screen.state, icon=ICONS[screen.state], color=COLOURS[screen.state])
    st.header(md_escape(screen.sentence), anchor=False)
    for decision in screen.decisions:
        st.subheader(md_escape(decision), anchor=False)
    figure = evidence(screen.evidence, ov, measured)
    if figure is None:
        st.subheader(":gray[No evidence chart: nothing measured at this stage yet.]", anchor=False)
    else:
        _large(figure)
        st.plotly_chart(figure, width="stretch", config={"displayModeBar": False})
    page = TITLES[PAGE_FILES[screen.next.page]]
    lead = "To start, open" if screen.state == "not started" else "Next:"
    st.subheader(f"{lead} {page}. {screen.next.why}", anchor=False)


def _large(figure) -> None:
    """Type that reads from the back of a room (Streamlit's theme keeps only explicit sizes)."""
    big = dict(size=CHART_FONT)
    figure.update_layout(font=big, legend_font=big, height=max(figure.layout.height or 0, 460))
    figure.update_xaxes(tickfont=big, title_font=big)
    figure.update_yaxes(tickfont=big, title_font=big)
    figure.update_annotations(font=big)


def evidence(kind: str, ov: Overview, measured: dict):
    """The chart a screen's decision rests on, from the records; None when there is none."""
    from components.alignment.charts import dpo_rewards_chart
    from components.charts import gantt_chart, memory_chart
    from components.deploy.charts import speed_quality_chart
    from components.finetune.charts import compare_loss_chart

    if kind == "plan":
        return gantt_chart(list(ov.plan))
    if kind == "memory" and ov.model:
        try:
            return memory_chart(estimate(ov.model, ov.workload), devices()[:-1])
        except EstimateError:  # a saved workload no run could have: the model page says why
            return None
    if kind in ("loss", "dpo"):
        runs = [r for r in list_runs(ov.project.id) if r.metrics]
        tuned = [r for r in runs if (r.config.method == "dpo") == (kind == "dpo")]
        if tuned and kind == "dpo":
            return dpo_rewards_chart(tuned[0].metrics)  # the newest DPO run
        return compare_loss_chart(tuned[:4]) if tuned else None
    if kind == "scores":
        return _scores(ov)
    if kind == "retrieval":
        from components.rag.charts import retrieval_chart

        rows = retrieval_rows(ov)
        return retrieval_chart(rows) if rows else None
    reports = [r for rs in measured.values() for r in rs if not r.error]
    if kind == "deploy" and reports:
        return speed_quality_chart(reports)
    return None


def _scores(ov: Overview):
    from components.evaluation.charts import score_bars

    compared = best_like_for_like(list(ov.eval_runs))
    if not compared:
        return None
    rows = [
        (r.candidate.label, display_name(k), bootstrap_interval(list(v.values())))
        for r in compared[1]
        for k, v in r.per_example.items()
        if k == primary_key(r.metrics) and v
    ]
    return score_bars(rows) if rows else None
