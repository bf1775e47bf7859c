"""Every page of the app: its file, title and icon, in navigation order (one list for all)."""

from __future__ import annotations

from typing import NamedTuple


class PageInfo(NamedTuple):
    """One page as the navigation lists it."""

    section: str
    path: str
    title: str
    icon: str


PAGES = (
    PageInfo("Project", "app_pages/home.py", "Home", ":material/home:"),
    PageInfo("Project", "app_pages/plan.py", "Plan and report", ":material/event_note:"),
    PageInfo("Project", "app_pages/present.py", "Present", ":material/slideshow:"),
    PageInfo("Project", "app_pages/glossary.py", "Glossary", ":material/menu_book:"),
    PageInfo("Project", "app_pages/settings.py", "Settings", ":material/settings:"),
    PageInfo("Stages", "app_pages/scope.py", "1 Scope", ":material/target:"),
    PageInfo("Stages", "app_pages/model_selection.py", "2 Model selection", ":material/memory:"),
    PageInfo("Stages", "app_pages/playground.py", "3 Adapt: playground", ":material/chat:"),
    PageInfo("Stages", "app_pages/finetune.py", "3 Adapt: fine-tune", ":material/model_training:"),
    PageInfo("Stages", "app_pages/align.py", "4 Align", ":material/thumbs_up_down:"),
    PageInfo("Stages", "app_pages/evaluate.py", "5 Evaluate", ":material/leaderboard:"),
    PageInfo("Stages", "app_pages/deploy.py", "6 Deploy", ":material/rocket_launch:"),
    PageInfo("Stages", "app_pages/rag.py", "7 Infrastructure: RAG and tools", ":material/hub:"),
)
PAGE_BY_TITLE = {p.title: p for p in PAGES}
