"""One model interface: every runtime implements ChatModel, and callers never branch on type."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lifecycle.models import GenParams, generate, load_model, stream
from lifecycle.models.protocol import ChatModel, GenerationError, registered_opener
from lifecycle.serving.openai_api import open_endpoint
from lifecycle.settings import Endpoint
from tests.fake_model import install

ROOT = Path(__file__).resolve().parents[2]
ASK = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]
RUNTIME_CLASSES = ("LoadedModel", "ServedModel", "EndpointModel", "LlamaCppModel")


def test_transformers_endpoint_and_fake_models_are_chat_models(tiny_causal):
    endpoint = open_endpoint(Endpoint("e", "http://127.0.0.1:9/v1", "m"), "")
    for lm in (load_model(str(tiny_causal)), endpoint, install()):
        assert isinstance(lm, ChatModel), type(lm).__name__
        assert lm.count_tokens(ASK) > 0 and lm.render_prompt(ASK)


@pytest.mark.llama
def test_llamacpp_model_is_a_chat_model():
    pytest.importorskip("llama_cpp")
    from lifecycle.serving.llamacpp import load_llamacpp

    assert isinstance(load_llamacpp("embedded", 1), ChatModel)


def test_the_fake_replays_answers_through_the_registered_opener():
    fake = install().enqueue("first answer", "second answer")
    lm = registered_opener("fake:any")("fake:any")
    assert generate(lm, ASK, GenParams()).text == "first answer"
    run = stream(lm, ASK, GenParams(max_new_tokens=1))
    assert "".join(run) == "second" and run.result.finish_reason == "length"
    assert generate(lm, ASK, GenParams()).text == "echo: Hi there"  # nothing queued
    assert len(fake.prompts) == 3


def test_every_runtime_refuses_the_same_bad_requests(tiny_causal):
    empty = [{"role": "system", "content": "x"}, {"role": "user", "content": "  "}]
    endpoint = open_endpoint(Endpoint("e", "http://127.0.0.1:9/v1", "m"), "")
    for lm in (load_model(str(tiny_causal)), endpoint, install()):
        with pytest.raises(GenerationError, match="empty"):
            stream(lm, empty, GenParams())
        with pytest.raises(GenerationError, match="Max new tokens"):
            stream(lm, ASK, GenParams(max_new_tokens=0))


def test_no_caller_branches_on_the_runtime_type():
    offenders = []
    for folder in ("lifecycle", "components", "app_pages"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
                    names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                    if names & set(RUNTIME_CLASSES):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
