"""Every command's help says what an option takes in words, never a Python type (issue 29,
point 4): no ``<str>``, ``<int>`` or ``<bool>``, no ``{CLAIM}`` in a usage line, and a flag
such as ``--json`` is shown bare."""

from __future__ import annotations

import re

import pytest

from .helpers import Invoke

COMMANDS = [
    [], ["serve"], ["show"], ["audit"], ["timeline"], ["claims"], ["sources"], ["replay"],
    ["load"], ["export"], ["verify"], ["checkpoint"], ["rebuild"], ["evaluate"], ["models"],
    ["models", "diff"], ["models", "fit"], ["models", "learning-curve"], ["bench"],
    ["bench", "generate"], ["keygen"], ["tail"], ["watches"], ["watches", "add"],
    ["watches", "list"], ["watches", "deliveries"],
]
#: A Python type where a metavar belongs: <str>, <int>, <int range>, <bool>, <float>...
PYTHON_TYPE = re.compile(r"<(str|int|bool|float|text|integer|path)[^>]*>", re.IGNORECASE)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "claims-ledger")
def test_help_names_values_in_words(invoke: Invoke, command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert PYTHON_TYPE.search(text) is None, text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    for flag in ("--json", "--help", "--version"):
        taking = re.compile(rf"{flag}(\s+-\w)?\s+(<\w+>|[A-Z][A-Z_]+\b)")
        assert taking.search(text) is None, text


def test_arguments_and_options_have_metavars(invoke: Invoke) -> None:
    show = invoke("show", "--help").stdout
    assert re.search(r"Usage: claims-ledger show \[OPTIONS\] CLAIM\s*$", show, re.M), show
    serve = invoke("serve", "--help").stdout
    assert re.search(r"--host\s+HOST\b", serve) and re.search(r"--port\s+PORT\b", serve), serve
    diff = invoke("models", "diff", "--help").stdout
    assert "models diff [OPTIONS] VERSION VERSION" in diff
