"""Shared fixtures: every test gets its own data folder and Hugging Face cache."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LLAMA_FIXTURES = {"llama_installed", "llama_url"}


def pytest_collection_modifyitems(items):
    """Mark browser and llama.cpp tests, so `make test-fast` can leave them out."""
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(pytest.mark.browser)
        if LLAMA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.llama)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """A temp LIFECYCLE_HOME and HF_HOME so tests never see each other's data."""
    home = tmp_path / "lifecycle-home"
    monkeypatch.setenv("LIFECYCLE_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    # Pages start on the transformers runtime whether llama.cpp is installed or not; the
    # llama.cpp tests pick it explicitly.
    monkeypatch.setenv("LIFECYCLE_EMBEDDED_RUNTIME", "transformers")
    return home


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory):
    """Folder of a tiny causal chat model (Llama shape)."""
    from tests.tiny_models import build_causal

    return build_causal(tmp_path_factory.mktemp("tiny-causal"))


@pytest.fixture(scope="session")
def tiny_seq2seq(tmp_path_factory):
    """Folder of a tiny encoder-decoder model (T5 shape)."""
    from tests.tiny_models import build_seq2seq

    return build_seq2seq(tmp_path_factory.mktemp("tiny-seq2seq"))


@pytest.fixture(scope="session")
def embedded_models(tmp_path_factory):
    """The embedded SmolLM2 converted once per test session (about 30 s); a `models/` folder."""
    import os

    from lifecycle.models.sources import convert_embedded

    home = tmp_path_factory.mktemp("embedded-home")
    old = os.environ.get("LIFECYCLE_HOME")
    os.environ["LIFECYCLE_HOME"] = str(home)
    try:
        convert_embedded()
    finally:
        if old is None:
            os.environ.pop("LIFECYCLE_HOME", None)
        else:
            os.environ["LIFECYCLE_HOME"] = old
    return home / "models"


@pytest.fixture(scope="session")
def gguf_tiny(embedded_models, tmp_path_factory):
    """A tiny Llama with SmolLM2's real tokenizer (llama.cpp's converter checks it) that knows
    four chats by heart: what the GGUF tests convert."""
    from transformers import AutoTokenizer

    from tests.tiny_models import CHATS, build_causal

    tok = AutoTokenizer.from_pretrained(embedded_models / "smollm2-135m-instruct")
    return build_causal(tmp_path_factory.mktemp("gguf-tiny"), 512, tok, CHATS, hidden=64)


def link_embedded(embedded_models, home: Path) -> None:
    """Make the converted embedded model visible in another data folder (no copy)."""
    target = home / "models" / embedded_models.joinpath("smollm2-135m-instruct").name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(embedded_models / "smollm2-135m-instruct", target_is_directory=True)


@pytest.fixture
def with_embedded(embedded_models, isolated_home):
    """This test's data folder, with the embedded model already converted."""
    link_embedded(embedded_models, isolated_home)
    return isolated_home


@pytest.fixture(scope="session")
def llama_installed():
    """llama-cpp-python[server] in this environment: built once, then from pip's wheel cache."""
    from tests.servers import ensure_llama

    ensure_llama()
    return True


@pytest.fixture(scope="session")
def converter(llama_installed):
    """llama.cpp's converter, unpacked by `make llama` (here when an older venv lacks it)."""
    import subprocess

    from lifecycle.deploy import gguf

    try:
        gguf.check_converter()
    except gguf.GgufError:
        subprocess.run(["make", "-C", str(ROOT), "llama-convert"], check=True, timeout=900)
    return gguf.check_converter()


API_KEY = "test-key-not-a-secret"


@pytest.fixture(scope="session")
def llama_url(llama_installed, tmp_path_factory):
    """A real llama.cpp OpenAI-compatible server on loopback (API key API_KEY), for the session."""
    from lifecycle.models.sources import embedded_gguf
    from tests.servers import llama_server

    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(embedded_gguf(), API_KEY, log) as url:
        yield url
