"""The project's import graph, read from the source (``ast``): imports at module level and
inside functions alike, since an import moved into a function to dodge a cycle is still the
cycle.

- No two project modules import each other, directly or round a longer loop.
- Signatures belong to letters: ``signatories`` imports ``letters.models`` (and the
  texts-in-a-language helpers, ``letters.translations``) and nothing else of ``letters``;
  ``letters`` reaches ``signatories`` through one module,
  ``letters.signatures``, and that module imports only the ``signatories`` modules listed
  here. A new import across the two apps fails here until it is added, on purpose.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "letters", "signatories")

LETTERS_INTERFACE = "letters.signatures"
# What the letters app uses of signatories, all through LETTERS_INTERFACE.
SIGNATORIES_USED_BY_LETTERS = {
    "signatories.admin",
    "signatories.counts",
    "signatories.delivered_admin",
    "signatories.filters",
    "signatories.models",
    "signatories.paging",
    "signatories.stats",
    "signatories.tallies",
    "signatories.tasks",
}
# All that signatories uses of letters.
LETTERS_USED_BY_SIGNATORIES = {"letters.models", "letters.translations"}


def module_files(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Every module of ``packages`` under ``root`` by dotted name, migrations aside (they
    name models by string, through the app registry)."""
    modules = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _project_module(name: str, modules) -> str | None:
    """The project module that ``name`` (a module, or a name inside one) lives in."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """Which project modules each project module imports, anywhere in its code."""
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package[: len(package) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                names = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = _project_module(name, modules)
                if target and target != module:
                    graph[module].add(target)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach each other by imports (Tarjan's strongly
    connected components larger than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.get(module, ())):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def app_of(module: str) -> str:
    return module.split(".")[0]


def edges_between(graph, importer_app: str, imported_app: str) -> set[tuple[str, str]]:
    return {
        (module, imported)
        for module, targets in graph.items()
        for imported in targets
        if app_of(module) == importer_app and app_of(imported) == imported_app
    }


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_reads_every_app(graph):
    assert {"config.urls", "letters.models", "signatories.signing"} <= set(graph)
    assert "signatories.tasks" in graph["signatories.signing"]


def test_no_project_modules_import_each_other_round_a_cycle(graph):
    assert import_cycles(graph) == []


def test_a_cycle_is_found_through_an_import_inside_a_function(tmp_path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "signing.py").write_text("def sign():\n    from app.tasks import send\n")
    (package / "tasks.py").write_text("from .signing import sign\n")
    (package / "links.py").write_text("import app.signing\n")

    cycles = import_cycles(import_graph(tmp_path, packages=["app"]))

    assert cycles == [["app.signing", "app.tasks"]]


def test_letters_reaches_signatories_only_through_its_one_interface(graph):
    edges = edges_between(graph, "letters", "signatories")
    assert {module for module, _ in edges} == {LETTERS_INTERFACE}
    assert {imported for _, imported in edges} == SIGNATORIES_USED_BY_LETTERS


def test_signatories_uses_only_the_models_of_letters(graph):
    edges = edges_between(graph, "signatories", "letters")
    assert {imported for _, imported in edges} == LETTERS_USED_BY_SIGNATORIES
