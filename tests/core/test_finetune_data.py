"""Fine-tuning data: answer-only labels that include the end token, and the pre-launch report."""

import pytest
from transformers import AutoTokenizer

from lifecycle.evaluation.datasets import Example, load_shipped
from lifecycle.finetune.data import IGNORE, DataError, data_report, format_example, split
from lifecycle.prompting import PromptSpec
from lifecycle.tasks import load_tasks

SPEC = PromptSpec.for_task(load_tasks()["summarization"])


@pytest.fixture(scope="module")
def tokenizer(tiny_causal):
    return AutoTokenizer.from_pretrained(tiny_causal)


def test_loss_is_on_the_answer_and_its_end_token_only(tokenizer):
    features = format_example(tokenizer, SPEC, Example("1", "a: hi\nb: bye", "they say bye"))
    answer = [t for t in features.labels if t != IGNORE]
    assert features.labels[: features.prompt_tokens] == [IGNORE] * features.prompt_tokens
    assert answer == features.input_ids[features.prompt_tokens :]
    assert answer[-1] == tokenizer.convert_tokens_to_ids("<|im_end|>")  # the model learns to stop
    assert tokenizer.decode(answer, skip_special_tokens=True).strip() == "they say bye"
    assert features.text.endswith("they say bye<|im_end|>")
    assert "<|im_start|>assistant\n" in features.text  # the chat template, as at inference


def test_split_is_seeded_and_keeps_a_validation_example():
    examples = [Example(str(i), "x", "y") for i in range(20)]
    train, val = split(examples, 0.1, seed=3)
    assert len(val) == 2 and len(train) == 18
    assert split(examples, 0.1, seed=3) == (train, val)
    assert split(examples[:2], 0.5, seed=0)[1] and split(examples[:2], 0.5, seed=0)[0]


def test_report_counts_empty_duplicate_and_long_rows(tokenizer):
    rows = [
        Example("ok", "a: hi", "hi"),
        Example("dup", "a: hi", "hi"),
        Example("empty", "a: hi", "  "),
        Example("long", "one two " * 800, "x"),
        Example("ok2", "b: yo", "yo"),
    ]
    report = data_report(tokenizer, SPEC, rows, max_len=1024, window=2048, val_share=0.5)
    assert report.rows == 5 and report.usable == 2
    assert report.empty == ("empty",) and report.duplicates == ("dup",)
    assert report.too_long == ("long",) and report.longest > 1024
    assert report.preview is not None and report.preview.length <= 1024


@pytest.mark.parametrize("max_len", [0, 5000])
def test_impossible_sequence_lengths_are_refused(tokenizer, max_len):
    with pytest.raises(DataError, match="sequence length"):
        data_report(tokenizer, SPEC, [Example("1", "a", "b")], max_len=max_len, window=2048)


def test_no_usable_rows_is_refused(tokenizer):
    with pytest.raises(DataError, match="No usable rows"):
        data_report(tokenizer, SPEC, [Example("1", "a", "")], max_len=64, window=2048)


def test_the_shipped_summaries_are_all_usable(tokenizer):
    train = list(load_shipped("dialogue_summaries", "train").examples)
    report = data_report(tokenizer, SPEC, train, max_len=1024, window=2048)
    assert report.usable == 200 and not report.empty and not report.duplicates
