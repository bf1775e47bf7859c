"""The plan: a Gantt chart of the seven stages, editable durations, critical path, the report."""

import json
from dataclasses import asdict
from datetime import date

import streamlit as st

from components.charts import gantt_chart
from components.plan.fit import render_fit
from components.project import require_project
from components.records import save_record, sync_record
from components.report.html import html_report
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from lifecycle.deploy.measure import load_measurements
from lifecycle.finetune.runs import list_runs
from lifecycle.glossary import explain
from lifecycle.lineage import lineage
from lifecycle.overview import overview
from lifecycle.plan import EARLIEST, LATEST, check_days, end_date, start_date
from lifecycle.report import markdown_report
from lifecycle.report_summary import summary
from lifecycle.text import slug
from lifecycle.transfer import export_project


def to_widgets(data: dict) -> dict:
    """Widget values for a saved plan record."""
    return {Keys.PLAN_START: start_date(data.get("start_date"))}


project = require_project()
store = get_store()
st.title("Plan and report")
st.caption(
    "The order of the stages is fixed; adapt, align and evaluate overlap because they "
    "loop, and infrastructure is built beside deployment. Edit any duration below."
)
saved = sync_record(
    project.id, "plan", {"start_date": date.today().isoformat(), "overrides": {}}, to_widgets
)
left, right = st.columns([3, 1])
start = left.date_input("Project start", min_value=EARLIEST, max_value=LATEST, key=Keys.PLAN_START)
if right.button("Reset to derived durations", icon=":material/restart_alt:"):
    save_record(project.id, "plan", {**saved, "overrides": {}}, to_widgets)
ov = overview(store, project.id)

editor_key = Keys.PLAN_EDITOR + str(st.session_state[Keys.LOADED]["plan"]["revision"])
table = [
    {"Stage": r.title, "Need": r.need, "Derived days": r.derived_days, "Days": r.days, "Why": r.why}
    for r in ov.plan
]
edited = st.data_editor(
    table,
    key=editor_key,
    hide_index=True,
    width="stretch",
    disabled=["Stage", "Need", "Derived days", "Why"],
    column_config={
        "Days": st.column_config.NumberColumn(
            "Days",
            min_value=0,
            max_value=730,
            step=1,
            required=True,
            help="Your estimate; stages the scope does not need start at 0 days.",
        )
    },
)
days = {r.stage: row["Days"] for r, row in zip(ov.plan, edited)}
days = {
    k: int(v) if isinstance(v, (int, float)) and float(v).is_integer() else v
    for k, v in days.items()
}
problems = check_days(days)
for problem in problems:
    show_error(problem)
overrides = dict(saved.get("overrides") or {})
if not problems:
    overrides = {r.stage: days[r.stage] for r in ov.plan if days[r.stage] != r.derived_days}
save_record(
    project.id, "plan", {"start_date": start.isoformat(), "overrides": overrides}, to_widgets
)
ov = overview(store, project.id)

c1, c2, c3 = st.columns(3)
c1.metric("Start", f"{ov.start:%d %b %Y}")
c2.metric("End", f"{end_date(list(ov.plan)):%d %b %Y}")
c3.metric("Duration", f"{(end_date(list(ov.plan)) - ov.start).days} days")
render_fit(ov.fit)
st.plotly_chart(gantt_chart(list(ov.plan)), width="stretch")
st.markdown(
    "**Critical path:** " + " → ".join(r.title for r in ov.plan if r.critical),
    help=explain("Critical path"),
)

st.subheader("Export")
measured = load_measurements(store, project.id)
report = markdown_report(ov, measured)
plan_json = {
    "project": export_project(store, project.id),
    "decisions": summary(ov),  # derived (stage states, best candidate, cost), not only answers
    "lineage": lineage(ov, measured).to_dict(),
    "end_date": str(end_date(list(ov.plan))),
    "plan": [{**asdict(r), "start": str(r.start), "end": str(r.end)} for r in ov.plan],
}


def html_file() -> str:
    """The self-contained HTML report, built only when the button is pressed (it is ~5 MB)."""
    now_ov = overview(store, project.id)
    return html_report(now_ov, list_runs(project.id), load_measurements(store, project.id))


first, left, right = st.columns(3)
first.download_button(
    "Download report (HTML, works offline)",
    html_file,
    f"{slug(project.name)}-report.html",
    "text/html",
    icon=":material/share:",
    on_click="ignore",
    help="One file with every chart inside: mail it to people who do not open the app.",
)
left.download_button(
    "Download report (Markdown)",
    report,
    f"{slug(project.name)}-report.md",
    "text/markdown",
    icon=":material/description:",
)
right.download_button(
    "Download plan and decisions (JSON)",
    json.dumps(plan_json, indent=2),
    f"{slug(project.name)}-plan.json",
    "application/json",
    icon=":material/data_object:",
)
with st.expander("Preview the report"):
    st.markdown(report)
