"""Deploy page: variants of a tiny model measured and reloaded, the what-if, the export."""

from __future__ import annotations

import json

import pytest

from components.models.pick import OTHER, other_key
from components.state import Keys
from lifecycle.deploy.measure import MEASUREMENT, VariantReport, save_measurements
from lifecycle.text import md_escape

from .helpers import button, goto, rerun, texts

PAGE = "app_pages/deploy.py"


@pytest.fixture(autouse=True)
def hub_off(monkeypatch):
    """The hub stays off whatever the developer's shell says."""
    monkeypatch.delenv("LIFECYCLE_ALLOW_HUB", raising=False)


def session(make_app, tiny_causal):
    """A session on the page with the tiny model picked (the embedded one never loads)."""
    at = make_app()
    at.session_state[Keys.DEPLOY_MODEL] = OTHER
    at.session_state[other_key(Keys.DEPLOY_MODEL)] = str(tiny_causal)
    return goto(at, PAGE)


@pytest.fixture
def at(make_app, project, tiny_causal):
    return session(make_app, tiny_causal)


def table(at, column):
    [frame] = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


def traffic(at, **values):
    for name, value in values.items():
        at.number_input(key=f"{Keys.DEPLOY_TRAFFIC}{name}").set_value(value)
    return rerun(at)


def deploy_stage(at) -> str:
    """The Deploy stage's line in the sidebar tracker."""
    [line] = [e.value for e in at.sidebar.get("page_link") if e.value.startswith("6 ")]
    return line


@pytest.mark.slow
def test_tiny_model_variants_are_measured_saved_and_reloaded(
    at, make_app, store, project, tiny_causal
):
    assert texts(at.title) == ["6 · Deploy"]
    assert at.multiselect(key=Keys.DEPLOY_VARIANTS).value == ["fp32", "bf16", "int8"]
    assert "No measurement yet: pick the variants and press Build and measure." in texts(at.info)
    at.slider(key=Keys.DEPLOY_EXAMPLES).set_value(2)
    assert deploy_stage(at).endswith(": not started")
    at = rerun(button(rerun(at), "Build and measure").click())
    # The sidebar tracker, drawn before the page ran, is redrawn once it saved a measurement.
    assert not deploy_stage(at).endswith(": not started")
    results = table(at, "disk (MiB)")
    assert list(results["variant"]) == [
        "fp32 (as trained)",
        "bf16 (half the bytes)",
        "dynamic int8 (Linear layers)",
    ]
    assert (results["examples"] == 2).all() and (results["tokens/s (median)"] > 0).all()
    [said] = [m.value for m in at.markdown if m.value.startswith("- bf16 vs fp32")]
    assert f"\n- {md_escape('int8 vs fp32: ')}" in said and "\n- On these numbers ship " in said
    assert md_escape("Quality comes from 2 examples: each score is known to about") in said
    assert len([c for c in at.get("plotly_chart") if "decode speed" in c.proto.spec]) == 1
    [record] = store.list_records(project.id, MEASUREMENT)
    assert record.data["ref"] == str(tiny_causal)
    fp32, bf16, int8 = (r["memory_bytes"] for r in record.data["reports"])
    assert bf16 == pytest.approx(fp32 / 2, rel=0.05) and int8 < fp32

    # The what-if uses the measured speeds, one row per variant.
    assert at.radio(key=Keys.DEPLOY_TPS_SOURCE).value == "measured"
    assert len(table(at, "machines")) == 3

    again = session(make_app, tiny_causal)  # a new session after a restart: nothing re-measured
    median = "tokens/s (median)"
    assert list(table(again, "disk (MiB)")[median]) == list(results[median])


def test_the_what_if_turns_an_entered_throughput_into_machines_and_cost(at):
    assert not at.radio  # nothing measured yet: only an entered throughput
    at.number_input(key=Keys.DEPLOY_GPU_TPS).set_value(100.0)
    at = traffic(
        at,
        requests_per_day=86_400.0,
        prompt_tokens=0,
        completion_tokens=100,
        peak_factor=3.0,
        cost_per_hour=2.0,
    )
    [row] = table(at, "machines").to_dict("records")
    # 1 request/s on average, 3 at the peak, 1 s each: 3 machines at $2/h = $144 a day.
    assert row["s per request"] == 1.0 and row["machines"] == 3
    assert row["cost per day"] == "$144" and row["cost per 1,000 requests"] == "$1.67"
    at = traffic(at, requests_per_day=0.0)
    assert "Requests per day must be more than 0." in texts(at.error)


@pytest.fixture
def measured(store, project, tiny_causal):
    """A saved fp32 measurement of the tiny model (its folder is the model itself)."""
    report = VariantReport(
        name="fp32",
        label="fp32 (as trained)",
        folder=str(tiny_causal),
        disk_bytes=int(281.3 * 2**20),
        memory_bytes=2000,
        tokens_per_s=50.0,
        quality={"rougeL": 0.2},
        quality_key="rougeL",
        examples=2,
    )
    bf16 = VariantReport(
        name="bf16",
        label="bf16 (half the bytes)",
        folder=str(tiny_causal),  # any model folder: the export copies it
        disk_bytes=int(260.4 * 2**20),
        tokens_per_s=61.5,
        quality={"rougeL": 0.19},
        quality_key="rougeL",
        examples=2,
    )
    reports = [report, bf16]
    save_measurements(store, project.id, str(tiny_causal), "Dialogue summaries (test)", reports)
    return report


def test_export_asks_before_overwriting_and_shows_serve_commands(
    make_app, measured, tiny_causal, tmp_path
):
    at = session(make_app, tiny_causal)
    mine = tmp_path / "my-files"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    at = rerun(at.text_input(key=Keys.DEPLOY_EXPORT_PATH).input(str(mine)))
    assert any("Lifecycle did not export" in e for e in texts(at.error)), texts(at.error)
    assert button(at, "Export").disabled and (mine / "thesis.txt").is_file()

    target = tmp_path / "shipped"
    at = rerun(at.text_input(key=Keys.DEPLOY_EXPORT_PATH).input(str(target)))
    at = rerun(button(at, "Export").click())
    assert (target / "config.json").is_file() and (target / ".lifecycle-export").is_file()
    assert "Decode speed (median) | 50.0 tokens/s" in (target / "README.md").read_text()
    assert any(s.startswith("Exported the fp32 variant to") for s in texts(at.success))
    commands = [c.value for c in at.code]
    assert any(c.startswith(f"vllm serve {target}") for c in commands)
    assert json.loads((target / "config.json").read_text())["model_type"] == "llama"
    # Right after its own export the page neither warns nor says the folder is taken.
    assert not texts(at.warning) and not texts(at.error)
    assert at.checkbox(key=Keys.DEPLOY_EXPORT_OVERWRITE).label == "Replace it with a new export?"
    # Readable by a server running as another user (the weights arrived 0600).
    assert (target / "model.safetensors").stat().st_mode & 0o044 == 0o044
    assert (target.stat().st_mode & 0o055) == 0o055

    (target / "stale.txt").write_text("from the earlier export")
    at = rerun(at)
    assert button(at, "Export").disabled
    at = rerun(at.checkbox(key=Keys.DEPLOY_EXPORT_OVERWRITE).check())
    at = rerun(at.selectbox(key=Keys.DEPLOY_EXPORT_VARIANT).set_value("bf16"))
    at = rerun(at.text_input(key=Keys.DEPLOY_EXPORT_PATH).input(str(target)))
    assert button(at, "Export").disabled  # another variant: the question is asked again
    at = rerun(at.checkbox(key=Keys.DEPLOY_EXPORT_OVERWRITE).check())
    at = rerun(button(at, "Export").click())
    assert not (target / "stale.txt").exists() and (target / "config.json").is_file()
    text = (target / "README.md").read_text()
    # MiB, not "0.3 GiB" for both; the fp32 baseline beside it; the test set by name.
    assert "| Size on disk | 260.4 MiB | 281.3 MiB |" in text
    assert "| Figure | `bf16` | `fp32` |" in text and "`Dialogue summaries (test)`" in text


def test_export_into_an_unusable_place_says_why(make_app, measured, tiny_causal, tmp_path):
    at = session(make_app, tiny_causal)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    at = rerun(at.text_input(key=Keys.DEPLOY_EXPORT_PATH).input(str(blocker / "export")))
    at = rerun(button(at, "Export").click())
    assert any(e.startswith(f"Cannot create {blocker}") for e in texts(at.error)), texts(at.error)
