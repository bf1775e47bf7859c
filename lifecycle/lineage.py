"""Where every artefact came from, as a graph: scope -> model -> prompt version / data -> run ->
evaluation -> deploy variant, read from the project's records only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lifecycle.evaluation.runs import primary_key
from lifecycle.glossary import display_name
from lifecycle.models.sources import RUN_PREFIX, tuned_run_id
from lifecycle.overview import Overview
from lifecycle.tasks import load_tasks

FLOW = "scope → model → prompt version / data → fine-tune run → evaluation → deploy variant"
# Each kind's column in a drawing, left to right (prompt versions and data share one).
COLUMNS = {
    "scope": 0,
    "model": 1,
    "prompt version": 2,
    "data": 2,
    "fine-tune run": 3,
    "evaluation": 4,
    "deploy variant": 5,
}


@dataclass(frozen=True)
class Node:
    """One artefact. `label` may quote records: renderers escape it."""

    id: str
    kind: str  # a key of COLUMNS
    label: str


@dataclass
class Lineage:
    """Artefacts and the edges from each one's source to it, in the order they were found."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def add(self, node: Node, parents: Iterable[str] = ()) -> str:
        """Add a node (once) with an edge from each known parent; returns its id."""
        self.nodes.setdefault(node.id, node)
        for parent in parents:
            known = parent in self.nodes and parent != node.id
            if known and (parent, node.id) not in self.edges:
                self.edges.append((parent, node.id))
        return node.id

    def parents(self, node_id: str) -> list[str]:
        """The sources of a node, first found first."""
        return [a for a, b in self.edges if b == node_id]

    def to_dict(self) -> dict:
        """JSON-ready form (the JSON export carries it)."""
        return {
            "nodes": [{"id": n.id, "kind": n.kind, "label": n.label} for n in self.nodes.values()],
            "edges": [{"from": a, "to": b} for a, b in self.edges],
        }


def lineage(ov: Overview, measured: dict[str, list] | None = None) -> Lineage:
    """The project's lineage graph; `measured` is the deploy tables by model ref.

    Data sets are roots: they are uploaded or shipped, not derived from the scope.
    """
    graph = Lineage()
    tasks = load_tasks()
    task = ov.scope.primary_task
    if task:
        graph.add(Node("scope", "scope", tasks[task].name if task in tasks else task))
    if ov.model:
        graph.add(Node(f"model:{ov.model.id}", "model", ov.model.name), ["scope"])
    for v in ov.versions:
        graph.add(Node(f"version:{v.id}", "prompt version", v.name), [_model(graph, v.model_ref)])
    for f in ov.finetunes:
        data = f.get("dataset")
        data = data if isinstance(data, dict) else {}
        name = str(data.get("name") or "training set")
        data_id = graph.add(Node(f"data:{data.get('hash') or name}", "data", name))
        run_id = str(f.get("id", ""))
        label = f"{run_id} ({display_name(str(f.get('method', '')))})"
        graph.add(
            Node(f"{RUN_PREFIX}{run_id}", "fine-tune run", label),
            [_model(graph, str(f.get("base_ref", ""))), data_id],
        )
    for r in ov.eval_runs:
        set_id = graph.add(Node(f"data:{r.set_hash}", "data", r.set_name))
        source = r.candidate.source
        parent = source if source in graph.nodes else _model(graph, r.candidate.model_ref)
        key = primary_key(r.metrics)
        score = f", {display_name(key)} {r.scores[key]:.3f}" if key in r.scores else ""
        label = f"{r.candidate.label} on {r.set_name}{score}"
        graph.add(Node(f"eval:{r.id}", "evaluation", label), [parent, set_id])
    for ref, reports in (measured or {}).items():
        parent = _model(graph, ref)
        for report in reports:
            graph.add(Node(f"deploy:{ref}:{report.name}", "deploy variant", report.name), [parent])
    return graph


def _model(graph: Lineage, ref: str) -> str:
    """The node a model reference stands for: a fine-tune run, or a model (added if new)."""
    if ref in graph.nodes:  # run:<id> of a run in this project
        return ref
    run = f"{RUN_PREFIX}{tuned_run_id(ref)}"  # a checkpoint or GGUF of that run: the run itself
    if tuned_run_id(ref) and run in graph.nodes:
        return run
    if f"model:{ref}" not in graph.nodes:
        graph.add(Node(f"model:{ref}", "model", ref or "unknown model"), ["scope"])
    return f"model:{ref}"


def nested(graph: Lineage) -> list[tuple[int, Node, list[Node]]]:
    """Depth-first rows (depth, node, its other sources): each node once, under its first source."""
    children: dict[str, list[str]] = {}
    for a, b in graph.edges:
        if graph.parents(b)[0] == a:
            children.setdefault(a, []).append(b)
    rows: list[tuple[int, Node, list[Node]]] = []
    seen: set[str] = set()  # imported records could name each other in a loop

    def walk(node_id: str, depth: int) -> None:
        if node_id in seen:
            return
        seen.add(node_id)
        others = [graph.nodes[p] for p in graph.parents(node_id)[1:]]
        rows.append((depth, graph.nodes[node_id], others))
        for child in children.get(node_id, []):
            walk(child, depth + 1)

    for node_id in graph.nodes:
        if not graph.parents(node_id):
            walk(node_id, 0)
    return rows
