"""The starter collection: the stage guides and the task table, so RAG works before uploads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lifecycle.config import KNOWLEDGE
from lifecycle.rag.chunking import ChunkSettings, split
from lifecycle.rag.contents import delete_document, documents
from lifecycle.rag.embedder import Embedder
from lifecycle.rag.ingest import IngestReport, OnStep, add_documents
from lifecycle.rag.readers import SourceDoc
from lifecycle.rag.store import RagCollection, VectorStore
from lifecycle.rag.vector_cache import CachedEmbedder
from lifecycle.tasks import LADDER_LABELS, Task, load_tasks

STARTER_LABEL = "Lifecycle guides (starter)"
STARTER_CHUNKS = ChunkSettings("chars", 800, 100)  # a guide section is 300-1,200 characters


def task_text(task: Task) -> str:
    """One task of the table as a small Markdown document."""
    lines = [f"# Task: {task.name}", "", task.description, ""]
    lines += [f"Keywords: {', '.join(task.keywords)}", "", "## Architectures"]
    lines += [f"- {a.name} ({a.fit}): {a.why}" for a in task.architectures]
    lines += ["", "## Model size", f"{task.size_typical} parameters: {task.size_why}", ""]
    lines += ["## Metrics"] + [f"- {m.name}: {m.why}" for m in task.metrics]
    start = LADDER_LABELS.get(task.start_at, task.start_at)
    lines += ["", "## Adaptation", f"Start with {start}: {task.start_why}"]
    lines += [f"- {LADDER_LABELS.get(s.name, s.name)}: {s.why}" for s in task.ladder]
    lines += ["", "## Risks"] + [f"- {r.name}. Mitigation: {r.why}" for r in task.risks]
    return "\n".join(lines)


def starter_documents(knowledge: Path = KNOWLEDGE) -> list[SourceDoc]:
    """The seven stage guides and one document per task."""
    guides = [
        SourceDoc(path.name, path.read_text(encoding="utf-8").strip())
        for path in sorted((knowledge / "stages").glob("*.md"))
    ]
    tasks = [
        SourceDoc(f"task-{t.id}.md", task_text(t))
        for t in load_tasks(knowledge / "tasks.yaml").values()
    ]
    return guides + tasks


def ensure_starter(
    vectors: VectorStore,
    project_id: str,
    embedder: Embedder,
    on_step: OnStep = lambda done, total: None,
) -> tuple[RagCollection, IngestReport]:
    """Create or refresh the project's starter collection; a second call adds nothing."""
    info = vectors.find(project_id, STARTER_LABEL)
    if info is None:
        coll = vectors.create(project_id, STARTER_LABEL, embedder, STARTER_CHUNKS)
    else:
        coll = vectors.open(info.name, embedder)
    docs = starter_documents()
    current = {d.name: d.doc_hash for d in docs}
    for old in documents(coll):
        if old.source in current and current[old.source] != old.doc_hash:
            delete_document(coll, old.doc_hash)  # the shipped guide changed: replace it
    # The guides' vectors come from the data folder's cache (filled by setup, or by the first
    # project): a new project's starter collection costs no embedding.
    cached = replace(coll, embedder=CachedEmbedder(embedder))  # type: ignore[arg-type]
    return coll, add_documents(cached, docs, on_step=on_step)


def starter_texts() -> list[str]:
    """The starter collection's chunk texts (what its vectors are cached for)."""
    return [c.text for d in starter_documents() for c in split(d.text, STARTER_CHUNKS)]


def cache_starter_vectors(embedder: Embedder, on_step: OnStep = lambda done, total: None) -> int:
    """Embed the starter guides' chunks into the data folder's cache (setup does this once)."""
    texts = starter_texts()
    cached = CachedEmbedder(embedder)
    step = 32
    for i in range(0, len(texts), step):
        cached.embed(texts[i : i + step])
        on_step(min(i + step, len(texts)), len(texts))
    return len(texts)
