"""The plan against the scope: says plainly when it does not fit, and what to cut."""

from __future__ import annotations

import streamlit as st

from lifecycle.plan_fit import PlanFit


def render_fit(fit: PlanFit | None) -> None:
    """A warning with the problems and the cuts, or one line saying the plan fits."""
    if fit is None:
        return
    if fit.fits:
        st.success(
            f"The plan fits your scope: {fit.days / 7:.1f} of {fit.weeks_allowed} weeks, "
            f"compute within your budget ({fit.budget}).",
            icon=":material/check_circle:",
        )
        return
    lines = [f"**The plan does not fit your scope.** {' '.join(fit.problems)}"]
    if fit.cuts:
        lines.append("What to cut:\n" + "\n".join(f"- {cut}" for cut in fit.cuts))
    lines.append("Change the timeline or budget on the Scope page, or edit the durations above.")
    st.warning("\n\n".join(lines), icon=":material/warning:")
