"""The layer rules, as tests: what each part of ``ledger/`` may import, and one vocabulary.

- the vocabulary (``ledger.statements``) imports nothing of the project;
- the credibility model imports only the vocabulary and the likelihood words;
- the domain (aggregates, inputs, replay, times) imports no store, loader or application;
- no word of the vocabulary is defined twice: a collection of two or more words of one
  family (statement types, statuses, outcomes, grades, confidence levels) appears only in
  ``ledger/statements.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ledger
from ledger import statements

ROOT = Path(ledger.__file__).parent.parent
LEDGER = ROOT / "ledger"
FACES = [ROOT / "api", ROOT / "ledger_cli"]

#: Modules of the application and storage layers: the domain and the model import none.
STORAGE = {
    "ledger.application",
    "ledger.bootstrap",
    "ledger.config",
    "ledger.export",
    "ledger.idempotency",
    "ledger.integrity",
    "ledger.persistence",
    "ledger.reads",
    "ledger.store",
    "ledger.writes",
    "eventsourcing.application",
    "eventsourcing.persistence",
    "eventsourcing.sqlite",
    "eventsourcing.postgres",
    "eventsourcing.popo",
}
DOMAIN = ["domain", "inputs", "replay", "times", "errors", "likelihood", "credibility"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """Every module of ``ledger/`` and the project modules it imports (at any depth in
    its body: a lazy import is an import too)."""
    modules = {_module_name(p): p for p in sorted(LEDGER.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        tree = ast.parse(path.read_text())
        typing_only = {
            id(child)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
            for child in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:  # never imported at run time
                continue
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


GRAPH = _graph()


def imports(module: str) -> set[str]:
    """What ``ledger.<module>`` (a module, or every module of a package) imports directly,
    project modules and libraries alike."""
    base = LEDGER / module
    paths = sorted(base.rglob("*.py")) if base.is_dir() else [LEDGER / f"{module}.py"]
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def reaches(module: str) -> set[str]:
    """Every project module ``ledger.<module>`` (or its package) imports, transitively."""
    start = {m for m in GRAPH if m == f"ledger.{module}" or m.startswith(f"ledger.{module}.")}
    seen: set[str] = set()
    todo = [d for m in start for d in GRAPH[m]]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(GRAPH[current])
    return seen - start


def project(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in ("ledger", "api", "ledger_cli")}


def test_the_vocabulary_imports_nothing_of_the_project() -> None:
    assert project(imports("statements")) == set()


def test_the_engine_reaches_only_the_vocabulary_the_likelihood_words_and_the_errors() -> None:
    """The credibility engine, package by package and transitively: no store, no library,
    no application; only the words it weighs and the error it raises for a bad version."""
    allowed = {"ledger.statements", "ledger.likelihood", "ledger.answers", "ledger.errors"}
    assert reaches("credibility") <= allowed
    assert not {n for n in imports("credibility") if n.startswith("eventsourcing")}


def test_the_domain_imports_no_store_loader_or_application() -> None:
    """Directly or through anything it imports."""
    offenders = {
        (module, name)
        for module in DOMAIN
        for name in reaches(module) | imports(module)
        if any(name == s or name.startswith(s + ".") for s in STORAGE)
    }
    assert offenders == set()


def test_no_module_of_the_ledger_imports_itself_through_others() -> None:
    """No import cycle: the graph of ``ledger/``'s modules is acyclic (a package's
    ``__init__`` re-exporting its own modules aside)."""
    cycles = []
    for module in GRAPH:
        for dependency in GRAPH[module]:
            if dependency.startswith(module + "."):  # a package re-exporting its modules
                continue
            stack, seen = [dependency], set()
            while stack:
                current = stack.pop()
                if current == module:
                    cycles.append((module, dependency))
                    break
                if current not in seen:
                    seen.add(current)
                    stack.extend(
                        d for d in GRAPH[current] if not d.startswith(current + ".")
                    )
    assert cycles == []


FAMILIES = {
    "statement types": set(statements.STATEMENT_TYPES),
    "statuses": set(statements.STATUSES),
    "outcomes": set(statements.OUTCOMES),
    "reliability grades": set(statements.RELIABILITY_GRADES),
    "confidence levels": set(statements.CONFIDENCE_LEVELS),
    "evidence kinds": set(statements.EVIDENCE_KINDS),
}


def definitions(path: Path) -> list[str]:
    """Collections of two or more words of one vocabulary family in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Tuple | ast.List | ast.Set):
            continue
        words = {e.value for e in node.elts if isinstance(e, ast.Constant)}
        for family, vocabulary in FAMILIES.items():
            if len(words & vocabulary) >= 2:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {family}")
    return found


def test_no_word_of_the_vocabulary_is_defined_twice() -> None:
    paths = [p for base in [LEDGER, *FACES] for p in sorted(base.rglob("*.py"))]
    offenders = [d for p in paths if p.name != "statements.py" for d in definitions(p)]
    assert offenders == []
