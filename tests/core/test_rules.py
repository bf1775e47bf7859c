"""Architecture rules: the core package never imports Streamlit; the environment is offline."""

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_never_imports_streamlit():
    offenders = []
    for path in (ROOT / "lifecycle").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_importing_core_sets_offline_variables():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.pop("LIFECYCLE_ALLOW_HUB", None)
    names = "HF_HUB_OFFLINE TRANSFORMERS_OFFLINE HF_DATASETS_OFFLINE ANONYMIZED_TELEMETRY"
    code = f"import lifecycle, os; print(*(os.environ[n] for n in {names.split()!r}))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["1", "1", "1", "False"]


def test_opting_in_to_the_hub_leaves_it_reachable():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["LIFECYCLE_ALLOW_HUB"] = "1"
    code = "import lifecycle, os; print(os.environ.get('HF_HUB_OFFLINE', 'unset'))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "unset"


def test_home_page_does_not_import_heavy_libraries():
    code = (
        "import sys, lifecycle.overview, lifecycle.report, lifecycle.transfer;"
        "heavy = ('torch', 'transformers', 'chromadb', 'langchain');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def _module_imports(path: Path) -> set[str]:
    """lifecycle.* modules imported anywhere in a file (function-level imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lifecycle"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lifecycle"))
    return found


def test_the_core_has_no_import_cycles():
    """A cycle hidden by a function-level import still makes modules depend on each other."""
    modules = {}
    for path in (ROOT / "lifecycle").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {
        name: {m for m in _module_imports(path) if m in modules and m != name}
        - {n for n in modules if name.startswith(n + ".")}  # a package's own __init__
        for name, path in modules.items()
    }
    cycles = []

    def visit(node: str, stack: list[str], done: set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in stack:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in done:
                visit(nxt, stack + [nxt], done)
        done.add(node)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name], done)
    assert cycles == []


def _is_session_state(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "session_state") or (
        isinstance(node, ast.Name) and node.id == "session_state"
    )


def _literal_key(node: ast.AST) -> bool:
    """A string written in place: "x", or an f-string that starts with text (f"x_{id}")."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    starts = node.values[:1] if isinstance(node, ast.JoinedStr) else []
    return any(isinstance(v, ast.Constant) for v in starts)


def _literal_session_keys(path: Path) -> list[str]:
    """Where a file names a session key, a widget key or a form with a literal string."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        keys: list[ast.AST] = []
        if isinstance(node, ast.Subscript) and _is_session_state(node.value):
            keys.append(node.slice)  # st.session_state["x"]
        elif isinstance(node, ast.Compare) and any(map(_is_session_state, node.comparators)):
            keys.append(node.left)  # "x" in st.session_state
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and node.args:
                if _is_session_state(func.value) or func.attr == "form":
                    keys.append(node.args[0])  # st.session_state.get("x"), st.form("x")
            keys += [k.value for k in node.keywords if k.arg == "key"]  # widget(key="x")
        found += [f"{path.relative_to(ROOT)}:{node.lineno}" for k in keys if _literal_key(k)]
    return found


def test_session_keys_come_from_the_keys_class():
    """Pages and components name session keys through components.state.Keys, never in place."""
    files = [*(ROOT / "app_pages").rglob("*.py"), *(ROOT / "components").rglob("*.py")]
    found = [
        where
        for path in sorted(files)
        if path != ROOT / "components" / "state.py"
        for where in _literal_session_keys(path)
    ]
    assert found == [], "literal session keys: add them to Keys in components/state.py"


def test_pages_and_components_name_model_refs_through_their_constants():
    """Run refs through RUN_PREFIX, "another model" through the one picker's OTHER: a second
    spelling typed in place is how the pickers drifted apart."""
    offenders = []
    for folder in ("app_pages", "components"):
        for path in (ROOT / folder).rglob("*.py"):
            where = path.relative_to(ROOT)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                    continue
                if node.value.startswith("run:") or node.value == "__other__":
                    offenders.append(f"{where}:{node.lineno}")
    assert [o for o in offenders if not o.startswith("components/models/pick.py:")] == []
