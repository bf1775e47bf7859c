"""Human preferences: blind pairs of completions, the pick saved in the project, TRL export."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from lifecycle.config import KNOWLEDGE
from lifecycle.models.generation import GenParams, generate
from lifecycle.models.protocol import ChatModel
from lifecycle.store import Store, StoreError, now
from lifecycle.typed import dataclass_from

PREFERENCE = "preference"  # record kind
CHOICES = ("a", "b", "tie", "both_bad")
PICKS = ("first", "second", "tie", "both_bad")  # what the blind page shows
SEED_FILE = KNOWLEDGE / "datasets" / "preferences_seed.jsonl"
MAX_REASON = 500  # a reason is a sentence, not an essay


class PreferenceError(ValueError):
    """A preference that cannot be made or saved; the message says why."""


@dataclass(frozen=True)
class Side:
    """One completion of a pair with what produced it."""

    text: str = ""
    model_ref: str = ""
    params: dict = field(default_factory=dict)  # GenParams as a dict

    @classmethod
    def from_dict(cls, data: dict | None) -> Side:
        """From a stored record."""
        data = data or {}
        return cls(
            str(data.get("text", "")), str(data.get("model_ref", "")), data.get("params") or {}
        )


@dataclass(frozen=True)
class Preference:
    """A person's verdict on two completions of one prompt."""

    id: str
    prompt: str  # the user-visible input (what TRL calls the prompt)
    a: Side
    b: Side
    choice: str  # a | b | tie | both_bad
    reason: str = ""
    task: str = ""
    created_at: str = ""
    messages: tuple[dict, ...] = ()  # the exact chat the model read (system + shots + input)

    @property
    def usable(self) -> bool:
        """True when it says which completion is better (ties and both-bad say nothing)."""
        return self.choice in ("a", "b")

    @property
    def chosen(self) -> str:
        """The preferred text ('' for ties and both-bad)."""
        return {"a": self.a.text, "b": self.b.text}.get(self.choice, "")

    @property
    def rejected(self) -> str:
        """The other text ('' for ties and both-bad)."""
        return {"a": self.b.text, "b": self.a.text}.get(self.choice, "")

    def to_dict(self) -> dict:
        """JSON-ready form (as stored)."""
        data = asdict(self)
        data["messages"] = list(self.messages)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Preference:
        """From a stored record."""
        return cls(
            str(data["id"]),
            str(data.get("prompt", "")),
            Side.from_dict(data.get("a")),
            Side.from_dict(data.get("b")),
            str(data.get("choice", "tie")),
            str(data.get("reason", "")),
            str(data.get("task", "")),
            str(data.get("created_at", "")),
            tuple(data.get("messages") or ()),
        )


@dataclass(frozen=True)
class Pair:
    """Two completions shown blind: `a_first` says which one the page shows first."""

    prompt: str
    messages: tuple[dict, ...]
    a: Side
    b: Side
    a_first: bool
    task: str = ""

    @property
    def shown(self) -> tuple[str, str]:
        """The two texts in display order (first, second)."""
        return (self.a.text, self.b.text) if self.a_first else (self.b.text, self.a.text)

    @property
    def identical(self) -> bool:
        """True when both completions are the same text (a pick would mean nothing)."""
        return self.a.text.strip() == self.b.text.strip()

    def choice_for(self, pick: str) -> str:
        """Map the blind pick (first | second | tie | both_bad) back to a | b | tie | both_bad."""
        if pick not in PICKS:
            raise PreferenceError(f"Pick one of {', '.join(PICKS)} (not {pick!r}).")
        if pick in ("tie", "both_bad"):
            return pick
        return "a" if (pick == "first") == self.a_first else "b"

    def judge(self, pick: str, reason: str = "") -> Preference:
        """The preference this blind pick stands for (not saved yet)."""
        return Preference(
            uuid.uuid4().hex[:12],
            self.prompt,
            self.a,
            self.b,
            self.choice_for(pick),
            reason.strip()[:MAX_REASON],
            self.task,
            now(precise=True),
            self.messages,
        )


def make_pair(
    lm_a: ChatModel,
    lm_b: ChatModel | None,
    messages: list[dict],
    params_a: GenParams,
    params_b: GenParams,
    seed: int = 0,
    prompt: str = "",
    task: str = "",
) -> Pair:
    """Generate two completions with different settings or models, in a seeded random order."""
    lm_b = lm_b or lm_a
    if lm_b is lm_a and params_a == params_b:
        raise PreferenceError(
            "Both sides use the same model and settings, so they would write the same text: "
            "change the temperature, the seed, sampling or the model of one side."
        )
    text_a = generate(lm_a, messages, params_a).text.strip()
    text_b = generate(lm_b, messages, params_b).text.strip()
    users = [m["content"] for m in messages if m["role"] == "user"]
    return Pair(
        prompt or (users[-1] if users else ""),
        tuple(messages),
        Side(text_a, lm_a.ref, _params_dict(params_a)),
        Side(text_b, lm_b.ref, _params_dict(params_b)),
        random.Random(seed).random() < 0.5,
        task,
    )


def _params_dict(params: GenParams) -> dict:
    return {**asdict(params), "stop": list(params.stop)}


def side_params(side: Side) -> GenParams:
    """The generation settings a side was made with."""
    return dataclass_from(GenParams, side.params)


def save_preference(store: Store, project_id: str, pref: Preference) -> Preference:
    """Keep a preference in the project (key sorts by time)."""
    if pref.choice not in CHOICES:
        raise StoreError(f"A preference is one of {', '.join(CHOICES)} (not {pref.choice!r}).")
    store.put_record(project_id, PREFERENCE, pref.to_dict(), key=f"{pref.created_at}-{pref.id}")
    return pref


def list_preferences(store: Store, project_id: str) -> list[Preference]:
    """A project's preferences, oldest first."""
    return [Preference.from_dict(r.data) for r in store.list_records(project_id, PREFERENCE)]


def delete_preference(store: Store, project_id: str, pref_id: str) -> None:
    """Remove one preference by its id."""
    for rec in store.list_records(project_id, PREFERENCE):
        if rec.data.get("id") == pref_id:
            store.delete_record(project_id, PREFERENCE, rec.key)


def counts(prefs: list[Preference]) -> dict[str, int]:
    """How many of each choice (a, b, tie, both_bad) and how many are usable for training."""
    found = {c: sum(p.choice == c for p in prefs) for c in CHOICES}
    return {**found, "usable": found["a"] + found["b"]}


@dataclass(frozen=True)
class TrlExport:
    """Preference pairs as TRL JSONL, with how many were left out and why."""

    text: str
    rows: int
    left_out: int

    @property
    def summary(self) -> str:
        """One sentence for the page."""
        skipped = f"; {self.left_out} ties or both-bad left out" if self.left_out else ""
        return f"{self.rows} pairs exported{skipped}."


def to_trl_jsonl(prefs: list[Preference], conversational: bool = False) -> TrlExport:
    """`prompt`/`chosen`/`rejected` lines (TRL's preference format); ties and both-bad skipped.

    Standard form has plain strings (the prompt is the last user turn, instruction included, so
    each line stands alone); conversational form has the whole chat, which TRL renders with the
    model's own template (the right form for a chat model).
    """
    lines = []
    for p in (p for p in prefs if p.usable):
        if conversational and p.messages:
            row: dict[str, object] = {
                "prompt": list(p.messages),
                "chosen": [{"role": "assistant", "content": p.chosen}],
                "rejected": [{"role": "assistant", "content": p.rejected}],
            }
        else:
            row = {"prompt": _user_text(p), "chosen": p.chosen, "rejected": p.rejected}
        lines.append(json.dumps(row, ensure_ascii=False))
    text = "\n".join(lines) + ("\n" if lines else "")
    return TrlExport(text, len(lines), len(prefs) - len(lines))


def _user_text(pref: Preference) -> str:
    users = [m["content"] for m in pref.messages if m.get("role") == "user"]
    return users[-1] if users else pref.prompt


@lru_cache(maxsize=1)
def load_seed() -> tuple[Preference, ...]:
    """The seed preference set shipped with the app (chosen = a), so the page works at once."""
    prefs = []
    for n, line in enumerate(SEED_FILE.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        prefs.append(
            Preference(
                id=f"seed-{n:03d}",
                prompt=row["prompt"],
                a=Side(row["chosen"], "seed"),
                b=Side(row["rejected"], "seed"),
                choice="a",
                reason=row.get("reason", ""),
                task=row.get("task", ""),
                created_at="seed",
                messages=tuple(task_messages(row.get("task", ""), row["prompt"])),
            )
        )
    return tuple(prefs)


def task_messages(task_id: str, text: str) -> list[dict]:
    """The chat a task's own prompt kit builds around an input (plain system + input otherwise)."""
    from lifecycle.prompting import PromptSpec, build_messages
    from lifecycle.tasks import load_tasks

    task = load_tasks().get(task_id)
    spec = PromptSpec.for_task(task) if task else PromptSpec()
    return build_messages(spec, {"input": text})
