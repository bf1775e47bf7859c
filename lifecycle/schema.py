"""The shape of every record kind the app writes: checked on import, on save and when read."""

from __future__ import annotations

import re
from typing import Any

from lifecycle.shapes import Bool, Int, ListOf, MapOf, Num, Obj, Opt, Shape, Text, too_deep

HASH = r"[0-9a-f]{64}"  # sha256 of a stored file (uploads are kept once, by content)


def _task_ids() -> list[str]:
    from lifecycle.tasks import load_tasks

    return list(load_tasks())


def _metric_names() -> list[str]:
    from lifecycle.evaluation.metrics import METRICS

    return list(METRICS)


def _gates() -> list[str]:
    from lifecycle.gates import GATES

    return list(GATES)


def _shots() -> list[int]:
    from lifecycle.prompting import SHOTS

    return list(SHOTS)


class _Shots(Shape):
    what = "a shot count"

    def problem(self, value: Any, path: str) -> str | None:
        if isinstance(value, bool) or value not in _shots():
            return f"{path} should be one of {', '.join(map(str, _shots()))}"
        return None


class _Hash(Shape):
    what = "a file hash"

    def problem(self, value: Any, path: str) -> str | None:
        if isinstance(value, str) and re.fullmatch(HASH, value):
            return None
        return f"{path} should be a 64-character file hash"


class _Decision(Obj):
    """A decision record: an override always carries its reason."""

    def problem(self, value: Any, path: str) -> str | None:
        found = super().problem(value, path)
        if found is None and value["overridden"] and not value.get("reason", "").strip():
            return f"{path} is an override without a reason"
        return found


NUMBER, COUNT = Num(), Int(0)
MESSAGE = Obj({"role": Text(), "content": Text()})
PROMPT = Obj(  # a prompt as a candidate ran it (a shots curve may use any count)
    system=Text(),
    instruction=Text(),
    template=Text(),
    shots=Int(0, 1000),
    examples=ListOf(Obj({"input": Text(), "output": Text()})),
)
VERSION_PROMPT = Obj(None, **{**PROMPT.optional, "shots": _Shots()})  # the shot picker's choices
EXAMPLE = Obj({"id": Text(), "input": Text(), "output": Text()})
METRIC_NAMES = ListOf(Text(_metric_names))
UPLOADED_SET = Obj(
    {"name": Text(), "task_id": Text(_task_ids)},
    examples=ListOf(EXAMPLE),  # older records keep the examples inline
    file=_Hash(),
    count=COUNT,
)
SIDE = Obj(text=Text(), model_ref=Text(), params=Obj())
PREDICTION = Obj({"prediction": Text()}, prompt_tokens=Opt(NUMBER), completion_tokens=Opt(NUMBER))

KINDS: dict[str, Shape] = {
    "scope": Obj(
        primary_task=Text(lambda: ["", *_task_ids()]),
        secondary_tasks=ListOf(Text(_task_ids)),
        answers=Obj(),
    ),
    "model": Obj(model_id=Text(), custom_params=Opt(Int(0, 10**16)), workload=Obj(), advisor=Obj()),
    "plan": Obj(start_date=Text(), overrides=Obj()),
    "playground": Obj(
        model=Opt(Text()),  # None before a model picker has run: read as the default
        model_other=Opt(Text()),
        task=Text(),
        shots=Opt(NUMBER),
        system=Text(),
        instruction=Text(),
        template=Text(),
        values=MapOf(Text()),
        params=Obj(),
    ),
    "prompt_version": Obj(
        {"id": Text(), "name": Text()},
        task_id=Text(),
        prompt=VERSION_PROMPT,
        params=Obj(),
        model_ref=Text(),
        created_at=Text(),
    ),
    "playground_run": Obj(
        created_at=Text(),
        label=Text(),
        model=Text(),
        task=Text(),
        shots=Opt(NUMBER),
        do_sample=Bool(),
        temperature=Opt(NUMBER),
        max_new_tokens=Opt(NUMBER),
        seed=Opt(NUMBER),
        messages=ListOf(MESSAGE),
        prompt_tokens=Opt(NUMBER),
        completion_tokens=Opt(NUMBER),
        latency_s=Opt(NUMBER),
        queue_s=Opt(NUMBER),
        truncated_tokens=Opt(NUMBER),
        ttft_s=Opt(NUMBER),
        tokens_per_s=Opt(NUMBER),
        finish_reason=Opt(Text()),
        output=Text(),
    ),
    "eval_run": Obj(
        {
            "id": Text(),
            "candidate": Obj(
                {"label": Text(), "model_ref": Text()}, prompt=PROMPT, params=Obj(), source=Text()
            ),
            "set_name": Text(),
            "set_hash": Text(),
            "total": Int(1),
            "metrics": METRIC_NAMES,
        },
        task_id=Text(),
        predictions=MapOf(PREDICTION),
        scores=MapOf(NUMBER),
        per_example=MapOf(MapOf(NUMBER)),
        status=Text(),
        created_at=Text(),
        updated_at=Text(),
    ),
    "eval_prediction": PREDICTION,
    "evaluate": Obj(limits=MapOf(Int(1)), shots_slices=MapOf(Int(1))),  # slices kept per set
    "human_rating": Obj({"rating": Int(1, 5)}),
    "eval_set": Obj({**UPLOADED_SET.required, "metrics": METRIC_NAMES}, **UPLOADED_SET.optional),
    "finetune_set": UPLOADED_SET,
    "finetune_run": Obj(
        {"id": Text()},
        base_ref=Text(),
        method=Text(),
        task_id=Text(),
        config=Obj(),
        dataset=Obj(name=Text(), hash=Text()),
        state=Text(),
        step=Opt(NUMBER),
        total_steps=Opt(NUMBER),
        train_loss=Opt(NUMBER),
        eval_loss=Opt(NUMBER),
        train_seconds=Opt(NUMBER),
        created_at=Text(),
        finished_at=Text(),
    ),
    "preference": Obj(
        {"id": Text()},
        prompt=Text(),
        a=SIDE,
        b=SIDE,
        choice=Text(("a", "b", "tie", "both_bad")),
        reason=Text(),
        task=Text(),
        created_at=Text(),
        messages=ListOf(MESSAGE),
    ),
    "deploy_measurement": Obj(
        {"ref": Text()},
        set_name=Text(),
        created_at=Text(),
        reports=ListOf(Obj(quality=MapOf(NUMBER), predictions=ListOf(Text()))),
    ),
    "rag_quality": Obj(  # evidence for the retrieval gate (lifecycle/decisions.py)
        {"collection": Text(), "k": Int(1, 100), "ranks": ListOf(Int(0, 100))},
        label=Text(),
        chunks=Obj(unit=Text(), size=COUNT, overlap=COUNT),
        created_at=Text(),
    ),
    "decision": _Decision(  # a gate's proposal accepted or overridden (lifecycle/decisions.py)
        {
            "gate": Text(_gates),
            "proposed": Text(),
            "chosen": Text(),
            "overridden": Bool(),
            "decided_at": Text(),
        },
        stage=Text(),
        what=Text(),
        proposal=Text(),
        why=Text(),
        rule=Text(),
        evidence=ListOf(Text()),
        alternatives=ListOf(Text()),
        reason=Text(),
    ),
}


def problem(kind: str, data: Any) -> str | None:
    """What is wrong with a record's data for its kind, or None (unknown kinds are not checked)."""
    if too_deep(data):
        return "its data nests too deeply"
    shape = KINDS.get(kind)
    return shape.problem(data, "data") if shape else None


def repaired(kind: str, data: Any) -> Any | None:
    """Stored data made readable: bad optional fields dropped; None when nothing usable is left."""
    if problem(kind, data) is None:
        return data
    shape = KINDS[kind] if kind in KINDS else None
    if not isinstance(shape, Obj):
        return None
    kept = {}
    if isinstance(data, dict) and not too_deep(data):
        kept = {k: v for k, v in data.items() if k not in shape.optional}
        kept.update(
            (k, data[k])
            for k, field in shape.optional.items()
            if k in data and field.problem(data[k], k) is None
        )
    return kept if problem(kind, kept) is None else None
