"""A tuned model as GGUF on llama.cpp: llama.cpp's converter and quantizer, compared with
transformers on the same machine (no test names the words a model says)."""

import json
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from lifecycle.deploy import gguf
from lifecycle.models import ModelLoadError
from tests.tiny_models import CHATS, chat, save_lora

NEW_TOKENS = 12


@pytest.fixture(scope="session")
def built_ggufs(converter, gguf_tiny, tmp_path_factory):
    steps = []
    paths = gguf.build_ggufs(
        gguf_tiny, tmp_path_factory.mktemp("ggufs"), on_step=lambda w, d: steps.append((w, d))
    )
    return paths, steps


def transformers_tokens(folder: Path) -> dict[str, list[int]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    found = {}
    for question, _ in CHATS:
        ids = tok.apply_chat_template(chat(question), add_generation_prompt=True)
        ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
        with torch.no_grad():
            out = model.generate(
                torch.tensor([list(ids)]), max_new_tokens=NEW_TOKENS, do_sample=False
            )
        found[question] = out[0, len(ids) :].tolist()
    return found


def llama_tokens(path: Path, folder: Path) -> dict[str, list[int]]:
    """Greedy tokens from llama.cpp for the same prompt ids, ended as transformers ends."""
    from transformers import AutoTokenizer

    from lifecycle.serving.llamacpp import load_llamacpp

    tok = AutoTokenizer.from_pretrained(folder)
    lm = load_llamacpp(str(path), threads=2)
    found = {}
    for question, _ in CHATS:
        prompt = lm.encode(chat(question))
        ids = tok.apply_chat_template(chat(question), add_generation_prompt=True)
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        assert prompt == list(ids), "llama.cpp reads another prompt than transformers"
        lm.llm.reset()
        tokens = []
        for token in lm.llm.generate(prompt, top_k=1, temp=0.0, reset=True):
            tokens.append(int(token))
            if token == tok.eos_token_id or len(tokens) == NEW_TOKENS:
                break
        found[question] = tokens
    lm.llm.close()
    return found


def test_builds_the_three_variants_with_progress(built_ggufs):
    paths, steps = built_ggufs
    assert list(paths) == ["F16", "Q8_0", "Q4_K_M"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    assert paths["Q4_K_M"].stat().st_size < paths["Q8_0"].stat().st_size
    assert paths["Q8_0"].stat().st_size < paths["F16"].stat().st_size
    assert any("tensor" in what for what, _ in steps), "no progress from the converter"
    fractions = [d for _, d in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_f16_gives_the_greedy_tokens_of_transformers(built_ggufs, gguf_tiny):
    paths, _ = built_ggufs
    expected = transformers_tokens(gguf_tiny)
    assert llama_tokens(paths["F16"], gguf_tiny) == expected


def test_q8_0_agrees_on_nine_tokens_in_ten(built_ggufs, gguf_tiny):
    paths, _ = built_ggufs
    expected, got = transformers_tokens(gguf_tiny), llama_tokens(paths["Q8_0"], gguf_tiny)
    pairs = [(a, b) for q in expected for a, b in zip(expected[q], got[q], strict=False)]
    total = sum(len(v) for v in expected.values())
    assert sum(a == b for a, b in pairs) >= 0.9 * total


def test_a_run_variant_loads_by_its_picker_ref(built_ggufs, isolated_home):
    from components.models.open import open_model

    paths, _ = built_ggufs
    folder = gguf.run_gguf_folder("ft-test")
    folder.mkdir(parents=True)
    shutil.copy(paths["Q4_K_M"], folder / gguf.gguf_name("Q4_K_M"))
    assert gguf.built(folder) == {"Q4_K_M": folder / "model-Q4_K_M.gguf"}
    lm = open_model("llamacpp:run:ft-test/Q4_K_M")
    assert lm.ref == "llamacpp:run:ft-test/Q4_K_M" and "ft-test" in lm.name
    with pytest.raises(ModelLoadError, match="no Q8_0 GGUF"):
        open_model("llamacpp:run:ft-test/Q8_0")
    with pytest.raises(ModelLoadError, match="not a GGUF variant"):
        open_model("llamacpp:run:ft-test/Q3")


def test_a_missing_converter_says_to_run_make_llama(monkeypatch, tmp_path):
    monkeypatch.setenv(gguf.CONVERT_ENV, str(tmp_path))
    with pytest.raises(gguf.GgufError, match="make llama"):
        gguf.check_converter()


def test_a_converter_failure_is_named(converter, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["NoSuchModel"]}))
    with pytest.raises(gguf.GgufError, match="converter failed"):
        gguf.convert_f16(tmp_path, tmp_path / "out.gguf")
    assert not list(tmp_path.glob("*.gguf")) and not list(tmp_path.glob(".*.part"))


@pytest.fixture
def tuned_run(built_ggufs, gguf_tiny, isolated_home):
    """A finished full fine-tune run whose F16 GGUF is already built (the quantizing remains)."""
    paths, _ = built_ggufs
    shutil.copytree(gguf_tiny, isolated_home / "runs" / "ft-gguf" / "final")
    folder = gguf.run_gguf_folder("ft-gguf")
    folder.mkdir(parents=True)
    shutil.copy(paths["F16"], folder / gguf.gguf_name("F16"))
    return "run:ft-gguf"


def test_deploy_measures_gguf_beside_torch_and_exports_a_servable_folder(tuned_run, tmp_path):
    from llama_cpp import Llama

    from lifecycle.deploy import gguf_variants
    from lifecycle.deploy.benchmark import measure_variants
    from lifecycle.deploy.export import GGUF_FILE, export_variant
    from lifecycle.deploy.measure import MeasureConfig, available_variants
    from lifecycle.evaluation.datasets import load_shipped, shipped_index

    assert available_variants(tuned_run)[-3:] == gguf_variants.NAMES
    evalset = load_shipped(shipped_index()[0]["id"], "test")
    config = MeasureConfig(examples=2, load_rounds=1, max_new_tokens=8)
    names = ("fp32", "gguf-F16", "gguf-Q4_K_M")
    reports = {r.name: r for r in measure_variants(tuned_run, evalset, names, config)}
    assert all(not r.error for r in reports.values()), [r.error for r in reports.values()]
    f16, q4 = reports["gguf-F16"], reports["gguf-Q4_K_M"]
    for r in (f16, q4):
        assert r.memory_bytes > 0 and r.tokens_per_s > 0 and r.examples == 2 and r.quality_key
        assert r.disk_bytes == Path(r.folder).stat().st_size
    assert q4.disk_bytes < f16.disk_bytes and q4.label.startswith("GGUF Q4_K_M")
    assert Path(q4.folder).parent == gguf.run_gguf_folder("ft-gguf")
    assert set(gguf_variants.run_choices(["ft-gguf"])) == {
        "llamacpp:run:ft-gguf/F16",
        "llamacpp:run:ft-gguf/Q4_K_M",
    }

    out = export_variant(q4, tmp_path / "export", tuned_run, baseline=reports["fp32"])
    assert (out / GGUF_FILE).stat().st_size == q4.disk_bytes
    modelfile = (out / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./model.gguf\n") and "<|im_start|>assistant" in modelfile
    readme = (out / "README.md").read_text()
    assert f"llama-server -m {out / GGUF_FILE}" in readme and "ollama create" in readme
    llm = Llama(model_path=str(out / GGUF_FILE), n_ctx=256, verbose=False)  # as a server would
    assert llm.metadata.get("tokenizer.chat_template")
    assert len(llm.create_completion("Hello", max_tokens=4, temperature=0)["choices"]) == 1
    llm.close()


def test_a_lora_run_is_merged_first_and_keeps_its_greedy_tokens(
    converter, gguf_tiny, isolated_home
):
    save_lora(gguf_tiny, isolated_home / "runs" / "ft-lora" / "final")
    folder = gguf.run_gguf_folder("ft-lora")
    paths = gguf.build_for("run:ft-lora", folder, ("F16",))
    assert list(paths) == ["F16"] and not list(folder.glob(".merged-*")), "scratch left behind"
    expected = transformers_tokens(gguf.merged_copy("run:ft-lora", isolated_home))
    assert expected != transformers_tokens(gguf_tiny), "the adapter changed nothing"
    assert llama_tokens(paths["F16"], gguf_tiny) == expected


def readme_command(readme: str, name: str) -> str:
    """The command an export's README gives under `name:` (the first line of its code block)."""
    after = readme.split(f"\n{name}:\n", 1)[1]
    return after.split("```", 2)[1].splitlines()[1]


def export_q8(built_ggufs, tmp_path) -> tuple[str, Path]:
    """The Q8_0 GGUF of the tiny run exported as Deploy does: its README and model path."""
    from lifecycle.deploy.export import GGUF_FILE, export_variant
    from lifecycle.deploy.measure import VariantReport

    paths, _ = built_ggufs
    report = VariantReport(name="gguf-Q8_0", label="GGUF Q8_0", folder=str(paths["Q8_0"]))
    out = export_variant(report, tmp_path / "export", "run:ft-tiny")
    return (out / "README.md").read_text(), out / GGUF_FILE


def chat_on(cmd: list[str], port: int, log: Path) -> None:
    """Start a server as `cmd`, ask it one chat completion, check the reply, stop it."""
    import httpx

    from tests.servers import serving

    with serving(cmd, port, log, wait_s=300) as url:
        reply = httpx.post(
            f"{url}/chat/completions",
            json={"messages": chat(CHATS[2][0]), "max_tokens": 8, "temperature": 0},
            timeout=120,
        )
    assert reply.status_code == 200, reply.text
    [choice] = reply.json()["choices"]
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"].strip()


def test_an_export_runs_on_llama_cpp_s_server_as_its_readme_says(built_ggufs, tmp_path):
    from tests.servers import free_port

    readme, model = export_q8(built_ggufs, tmp_path)
    written = shlex.split(readme_command(readme, "llama-cpp-python server"))
    assert written == ["python", "-m", "llama_cpp.server", "--model", str(model)] + [
        "--host",
        "127.0.0.1",
        "--port",
        "8080",
    ]
    port = free_port()
    cmd = [sys.executable, *written[1:-1], str(port)]  # this venv's python, a free port
    chat_on(cmd, port, tmp_path / "server.log")


def llama_server() -> str | None:
    """llama.cpp's own `llama-server`: on PATH, or built into the venv by `make llama-server`."""
    beside = Path(sys.executable).with_name("llama-server")
    return shutil.which("llama-server") or (str(beside) if beside.is_file() else None)


@pytest.mark.skipif(
    llama_server() is None,
    reason="llama-server is not installed: `make llama-server` builds it (10-30 min on 2 cores)",
)
def test_an_export_runs_on_llama_server_as_its_readme_says(built_ggufs, tmp_path):
    from tests.servers import free_port

    readme, model = export_q8(built_ggufs, tmp_path)
    written = shlex.split(readme_command(readme, "llama.cpp server"))
    assert written == ["llama-server", "-m", str(model), "--host", "127.0.0.1", "--port", "8080"]
    port = free_port()
    chat_on([str(llama_server()), *written[1:-1], str(port)], port, tmp_path / "server.log")


OLLAMA_COMMANDS = {"FROM", "ADAPTER", "TEMPLATE", "SYSTEM", "PARAMETER", "LICENSE", "MESSAGE"}
OLLAMA_PARAMETERS = {"stop", "temperature", "num_ctx", "top_k", "top_p", "seed", "num_predict"}
GO_TAG = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


def modelfile_commands(text: str) -> list[tuple[str, str]]:
    """(command, argument) pairs as Ollama's parser reads them; \"\"\" spans lines."""
    found, lines = [], iter(text.splitlines())
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        command, _, arg = line.partition(" ")
        assert command.upper() in OLLAMA_COMMANDS, line
        if arg.startswith('"""'):
            arg = arg[3:]
            while '"""' not in arg:
                arg += "\n" + next(lines)
            arg, rest = arg.split('"""', 1)
            assert not rest.strip(), line
        found.append((command.upper(), arg))
    return found


def go_parts(template: str) -> list[tuple[str, str]]:
    """A Go template as text and action parts, with {{- and -}} trimming applied."""
    parts, pos, trim_next = [], 0, False
    for m in GO_TAG.finditer(template):
        text = template[pos : m.start()]
        text = text.lstrip() if trim_next else text
        parts += [("text", text.rstrip() if m.group(1) else text), ("tag", m.group(2))]
        pos, trim_next = m.end(), bool(m.group(3))
    tail = template[pos:]
    return parts + [("text", tail.lstrip() if trim_next else tail)]


def go_render(parts, scope: dict, i: int = 0) -> tuple[str, int]:
    """The subset of Go templates Ollama's ChatML templates use: if, ne, range, fields."""
    out = ""
    while i < len(parts):
        kind, value = parts[i]
        i += 1
        if kind == "text":
            out += value
        elif value == "end":
            return out, i
        elif value.startswith("if "):
            body, i = go_render(parts, scope, i)
            cond = value[3:].split()
            met = scope.get(cond[0][1:]) if len(cond) == 1 else scope[cond[1][1:]] != cond[2][1:-1]
            assert len(cond) == 1 or cond[0] == "ne", value
            out += body if met else ""
        elif value.startswith("range "):
            items = scope[value.split()[1][1:]]
            bodies = [go_render(parts, {**scope, **item}, i) for item in items or [{}]]
            out += "".join(b for b, _ in bodies) if items else ""
            i = bodies[0][1]
        else:
            assert value.startswith(".") and " " not in value, value
            out += scope[value[1:]]
    return out, i


def test_the_modelfile_is_what_ollama_reads_with_the_chat_template_translated():
    from jinja2 import Template

    from lifecycle.deploy.export import modelfile
    from tests.tiny_models import CHAT_TEMPLATE

    commands = modelfile_commands(modelfile(CHAT_TEMPLATE, "<|im_end|>"))
    assert commands[0] == ("FROM", "./model.gguf")
    params = [arg.split(" ", 1) for cmd, arg in commands if cmd == "PARAMETER"]
    assert all(name in OLLAMA_PARAMETERS for name, _ in params)
    stops = [json.loads(value) for name, value in params if name == "stop"]
    assert stops == ["<|im_start|>", "<|im_end|>"]
    [template] = [arg for cmd, arg in commands if cmd == "TEMPLATE"]
    convo = [chat(CHATS[0][0]), [{"role": "user", "content": CHATS[0][0]}]]
    for messages in convo:
        system = "".join(m["content"] for m in messages if m["role"] == "system")
        scope = {
            "System": system,
            "Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages],
        }
        expected = Template(CHAT_TEMPLATE).render(messages=messages, add_generation_prompt=True)
        assert go_render(go_parts(template), scope)[0] == expected

    other = modelfile_commands(modelfile("{{ bos_token }}{% for m in messages %}", "</s>"))
    assert [c for c, _ in other] == ["FROM", "PARAMETER", "PARAMETER"]  # Ollama reads the GGUF's
    assert other[1] == ("PARAMETER", 'stop "</s>"')


def test_the_background_build_is_one_per_run_and_runs_again_only_when_needed(monkeypatch):
    from lifecycle.deploy import gguf_jobs

    calls = []

    def build_for(ref, folder, quants, on_step):
        calls.append(ref)
        on_step("Converting to F16: tensor 1 of about 2", 0.35)
        if len(calls) == 2:
            raise gguf.GgufError("llama.cpp's converter failed")
        folder.mkdir(parents=True, exist_ok=True)
        for quant in quants:
            (folder / gguf.gguf_name(quant)).write_bytes(b"GGUF")
        return gguf.built(folder)

    monkeypatch.setattr(gguf_jobs, "build_for", build_for)
    job = gguf_jobs.build_job("ft-job")
    assert gguf_jobs.build_job("ft-job") is job and job.missing() == list(gguf.QUANTS)
    job.start()
    assert job.wait(60) and not job.error and job.done == 0.35
    assert calls == ["run:ft-job"] and job.missing() == [] and list(job.paths) == list(gguf.QUANTS)
    job.start()  # everything built: nothing to do
    assert job.wait(60) and len(calls) == 1
    (job.folder / gguf.gguf_name("Q8_0")).unlink()
    job.start()  # a file went missing: built again (and this time it fails)
    assert job.wait(60) and "converter failed" in job.error and len(calls) == 2
    job.start()  # after a failure: again
    assert job.wait(60) and not job.error and len(calls) == 3
