"""Imports flow one way (issue 15, finding 2; shared/docs/style.md "Which app may import which").

The dashboard at `/` composes every app, so it lives in `mahome/` and no app imports it; and no two
modules of the apps import each other (a cycle hidden in a function-level import counts too), except
a service and the Celery tasks that call it back.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "contributions", "engagements", "community_levels")
PACKAGES = (*APPS, "mahome")
DASHBOARD = "mahome.dashboard"
# Imports that still close a cycle, each with the change that removes it; the test below fails when
# one of them is gone, so the list only shrinks.
PENDING: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every project module `name` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the module pkg.mod when there is one.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _service_and_its_tasks(component: set[str]) -> bool:
    """An app's tasks and its services: the module, or modules of the services package."""
    apps = {name.split(".")[0] for name in component}
    rooms = {name.split(".")[1] if "." in name else "" for name in component}
    tasks = {name for name in component if name.count(".") == 1 and name.endswith(".tasks")}
    return len(apps) == 1 and rooms == {"services", "tasks"} and len(tasks) == 1


def test_the_dashboard_lives_in_mahome():
    assert DASHBOARD in _modules()
    assert not (ROOT / "contributions" / "dashboard.py").exists()


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return False


def test_no_app_imports_the_dashboard():
    """Directly or through another module (a cache in mahome that imports the dashboard counts)."""
    graph = _graph()
    importers = sorted(name for name in graph if name.split(".")[0] in APPS and _reaches(graph, name, DASHBOARD))
    assert importers == []


def test_no_module_cycle_but_a_service_and_its_tasks():
    graph = _graph()
    for importer, imported in PENDING:
        graph[importer] = graph[importer] - {imported}
    cycles = [sorted(c) for c in _cycles(graph) if not _service_and_its_tasks(c)]
    assert cycles == []


def test_each_pending_import_still_closes_a_cycle():
    """Remove an entry from PENDING when its import is gone or no longer closes a cycle."""
    graph = _graph()
    cycles = [c for c in _cycles(graph) if not _service_and_its_tasks(c)]
    for importer, imported in PENDING:
        assert imported in graph[importer], (importer, imported)
        assert any({importer, imported} <= c for c in cycles), (importer, imported)


def test_the_graph_sees_function_level_imports(tmp_path):
    """The checker itself: a cycle through an import inside a function is found."""
    a = tmp_path / "a.py"
    a.write_text("def f():\n    from pkg import b\n")
    assert _imports("pkg.a", a, {"pkg.a", "pkg.b"}) == {"pkg.b"}
    assert _cycles({"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}) == [{"pkg.a", "pkg.b"}]
    assert _service_and_its_tasks({"pkg.services", "pkg.tasks"})
    assert _service_and_its_tasks({"pkg.services.notifications", "pkg.tasks"})
    assert not _service_and_its_tasks({"pkg.services.notifications", "other.tasks"})
    assert not _service_and_its_tasks({"pkg.audit_services", "pkg.tasks"})
    assert _service_and_its_tasks({"pkg.services", "pkg.services.sources", "pkg.services.rules", "pkg.tasks"})
    assert not _service_and_its_tasks({"pkg.services", "pkg.services.sources", "pkg.tasks", "pkg.selectors"})
    assert not _service_and_its_tasks({"pkg.selectors", "pkg.dashboard"})
