"""Every st.session_state key of the app, its default, and init_state()."""

from __future__ import annotations

import streamlit as st


class Keys:
    """Session-state keys. Page-only widget keys carry the page's prefix."""

    PROJECT_ID = "project_id"  # id of the open project, or None
    LOADED = "loaded_records"  # {kind: {"project", "revision", "data"}} as last read or written
    CONFLICTS = "record_conflicts"  # {kind: data the user wanted to save when another tab won}
    FLASH = "flash"  # one message to show after an action that reruns the script
    CONFLICT_KEEP = "conflict_keep_"  # + record kind: keep my version over the other tab's
    CONFLICT_LOAD = "conflict_load_"  # + record kind: load the other tab's version

    SIDEBAR_PROJECT = "sidebar_project"

    HOME_NEW_NAME = "home_new_name"
    HOME_RENAME = "home_rename"
    HOME_DELETE_CONFIRM = "home_delete_confirm"
    HOME_IMPORT = "home_import"
    HOME_IMPORT_ERROR = "home_import_error"  # the last refused import, shown until dismissed
    HOME_SAMPLE = "home_sample"  # the Open the sample project button
    HOME_NEW_FORM = "home_new_project"  # the New project form
    HOME_RENAME_FORM = "home_rename_form"

    SCOPE_QUERY = "scope_query"
    SCOPE_ARCH = "scope_arch"
    SCOPE_PRIMARY = "scope_primary_task"
    SCOPE_SECONDARY = "scope_secondary_tasks"
    SCOPE_ANSWER = "scope_answer_"  # + question name
    SCOPE_WEEKS = "scope_answer_timeline_weeks"

    MODEL_PICK = "model_pick"
    MODEL_CUSTOM_ID = "model_custom_id"
    MODEL_CUSTOM_PARAMS = "model_custom_params"
    MODEL_CUSTOM_HOW = "model_custom_how"  # config.json | local folder | hub id | size only
    MODEL_CUSTOM_TEXT = "model_custom_config_text"  # a pasted config.json
    MODEL_CUSTOM_FILE = "model_custom_config_file"  # an uploaded config.json
    MODEL_CUSTOM_FOLDER = "model_custom_folder"
    MODEL_CUSTOM_SHAPE = "model_custom_shape"  # the shape read from the config, or None
    MODEL_CUSTOM_ERROR = "model_custom_error"  # why the last read failed, shown until the next
    MODEL_IN_BAND = "model_in_band"  # catalogue filter: only sizes inside the scoped bands
    MODEL_FOR_TASKS = "model_for_tasks"
    MODEL_COMMERCIAL = "model_commercial"
    MODEL_WORK = "model_work_"  # + Workload field
    MODEL_ADVISOR = "model_advisor_"  # + AdvisorInput field
    MODEL_USD_PER_HOUR = "model_usd_per_hour"
    MODEL_UTILISATION = "model_utilisation"
    MODEL_SORT = "model_sort"  # the catalogue's order

    PLAN_START = "plan_start_date"

    PRESENT_INDEX = "present_index"  # the screen Present mode shows (0 = scope)
    PRESENT_PREV = "present_prev"  # its buttons: the arrow keys find them by these keys
    PRESENT_NEXT = "present_next"

    PLAY_MODEL = "play_model"  # embedded, the project's model, or "other"
    PLAY_MODEL_OTHER = "play_model_other"  # hub id or local folder typed by the user
    PLAY_TASK = "play_task"
    PLAY_SHOTS = "play_shots"
    PLAY_SYSTEM = "play_system"
    PLAY_INSTRUCTION = "play_instruction"
    PLAY_TEMPLATE = "play_template"
    PLAY_VAR = "play_var_"  # + template variable name
    PLAY_PARAM = "play_param_"  # + GenParams field
    PLAY_STOP_TEXT = "play_param_stop_text"  # stop sequences, one per line
    PLAY_LOADED = "play_loaded"  # the model ref this session has loaded (reloads are instant)
    PLAY_LAST = "play_last"  # {"result", "label"} of the last finished run, shown after reruns
    PLAY_PARTIAL = "play_partial"  # text streamed so far, kept if the user stops mid-way
    PLAY_VARIANTS = "play_variants"  # how many variants to compare
    PLAY_VARIANT = "play_variant_"  # + index + field
    PLAY_COMPARE = "play_compare_results"  # results of the last comparison
    PLAY_VERSION_NAME = "play_version_name"
    PLAY_DIFF = "play_diff_"  # + a | b
    PLAY_SAVE_FORM = "play_save_version"  # the Save version form
    PLAY_VERSION_PICK = "play_version_pick"  # the version to load or delete
    PLAY_VERSION_DELETE_OK = "play_version_delete_ok"

    EVAL_SOURCE = "eval_source"  # shipped | upload
    EVAL_SHIPPED = "eval_shipped_set"
    EVAL_UPLOAD = "eval_upload"
    EVAL_LIMIT = "eval_limit"  # examples evaluated (saved per set in the "evaluate" record)
    EVAL_CANDIDATE = "eval_candidate_"  # + field
    EVAL_SELECTED = "eval_selected_runs"
    EVAL_KNOWN = "eval_known_runs"  # run ids seen last time: a new one joins the comparison
    EVAL_EXAMPLE = "eval_example"
    EVAL_RATE = "eval_rate_"  # + run id + "_" + example id: the stars given to one answer
    EVAL_DELETE_PICK = "eval_delete_pick"
    EVAL_DELETE_OK = "eval_delete_ok"
    EVAL_RESUME = "eval_resume_"  # + run id: its Resume button
    EVAL_UP = "eval_up_"  # + input | output | task | metrics | add: the set upload form
    EVAL_SHOTS_PICKER = "shots_"  # the Shots tab's candidate_picker key (after EVAL_CANDIDATE)
    EVAL_SHOTS_SLICE = "eval_shots_slice"  # the shots curve's slice (saved per set too)
    EVAL_SLICE_SET = "eval_slice_set"  # [project, set] whose slices the sliders show
    EVAL_SHOTS_POINTS = "eval_shots_points"  # the last shots curve, shown after reruns
    EVAL_WIDTH = "eval_width"  # examples answered at once (0 = auto: batch or concurrency)
    FT_SOURCE = "ft_source"  # dataset: shipped:<id> | upload:<hash>
    FT_UPLOAD = "ft_upload"
    FT_UP = "ft_up_"  # + mapping field of the upload form
    FT_MODEL = "ft_model"
    FT_MODEL_OTHER = "ft_model_other"
    FT_SET = "ft_set_"  # + FinetuneConfig field
    FT_RUN = "ft_run"  # the run shown in the live view and registry
    FT_DELETE = "ft_delete_confirm"
    FT_TRY_INPUT = "ft_try_input"
    FT_TRY = "ft_try_results"  # {"run", "base", "tuned"} of the last side-by-side
    FT_EVAL_LIMIT = "ft_eval_limit"
    FT_EXPORT = "ft_export_folder"
    FT_EXPORT_PROCESSES = "ft_export_processes"  # processes in the "run it elsewhere" commands
    FT_UP_ERROR = "ft_upload_error"  # why the last "Add this training set" failed, shown once
    FT_COMPARE = "ft_compare"  # run ids shown side by side
    FT_PRESET = "ft_preset"  # the preset (or run) whose settings fill the New run form
    FT_PRESET_NAME = "ft_preset_name_"  # + run id: the name a run's settings are saved under
    FT_CHECKPOINT = "ft_checkpoint_"  # + run id: the checkpoint tried and evaluated
    FT_RESUME_FROM = "ft_resume_from_"  # + run id: the checkpoint a resume starts from
    FT_RESUME = "ft_resume_run_"  # + run id: its Resume button
    FT_STOP = "ft_stop_"  # + run id
    FT_KILL = "ft_kill_"  # + run id: force stop
    FT_DELETE_RUN = "ft_delete_run_"  # + run id: its Delete button
    FT_LOSS_CHART = "ft_loss_chart_"  # + run id + "_" + metrics count (a new chart per update)
    FT_METRIC_CHART = "ft_metric_chart_"  # + the same
    FT_COMPARE_LOSS = "ft_compare_loss"
    FT_COMPARE_METRIC = "ft_compare_metric"
    FT_REUSE = "ft_reuse_"  # + run id: fill the New run form with its settings
    FT_SAVE_PRESET = "ft_save_preset_"  # + run id
    RAG_STORE = "rag_store_"  # + kind | host | port: embedded store or a Chroma server
    RAG_COLLECTION = "rag_collection"
    RAG_NEXT = "rag_collection_next"  # a just-created collection to select on the next run
    RAG_NEW_LABEL = "rag_new_label"
    RAG_UPLOAD = "rag_upload"
    RAG_CHUNK = "rag_chunk_"  # + unit | size | overlap
    RAG_DELETE = "rag_delete_confirm"
    RAG_QUESTION = "rag_question"
    RAG_K = "rag_k"
    RAG_MMR = "rag_mmr"
    RAG_MODEL = "rag_model"  # the model that answers (retrieval does not depend on it)
    RAG_LAST = "rag_last"  # {"answer", "plain"} of the last question, shown after reruns
    RAG_QUALITY = "rag_quality"  # the last retrieval-quality report
    RAG_UPLOADER_KEY = "rag_uploader_generation"  # bumped to clear the uploader after adding
    RAG_ADDED = "rag_added"  # {"collection", "line", "skipped"} of the last add, until the next
    RAG_ADDED_DISMISS = "rag_added_dismiss"
    RAG_NEW_FORM = "rag_new_collection"  # the New collection form
    RAG_DELETE_DOC = "rag_del_"  # + document hash
    TOOLS_QUESTION = "tools_question"
    TOOLS_LAST = "tools_last"
    TOOLS_SCORE = "tools_score"
    PLAN_EDITOR = "plan_editor_"  # + revision, so a reload resets the editor

    ALIGN_TAB = "align_tab"  # the open tab's label: only its content runs (lazy tabs)
    ALIGN_TASK = "align_task"  # whose prompt kit and shipped prompts the pairs use
    ALIGN_PROMPT = "align_prompt"  # index of a shipped prompt, or "typed"
    ALIGN_PROMPT_TEXT = "align_prompt_text"
    ALIGN_SIDE = "align_side_"  # + a | b + model | model_other | do_sample | temperature | seed
    ALIGN_MAX_TOKENS = "align_max_tokens"
    ALIGN_PAIR = "align_pair"  # {"project", "pair"}: the blind pair waiting for a verdict
    ALIGN_REASON = "align_reason"
    ALIGN_JUDGE = "align_judge_"  # + first | second | tie | both_bad (verdict buttons)
    ALIGN_DELETE = "align_delete"  # preference ids ticked for deletion
    ALIGN_CHAT_EXPORT = "align_chat_export"  # download the conversational TRL form
    ALIGN_HELD_OUT = "align_held_out"
    ALIGN_STEPS = "align_steps"
    ALIGN_SCORE_TEXT = "align_score_text"
    ALIGN_BON_MODEL = "align_bon_model"  # + "_other": the typed folder (as every model picker)
    ALIGN_BON_N = "align_bon_n"
    ALIGN_BON_TEMP = "align_bon_temperature"
    ALIGN_BON = "align_bon_result"  # {"project", "result"} of the last best-of-n
    ALIGN_DPO_MODEL = "align_dpo_model"
    ALIGN_DPO_SET = "align_dpo_set_"  # + setting name
    ALIGN_DPO_RUN = "align_dpo_run"  # the DPO run shown in the live view
    ALIGN_GPU = "align_gpu"  # the chooser assumes GPUs for training
    ALIGN_LABELS = "align_labels"  # thumbs-up/down labels the user already has (KTO)
    ALIGN_DPO_CHART = "align_dpo_rewards_"  # + run id
    ALIGN_REWARD_CHART = "align_reward_loss_"  # + reward model id
    ALIGN_BON_CHART = "align_bon_chart"

    DEPLOY_MODEL = "deploy_model"
    DEPLOY_SET = "deploy_set"  # shipped set whose test split measures quality
    DEPLOY_VARIANTS = "deploy_variants"
    DEPLOY_VARIANTS_OFFERED = "deploy_variants_offered"  # the options the choice was made among
    DEPLOY_EXAMPLES = "deploy_examples"
    DEPLOY_SHOWN = "deploy_shown"  # the model ref whose saved measurements are shown
    DEPLOY_TRAFFIC = "deploy_traffic_"  # + Traffic field
    DEPLOY_TPS_SOURCE = "deploy_tps_source"  # measured | entered
    DEPLOY_GPU_TPS = "deploy_gpu_tps"
    DEPLOY_GGUF_BUILD = "deploy_gguf_build_"  # + run id: the one-click GGUF build button
    DEPLOY_EXPORT_VARIANT = "deploy_export_variant"
    DEPLOY_EXPORT_PATH = "deploy_export_path"
    DEPLOY_EXPORT_OVERWRITE = "deploy_export_overwrite"
    DEPLOY_EXPORTED = "deploy_exported"  # {"folder", "variant"} of the last export
    DEPLOY_COST_CHART = "deploy_cost"
    DEPLOY_SPEED_CHART = "deploy_speed"
    DEPLOY_SIZE_CHART = "deploy_size"

    DECISION_ACCEPT = "decision_accept_"  # + gate: accept the proposal
    DECISION_OVERRIDE = "decision_override_"  # + gate: record the other choice
    DECISION_CHOICE = "decision_choice_"  # + gate: the choice an override picks
    DECISION_REASON = "decision_reason_"  # + gate: why the proposal is overridden
    DECISION_ERROR = "decision_error_"  # + gate: why the last accept or override failed
    DECISION_REVISIT = "decision_revisit_"  # + gate: a decided gate opened again
    BACKGROUND_RETRY = "background_retry_"  # + what: try a failed background load again

    SETTINGS_NOTICE = "settings_notice"  # {section: (ok, text)} after a save, shown once
    SETTINGS_FORM = "settings_form_"  # + runtime | endpoint | chroma: the section's form
    SETTINGS_RUNTIME = "settings_runtime"  # auto | llama.cpp | transformers
    SETTINGS_THREADS = "settings_threads"
    SETTINGS_LLAMA_PORT = "settings_llama_port"
    SETTINGS_SERVER_ACTION = "settings_server_action"  # start | stop, asked by a click
    SETTINGS_EDIT = "settings_edit"  # the endpoint the form edits ("" = a new one)
    SETTINGS_EP = "settings_ep_"  # + Endpoint field: the add/edit form
    SETTINGS_TEST = "settings_test_"  # + endpoint name: its Test connection button
    SETTINGS_CONFIRM = "settings_confirm_"  # + endpoint name: the delete confirmation
    SETTINGS_DELETE = "settings_delete_"  # + endpoint name: its Delete button
    SETTINGS_HEALTH = "settings_health"  # {endpoint name: (ok, line, ms)} of the last tests
    SETTINGS_FOLDER = "settings_folder"  # another data folder, typed
    SETTINGS_HUB = "settings_hub"
    SETTINGS_CHROMA = "settings_chroma_"  # + kind | host | port


# Prefixes of widget keys that mirror a saved record: cleared when another project opens.
RECORD_WIDGET_PREFIXES = ("scope_", "model_", "plan_", "play_", "ft_")

DEFAULTS = {
    Keys.PROJECT_ID: None,
    Keys.LOADED: {},
    Keys.CONFLICTS: {},
    Keys.FLASH: None,
}


def init_state() -> None:
    """Put every app-wide key in the session with its default."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, dict) else value


def forget_record_widgets() -> None:
    """Drop cached records and their widget values (another project was opened)."""
    st.session_state[Keys.LOADED] = {}
    st.session_state[Keys.CONFLICTS] = {}
    for key in list(st.session_state.keys()):
        if str(key).startswith(RECORD_WIDGET_PREFIXES):
            del st.session_state[key]
