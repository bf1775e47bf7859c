"""The seven stages of the generative-AI lifecycle and their guides (knowledge/stages/*.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lifecycle.config import KNOWLEDGE


@dataclass(frozen=True)
class Stage:
    """One stage of the generative-AI project lifecycle."""

    id: str
    number: int
    title: str
    summary: str

    @property
    def guide_path(self):
        """Markdown guide of this stage."""
        return KNOWLEDGE / "stages" / f"{self.number:02d}-{self.id.replace('_', '-')}.md"


STAGES = (
    Stage("scope", 1, "Define scope", "Pick the task and its limits."),
    Stage("model_selection", 2, "Select a model", "Reuse a base model or build one."),
    Stage("adapt", 3, "Adapt", "Prompt, then fine-tune if needed."),
    Stage("align", 4, "Align", "Fit the model to human preferences."),
    Stage("evaluate", 5, "Evaluate", "Measure quality with metrics and people."),
    Stage("deploy", 6, "Deploy", "Optimise and serve the model."),
    Stage("infrastructure", 7, "Infrastructure", "RAG and tools against the model's limits."),
)
STAGE_BY_ID = {s.id: s for s in STAGES}


@lru_cache(maxsize=16)
def guide(stage_id: str) -> str:
    """The whole guide of a stage as markdown."""
    return STAGE_BY_ID[stage_id].guide_path.read_text(encoding="utf-8")


def guide_sections(stage_id: str) -> dict[str, str]:
    """The guide split at its `##` headings: {heading: body}; the intro is under ''."""
    parts = re.split(r"^## +(.+)$", guide(stage_id), flags=re.MULTILINE)
    intro = re.sub(r"^# .*\n", "", parts[0]).strip()
    sections = {"": intro}
    for title, body in zip(parts[1::2], parts[2::2]):
        sections[title.strip()] = body.strip()
    return sections
