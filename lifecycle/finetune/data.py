"""Training examples as token ids with the loss on the answer only, and the pre-launch report."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import TypeVar

from lifecycle.evaluation.datasets import Example
from lifecycle.prompting import PromptSpec, build_messages
from lifecycle.tasks import load_tasks

IGNORE = -100  # label value the loss skips (the prompt part)


class DataError(ValueError):
    """Training data or settings that cannot work; the message says what to fix."""


@dataclass(frozen=True)
class Features:
    """One training example: ids, labels (prompt masked) and the exact text trained on."""

    input_ids: list[int]
    labels: list[int]
    text: str
    prompt_tokens: int

    @property
    def length(self) -> int:
        """Tokens in the example."""
        return len(self.input_ids)


def format_example(tokenizer, spec: PromptSpec, example: Example) -> Features:
    """Chat-template the prompt, append the answer and its end token; loss on the answer only.

    The end token is labelled on purpose: SmolLM2's pad token *is* its end-of-turn token, so a
    collator that masks padding would also mask the end and the model would never learn to stop.
    """
    messages = build_messages(replace(spec, shots=0), {"input": example.input})
    chat = bool(getattr(tokenizer, "chat_template", None))
    if chat:
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    else:
        prompt = "\n\n".join(m["content"] for m in messages) + "\n"
    end = tokenizer.eos_token or ""
    answer = example.output.strip() + end
    prompt_ids = tokenizer(prompt, add_special_tokens=not chat)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    return Features(
        prompt_ids + answer_ids,
        [IGNORE] * len(prompt_ids) + answer_ids,
        prompt + answer,
        len(prompt_ids),
    )


T = TypeVar("T")  # an Example or a preference pair: split keeps the type


def split(examples: list[T], val_share: float, seed: int) -> tuple[list[T], list[T]]:
    """A seeded train/validation split (at least one validation example when possible)."""
    if not 0 <= val_share < 1:
        raise DataError("The validation share must be between 0 and 1.")
    order = list(examples)
    random.Random(seed).shuffle(order)
    n_val = min(len(order) - 1, max(1, round(len(order) * val_share))) if val_share else 0
    return order[n_val:], order[:n_val]


@dataclass(frozen=True)
class DataReport:
    """What a fine-tune would train on, checked before launch."""

    rows: int
    empty: tuple[str, ...]
    duplicates: tuple[str, ...]
    too_long: tuple[str, ...]
    train: tuple[Example, ...]
    validation: tuple[Example, ...]
    preview: Features | None
    longest: int

    @property
    def usable(self) -> int:
        """Examples left after dropping empty, duplicate and over-long rows."""
        return len(self.train) + len(self.validation)


def data_report(
    tokenizer,
    spec: PromptSpec,
    examples: list[Example],
    max_len: int,
    window: int,
    val_share: float = 0.1,
    seed: int = 0,
) -> DataReport:
    """Count empty, duplicate and over-long rows (with the model's tokenizer), split the rest."""
    if not 1 <= max_len <= window:
        raise DataError(
            f"The sequence length must be between 1 and the model's window ({window:,})."
        )
    empty, duplicates, too_long, seen, longest = [], [], [], set(), 0
    kept: list[Example] = []
    for ex in examples:
        if not ex.input.strip() or not ex.output.strip():
            empty.append(ex.id)
            continue
        if (ex.input, ex.output) in seen:
            duplicates.append(ex.id)
            continue
        seen.add((ex.input, ex.output))
        length = format_example(tokenizer, spec, ex).length
        longest = max(longest, length)
        if length > max_len:
            too_long.append(ex.id)
        else:
            kept.append(ex)
    if not kept:
        raise DataError(
            "No usable rows: every row is empty, a duplicate or longer than the "
            f"sequence length of {max_len} tokens."
        )
    train, validation = split(kept, val_share, seed)
    return DataReport(
        len(examples),
        tuple(empty),
        tuple(duplicates),
        tuple(too_long),
        tuple(train),
        tuple(validation),
        format_example(tokenizer, spec, train[0]),
        longest,
    )


FORMATS = ("columns", "messages")  # instruction/input/output or prompt/completion | chat turns


def training_examples(
    rows: list[dict],
    fmt: str,
    input_cols: list[str] | tuple[str, ...] = (),
    output_col: str = "",
    messages_col: str = "messages",
) -> list[Example]:
    """Map uploaded rows to examples; empty rows are kept so the report can count them."""
    present = list(dict.fromkeys(str(k) for r in rows for k in r))
    wanted = [messages_col] if fmt == "messages" else [*input_cols, output_col]
    missing = [c for c in wanted if c not in present]
    if fmt not in FORMATS:
        raise DataError(f"Unknown format {fmt!r}.")
    if not wanted or missing or (fmt == "columns" and (not input_cols or not output_col)):
        raise DataError(
            f"Map the columns first (missing: {', '.join(missing) or 'input or output'}); "
            f"the file has: {', '.join(present)}."
        )
    if fmt == "columns" and output_col in input_cols:
        raise DataError("The output column cannot also be an input column.")
    out = []
    for n, row in enumerate(rows, 1):
        rid = str(row.get("id") or n)
        if fmt == "messages":
            prompt, answer = _from_messages(row.get(messages_col), n)
        else:
            parts = [str(row.get(c) or "").strip() for c in input_cols]
            prompt, answer = "\n\n".join(p for p in parts if p), str(row.get(output_col) or "")
        out.append(Example(rid, prompt, answer))
    return out


def _from_messages(value: object, n: int) -> tuple[str, str]:
    """(user turns before the last answer, last assistant answer) of a chat-format row."""
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)  # CSV cells hold the list as JSON text
        except (ValueError, RecursionError):
            raise DataError(f"Row {n}: the messages cell is not a JSON list.") from None
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise DataError(f"Row {n}: messages must be a list of {{role, content}} objects.")
    answers = [i for i, m in enumerate(value) if m.get("role") == "assistant"]
    if not answers:
        return "", ""  # counted as empty by the report
    last = answers[-1]
    users = [str(m.get("content") or "") for m in value[:last] if m.get("role") == "user"]
    return "\n\n".join(users), str(value[last].get("content") or "")


def task_spec(task_id: str) -> PromptSpec:
    """The zero-shot prompt kit of the task (training and the tuned model's prompt)."""
    tasks = load_tasks()
    if task_id not in tasks:
        raise DataError(f"Unknown task {task_id!r}.")
    return PromptSpec.for_task(tasks[task_id], 0)
