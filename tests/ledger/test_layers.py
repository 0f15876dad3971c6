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


def imports(module: str) -> set[str]:
    tree = ast.parse((LEDGER / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def project(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in ("ledger", "api", "ledger_cli")}


def test_the_vocabulary_imports_nothing_of_the_project() -> None:
    assert project(imports("statements")) == set()


def test_the_model_imports_only_the_vocabulary_and_the_likelihood_words() -> None:
    assert project(imports("credibility")) <= {"ledger.statements", "ledger.likelihood"}
    assert not {n for n in imports("credibility") if n.startswith("eventsourcing")}


def test_the_domain_imports_no_store_loader_or_application() -> None:
    offenders = {
        (module, name)
        for module in DOMAIN
        for name in imports(module)
        if any(name == s or name.startswith(s + ".") for s in STORAGE)
    }
    assert offenders == set()


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
