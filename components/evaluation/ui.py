"""Evaluation widgets: the set (shipped or uploaded), the candidate, running with progress."""

from __future__ import annotations

import streamlit as st

from components.models.load import load_ui
from components.models.pick import pick_model
from components.resources import get_store
from components.state import Keys
from components.untrusted import show_error
from components.uploads import set_choice_ui, task_ui, uploaded_rows_ui
from lifecycle.evaluation.batches import eval_width, prompt_batch_predictor
from lifecycle.evaluation.datasets import (
    DatasetError,
    EvalSet,
    columns,
    load_shipped,
    shipped_index,
    to_set,
)
from lifecycle.evaluation.metrics import METRICS
from lifecycle.evaluation.runs import Candidate, EvalRun, continue_run, start_run
from lifecycle.evaluation.shots import prompt_predictor
from lifecycle.models import EMBEDDED, GenerationError, GenParams
from lifecycle.prompting import SHOTS, PromptSpec
from lifecycle.serving import default_ref
from lifecycle.settings import load_settings
from lifecycle.tasks import load_tasks
from lifecycle.text import md_escape, plural
from lifecycle.uploads import EVAL_SET, list_sets, save_set
from lifecycle.versions import list_versions

CURRENT = "__playground__"
RAG_K = 4  # sources per answer of a RAG candidate


def set_picker(project_id: str) -> EvalSet | None:
    """A shipped test set, or an uploaded CSV/JSONL with its columns mapped."""
    uploaded = list_sets(get_store(), project_id, EVAL_SET)
    shipped = {d["id"]: d["name"] for d in shipped_index()}
    pick = set_choice_ui(
        "Evaluation set",
        Keys.EVAL_SHIPPED,
        shipped,
        uploaded,
        "evaluate",
        lambda: _upload_form(project_id),
    )
    if pick in uploaded:
        up = uploaded[pick]
        return EvalSet(up.name, up.task_id, up.metrics, up.examples, "Uploaded by the user.")
    return load_shipped(pick)


def _upload_form(project_id: str) -> None:
    upload = uploaded_rows_ui(Keys.EVAL_UPLOAD)
    if upload is None:
        return
    name, _, rows = upload
    cols = columns(rows)
    c1, c2, c3 = st.columns(3)
    input_col = c1.selectbox("Input column", cols, key=Keys.EVAL_UP + "input")
    output_col = c2.selectbox(
        "Reference column", cols, index=min(1, len(cols) - 1), key=Keys.EVAL_UP + "output"
    )
    task_id = task_ui("Task", Keys.EVAL_UP + "task", c3)
    metrics = st.multiselect(
        "Metrics", list(METRICS), default=["rouge"], key=Keys.EVAL_UP + "metrics"
    )
    extra = [c for c in cols if c not in (input_col, output_col, "id")]
    if extra:
        st.caption(f"Ignored columns: {md_escape(', '.join(extra))}.")
    if st.button("Add this set", key=Keys.EVAL_UP + "add"):
        try:
            if not metrics:
                raise DatasetError("Pick at least one metric.")
            evalset = to_set(rows, input_col, output_col, name, task_id, tuple(metrics))
        except DatasetError as err:
            show_error(err)
            return
        save_set(
            get_store(),
            project_id,
            EVAL_SET,
            evalset.hash,
            evalset.name,
            task_id,
            evalset.examples,
            tuple(metrics),
        )
        st.success(
            f"Added {plural(len(evalset.examples), 'example')}; pick “Uploaded: {md_escape(name)}”."
        )


def candidate_picker(project_id: str, task_id: str, key: str = "") -> Candidate:
    """The playground's current prompt or a saved version, with a model and shots."""
    store = get_store()
    versions = {v.id: v for v in list_versions(store, project_id)}
    play = store.get_record(project_id, "playground")
    k = Keys.EVAL_CANDIDATE + key
    labels = {CURRENT: "Task prompt kit (or the playground's current prompt)"}
    labels.update({vid: f"Version: {v.name}" for vid, v in versions.items()})
    c1, c2, c3 = st.columns([3, 1, 2])
    pick = c1.selectbox("Candidate prompt", list(labels), format_func=labels.get, key=k + "pick")
    if pick == CURRENT:
        spec, params, model = _playground_prompt(play.data if play else {}, task_id)
    else:
        v = versions[pick]
        spec, params, model = v.prompt, v.params, v.model_ref
    shots = c2.selectbox("Shots", SHOTS, index=SHOTS.index(spec.shots), key=k + pick + "shots")
    with c3:
        model = pick_model(
            "Model",
            k + pick + "model",
            project_id,
            serving=True,
            runs=True,  # base vs prompted vs tuned: a finished run answers like any model
            gguf=True,
            preferred=model,
            preferred_as="Saved",
        )
    model = model or EMBEDDED  # an empty box for another model: the embedded one
    label = f"{labels[pick].split(': ', 1)[-1]} · {shots}-shot"
    if pick == CURRENT:
        label = f"{load_tasks()[task_id].name} prompt · {shots}-shot"
    source = pick
    rag = _retrieval_pick(project_id, k)
    if rag:
        source, label = f"rag:{rag[0]}", f"RAG on {rag[1]} · top-{RAG_K}"
    return Candidate(
        label,
        model,
        PromptSpec(spec.system, spec.instruction, spec.template, shots, spec.examples),
        params,
        source,
    )


def _retrieval_pick(project_id: str, key: str) -> tuple[str, str] | None:
    """Optionally answer from a RAG collection of the project (name, label), else None."""
    from components.rag.ui import settings_store_ready
    from lifecycle.rag import RagError

    vectors = settings_store_ready("Opening the vector store for retrieval candidates")
    if vectors is None:
        return None
    try:
        infos = {i.name: i.label for i in vectors.collections(project_id)}
    except RagError:
        return None
    if not infos:
        return None
    options = ["", *infos]
    pick = st.selectbox(
        "Retrieval (RAG)",
        options,
        key=key + "rag",
        format_func=lambda n: f"From the collection {infos[n]} (grounded prompt)" if n else "None",
    )
    return (pick, infos[pick]) if pick else None


def predictor_for(lm, candidate: Candidate):
    """The function that answers an input: a prompt, or retrieval + a grounded prompt."""
    if not candidate.source.startswith("rag:"):
        return prompt_predictor(lm, candidate)
    from components.rag.ui import settings_store
    from components.resources import get_embedder
    from lifecycle.rag import EMBEDDED_EMBEDDER, rag_predictor

    store = settings_store()
    coll = store.open(candidate.source[4:], get_embedder(EMBEDDED_EMBEDDER))
    return rag_predictor(lm, coll, candidate.params, k=RAG_K)


def _playground_prompt(data: dict, task_id: str) -> tuple[PromptSpec, GenParams, str]:
    kit = PromptSpec.for_task(load_tasks()[task_id])
    if data.get("task") != task_id:  # the playground is on another task: use this task's kit
        return kit, GenParams(max_new_tokens=64), default_ref(load_settings())
    spec = PromptSpec(
        data.get("system") or kit.system,
        data.get("instruction", kit.instruction),
        data.get("template") or kit.template,
        0,
        kit.examples,
    )
    model = data.get("model_other") or data.get("model") or default_ref(load_settings())
    return spec, GenParams(max_new_tokens=64), model


WIDTHS = (0, 1, 2, 4, 8, 16)  # 0 = auto


def width_ui() -> int:
    """Examples answered at once: a batch on transformers, requests in flight to an endpoint."""
    return st.selectbox(
        "Batch size / concurrency",
        WIDTHS,
        key=Keys.EVAL_WIDTH,
        format_func=lambda w: "Auto" if w == 0 else str(w),
        help=(
            "How many examples the model answers at once. Transformers: greedy runs go in "
            "left-padded batches (Auto: as many as a quarter of the free memory holds, up to 8); "
            "sampling, a grammar or a repetition penalty keep one at a time so the answers stay "
            "the same. Endpoints: requests in flight (Auto: 4), each retried when the server is "
            "busy. llama.cpp in this app answers one at a time. Predictions are saved after "
            "each batch, so a stop keeps them and the run resumes."
        ),
    )


def run_ui(
    project_id: str,
    candidate: Candidate,
    evalset: EvalSet,
    resume: EvalRun | None = None,
    width: int = 0,
) -> EvalRun | None:
    """Generate for every example with a progress bar; any click stops it, keeping the work."""
    lm = load_ui(candidate.model_ref)
    if lm is None:
        return None
    store = get_store()
    run = resume or start_run(store, project_id, candidate, evalset)
    name = md_escape(candidate.label)
    bar = st.progress(run.done / run.total, text=f"{name}: {run.done}/{run.total}")
    rag = candidate.source.startswith("rag:")
    width = 1 if rag else eval_width(lm, candidate, width)
    at_once = f"Up to {width} examples at a time · " if width > 1 else ""
    st.caption(
        f"{at_once}Press any button to stop: finished examples are kept and the run can resume."
    )
    from lifecycle.prompting import PromptError
    from lifecycle.rag import RagError

    try:
        return continue_run(
            store,
            project_id,
            run,
            evalset,
            predictor_for(lm, candidate),
            lambda done, total: bar.progress(done / total, text=f"{name}: {done}/{total}"),
            predict_many=None if rag else prompt_batch_predictor(lm, candidate, width),
            width=width,
        )
    # e.g. a deleted collection, an imported bad template, an input over the window
    except (RagError, PromptError, GenerationError) as err:
        show_error(err)  # the finished examples are kept
        return None
