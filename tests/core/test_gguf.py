"""A tuned model as GGUF on llama.cpp: llama.cpp's converter and quantizer, compared with
transformers on the same machine (no test names the words a model says)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lifecycle.deploy import gguf
from lifecycle.models import ModelLoadError

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")
CHATS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Summarize: alice asks bob to lunch at noon.", "Alice invites Bob to lunch at noon."),
    ("Count to five.", "One, two, three, four, five."),
    ("Name a colour.", "Blue is a colour."),
]
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
NEW_TOKENS = 12


def messages(question: str) -> list[dict]:
    return [SYSTEM, {"role": "user", "content": question}]


@pytest.fixture(scope="session")
def converter(llama_installed):
    """llama.cpp's converter, unpacked by `make llama` (here when an older venv lacks it)."""
    try:
        gguf.check_converter()
    except gguf.GgufError:
        subprocess.run(["make", "-C", str(ROOT), "llama-convert"], check=True, timeout=900)
    return gguf.check_converter()


@pytest.fixture(scope="session")
def tuned_tiny(embedded_models, tmp_path_factory):
    """A 2-layer Llama with SmolLM2's real tokenizer (the converter checks it), fully tuned a
    few dozen steps on four chats so that its greedy answers are confident."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tuned-tiny")
    source = embedded_models / "smollm2-135m-instruct"
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy(source / name, folder / name)
    tok = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    model = LlamaForCausalLM(config)
    texts = [
        tok.apply_chat_template(messages(q) + [{"role": "assistant", "content": a}], tokenize=False)
        for q, a in CHATS
    ]
    batch = tok(texts, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def built_ggufs(converter, tuned_tiny, tmp_path_factory):
    steps = []
    paths = gguf.build_ggufs(
        tuned_tiny, tmp_path_factory.mktemp("ggufs"), on_step=lambda w, d: steps.append((w, d))
    )
    return paths, steps


def transformers_tokens(folder: Path) -> dict[str, list[int]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    found = {}
    for question, _ in CHATS:
        ids = tok.apply_chat_template(messages(question), add_generation_prompt=True)
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
        prompt = lm.encode(messages(question))
        ids = tok.apply_chat_template(messages(question), add_generation_prompt=True)
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


def test_f16_gives_the_greedy_tokens_of_transformers(built_ggufs, tuned_tiny):
    paths, _ = built_ggufs
    expected = transformers_tokens(tuned_tiny)
    assert llama_tokens(paths["F16"], tuned_tiny) == expected


def test_q8_0_agrees_on_nine_tokens_in_ten(built_ggufs, tuned_tiny):
    paths, _ = built_ggufs
    expected, got = transformers_tokens(tuned_tiny), llama_tokens(paths["Q8_0"], tuned_tiny)
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
def tuned_run(built_ggufs, tuned_tiny, isolated_home):
    """A finished full fine-tune run whose F16 GGUF is already built (the quantizing remains)."""
    paths, _ = built_ggufs
    shutil.copytree(tuned_tiny, isolated_home / "runs" / "ft-gguf" / "final")
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
    converter, tuned_tiny, isolated_home
):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    final = isolated_home / "runs" / "ft-lora" / "final"
    base = AutoModelForCausalLM.from_pretrained(tuned_tiny)
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(final)  # non-zero B: the merge changes weights
    config = json.loads((final / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tuned_tiny)
    (final / "adapter_config.json").write_text(json.dumps(config))
    for name in TOKENIZER_FILES:
        shutil.copy(tuned_tiny / name, final / name)

    folder = gguf.run_gguf_folder("ft-lora")
    paths = gguf.build_for("run:ft-lora", folder, ("F16",))
    assert list(paths) == ["F16"] and not list(folder.glob(".merged-*")), "scratch left behind"
    expected = transformers_tokens(gguf.merged_copy("run:ft-lora", isolated_home))
    assert expected != transformers_tokens(tuned_tiny), "the adapter changed nothing"
    assert llama_tokens(paths["F16"], tuned_tiny) == expected
