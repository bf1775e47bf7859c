"""One click from a fine-tune run to its GGUF variants for llama.cpp, built in the background."""

from __future__ import annotations

import time

import streamlit as st

from components.state import Keys
from components.untrusted import show_error
from lifecycle.deploy.gguf import QUANTS
from lifecycle.deploy.gguf_jobs import GgufBuild, build_job
from lifecycle.deploy.gguf_variants import picker_ref, ready
from lifecycle.text import md_code, md_escape

BUILD_HELP = (
    "A LoRA run is merged into its base first; llama.cpp's own converter writes F16, then its "
    "quantizer makes Q8_0 and Q4_K_M (about a minute for a 135M model on a free 2-core CPU). "
    "It runs in the background: the page stays usable and shows the progress."
)


def gguf_build_ui(run_id: str) -> None:
    """The button that builds a completed run's GGUF variants, its progress, then the result."""
    if not ready():
        st.caption(
            "GGUF variants for llama.cpp (Q4_K_M: a third of the size, several times the speed "
            "on a CPU) need llama.cpp and its converter: run `make llama`, then restart the app."
        )
        return
    job = build_job(run_id)
    if not job.running and not _result_ui(job):
        label = f"Build GGUF for llama.cpp ({', '.join(job.missing())})"
        key = Keys.DEPLOY_GGUF_BUILD + run_id
        if st.button(label, key=key, icon=":material/bolt:", help=BUILD_HELP):
            job.start()
    if job.running:
        _progress(run_id)


def _result_ui(job: GgufBuild) -> bool:
    """The last failure and the variants already built; True when none is missing."""
    if job.error:
        show_error(f"The GGUF variants could not be built: {job.error}")
    have = [q for q in QUANTS if q not in job.missing()]
    if have:
        refs = ", ".join(md_code(picker_ref(job.run_id, q)) for q in have)
        st.success(
            f"GGUF for llama.cpp: {', '.join(have)}. Every model picker offers them ({refs}); "
            "Deploy measures them beside the torch variants and exports them."
        )
    return len(have) == len(QUANTS)


@st.fragment(run_every=1.0)
def _progress(run_id: str) -> None:
    """The build's progress, redrawn each second; the whole page reruns when it ends."""
    job = build_job(run_id)
    if not job.running:
        st.rerun(scope="app")  # the pickers list the new files
    elapsed = time.monotonic() - job.started
    st.progress(
        min(max(job.done, 0.0), 1.0),
        text=f"Building the GGUF variants of {md_escape(run_id)}: {md_escape(job.what)} · "
        f"{elapsed:.0f} s. The rest of the page works meanwhile.",
    )
