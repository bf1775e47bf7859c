"""The glossary: every term explained once, pointing at real pages; raw ids shown by name."""

from __future__ import annotations

import ast
from pathlib import Path

from lifecycle.evaluation.metrics import METRICS
from lifecycle.glossary import display_name, load_glossary, term
from lifecycle.tasks import LADDER_LABELS

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "LoRA QLoRA PEFT RLHF DPO ROUGE BLEU chrF pass@k MFU Chinchilla RAG Embedding Chunk MRR"
).split() + ["Reward model", "KV cache", "Quantization", "Hit rate"]


def page_titles() -> set[str]:
    """The titles of the pages the navigation registers (read from components/pages.py)."""
    tree = ast.parse((ROOT / "components" / "pages.py").read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and len(n.args) == 4]
    return {c.args[2].value for c in calls if getattr(c.func, "id", "") == "PageInfo"}


def test_the_required_terms_are_all_there_with_one_plain_sentence():
    for name in REQUIRED:
        found = term(name)
        assert found is not None, name
        assert found.plain.endswith(".") and found.plain.count(". ") == 0, name


def test_every_where_names_an_existing_page():
    titles = page_titles()
    assert {"Glossary", "5 Evaluate", "Plan and report"} <= titles
    for t in load_glossary():
        assert t.where, t.name
        assert set(t.where) <= titles, (t.name, set(t.where) - titles)


def test_names_are_unique():
    names = [t.name.lower() for t in load_glossary()]
    assert len(names) == len(set(names))


def test_raw_ids_are_shown_by_their_names():
    assert display_name("rougeL") == "ROUGE-L"
    assert display_name("pass_at_k") == "pass@k"
    assert display_name("peft") == "PEFT (LoRA)"
    assert display_name("lora") == "LoRA fine-tuning"
    assert display_name("chrf") == "chrF"
    assert display_name("something-new") == "something-new"  # unknown ids pass through
    for metric in METRICS.values():
        assert display_name(metric.name) == metric.label
        for key in metric.keys:
            assert "_" not in display_name(key), key
    for rung in LADDER_LABELS:
        assert display_name(rung) != rung, rung
