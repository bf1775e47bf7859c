"""The model catalogue (knowledge/models.yaml) as typed objects, with filters."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from lifecycle.config import KNOWLEDGE


@dataclass(frozen=True)
class ModelSpec:
    """An open model's size, shape and licence: what the estimators and advisors need."""

    id: str
    name: str
    family: str
    params: int
    architecture: str
    layers: int
    hidden_size: int
    heads: int
    kv_heads: int
    vocab_size: int
    context_length: int
    licence: str
    licence_commercial: bool
    licence_note: str
    instruction_tuned: bool
    tasks: tuple[str, ...]
    embedded: bool
    released: str
    notes: str
    head_dim: int = 0  # 0 means hidden_size // heads
    encoder_layers: int = 0  # encoder depth of encoder-decoder models
    source: str = "catalogue"  # catalogue | config (read from a config.json) | size (entered)
    shape_exact: bool = True  # False: layers, widths and KV heads are guessed from the size

    @property
    def attention_head_dim(self) -> int:
        """Size of one attention head (explicit where the config gives it)."""
        return self.head_dim or self.hidden_size // self.heads

    @property
    def params_b(self) -> float:
        """Parameters in billions."""
        return self.params / 1e9

    def row(self) -> dict:
        """A flat dict for tables."""
        return {**asdict(self), "tasks": ", ".join(self.tasks)}


def custom_model(params: int, name: str = "Custom model", **shape: int) -> ModelSpec:
    """A model known only by its size, shaped like a typical decoder of that size (a guess)."""
    hidden = shape.get("hidden_size") or _typical_hidden(params)
    heads = shape.get("heads") or max(1, hidden // 128)
    layers = shape.get("layers") or max(1, round(params / (12 * hidden * hidden)))
    return ModelSpec(
        id=name,
        name=name,
        family="custom",
        params=int(params),
        architecture="decoder-only",
        layers=layers,
        hidden_size=hidden,
        heads=heads,
        kv_heads=shape.get("kv_heads") or heads,
        vocab_size=32000,
        context_length=shape.get("context_length") or 4096,
        licence="unknown",
        licence_commercial=False,
        licence_note="Check the licence yourself.",
        instruction_tuned=False,
        tasks=(),
        embedded=False,
        released="",
        notes="Entered by hand.",
        source="size",
        shape_exact=False,
    )


def _typical_hidden(params: int) -> int:
    # Width of published decoders of about this size (GPT-2 768 ... Llama 70B 8192).
    for limit, hidden in (
        (2e8, 768),
        (6e8, 1024),
        (2e9, 2048),
        (4e9, 3072),
        (1e10, 4096),
        (2e10, 5120),
        (4e10, 6656),
    ):
        if params <= limit:
            return hidden
    return 8192


@lru_cache(maxsize=4)
def load_catalog(path: Path = KNOWLEDGE / "models.yaml") -> dict[str, ModelSpec]:
    """All catalogue models keyed by hub id."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    models = {}
    for m in raw["models"]:
        m = {**m, "tasks": tuple(m.get("tasks", ())), "released": str(m.get("released", ""))}
        models[m["id"]] = ModelSpec(**m)
    return models


def embedded_model(catalog: dict[str, ModelSpec]) -> ModelSpec:
    """The model shipped with the app (works offline)."""
    return next(m for m in catalog.values() if m.embedded)


def filter_models(
    catalog: dict[str, ModelSpec],
    task_ids: tuple[str, ...] = (),
    max_params_b: float | None = None,
    commercial_only: bool = False,
) -> list[ModelSpec]:
    """Models suited to any of the tasks, under a size cap, optionally commercial-use only."""
    found = list(catalog.values())
    if task_ids:
        found = [m for m in found if set(task_ids) & set(m.tasks)]
    if max_params_b is not None:
        found = [m for m in found if m.params_b <= max_params_b]
    if commercial_only:
        found = [m for m in found if m.licence_commercial]
    return sorted(found, key=lambda m: m.params)
