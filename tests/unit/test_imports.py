"""No import cycle in pipelines/: every import, lazy ones inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PIPELINES.rglob("*.py"):
        parts = path.relative_to(PIPELINES.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the pipelines modules it imports (a name imported from a package that is a
    module counts as that module)."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target.startswith("pipelines."):
                    found = known(target)
                    if found and found != module:
                        graph[module].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_lazy_imports_and_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    real = import_graph()
    assert "pipelines.ingest.status" in real["pipelines.cli.stream"]  # imported inside a command


def test_pipelines_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_table_catalog_sits_low_and_schemas_import_nothing_from_pipelines():
    graph = import_graph()
    schemas = {m for m in graph if m.endswith(".schemas")}
    assert schemas >= {
        "pipelines.transforms.schemas",
        "pipelines.parity.schemas",
        "pipelines.evaluators.schemas",
        "pipelines.quality.schemas",
    }
    for module in schemas:
        assert graph[module] == set(), module
    below_the_catalog = {
        "pipelines.settings",
        "pipelines.errors",
        "pipelines.governance.classification",
        "pipelines.contracts.registry",
        "pipelines.contracts.topics",
        "pipelines.spark.views",  # registered with the tables, imported lazily
    } | schemas
    assert graph["pipelines.spark.tables"] - below_the_catalog == set()


def test_the_library_imports_nothing_above_it():
    """jobs/, dagster_project/, benchmarks/ and tests/ call the library, never the reverse."""
    above = ("jobs", "dagster_project", "benchmarks", "tests")
    upward = []
    for path in sorted(PIPELINES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            upward += [f"{path.name}: {n}" for n in names if n.split(".")[0] in above]
    assert upward == []


# Rooms by layer, top down: a room imports only from rooms in lower layers (docs/architecture.md).
LAYERS = (
    {"cli", "notebook"},  # the surfaces (with jobs/ and dagster_project/, outside pipelines/)
    {"demo"},
    # the domains
    {"ingest", "legacy", "parity", "gold", "evaluators", "quality", "retention", "signals"},
    {"producer", "delta_log", "local"},
    {"transforms", "spark", "kafka_admin", "storage"},
    {"contracts", "governance", "schemas", "settings"},  # schemas: every domain's schemas.py
    {"errors"},
)


def _room(module: str) -> str:
    return "schemas" if module.endswith(".schemas") else module.split(".")[1]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    layer = {room: depth for depth, rooms in enumerate(LAYERS) for room in rooms}
    return sorted(
        f"{a} -> {b}"
        for a, targets in graph.items()
        if a != "pipelines"
        for b in targets
        if _room(a) != _room(b) and layer[_room(b)] <= layer[_room(a)]
    )


def test_rooms_import_only_downward():
    graph = import_graph()
    assert {_room(m) for m in graph if m != "pipelines"} <= set().union(*LAYERS)
    assert upward_imports(graph) == []
    # a domain importing another domain, or the catalog importing a domain, is refused
    assert upward_imports({"pipelines.legacy.mirror": {"pipelines.parity.run"}}) == [
        "pipelines.legacy.mirror -> pipelines.parity.run"
    ]
    assert upward_imports({"pipelines.spark.tables": {"pipelines.gold.build"}}) == [
        "pipelines.spark.tables -> pipelines.gold.build"
    ]
