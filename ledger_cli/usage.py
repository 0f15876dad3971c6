"""How the help names what each option and argument takes: plain words, as a person types them.

Typer (0.27 with click 8.2+) shows a value's Python type (``--host <str>``, ``--port <int>``,
a claim argument as ``CLAIM <str>``) and a required argument as ``{CLAIM}`` in the usage line:
a new user reads the braces as part of the syntax and ``<bool>`` as a value to give. Here every
option that takes a value gets a metavar in capitals (its own, or its name), an
argument's type column stays empty (its name says what it is), and usage lines print
``show [OPTIONS] CLAIM``. ``tests/cli/test_help.py`` checks every command's help.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand, TyperGroup


class _Unnamed:
    """An argument's type, unnamed in the help (its metavar already says what it is); the
    rest is the type's own. A wrapper, not a subclass: Typer 0.27 vendors click, so which
    click's ``ParamType`` to derive from depends on the release."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __call__(self, value: Any, param: Any = None, ctx: Any = None) -> Any:
        return self.inner(value, param, ctx)

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return ""


def _plain(command: Any) -> None:
    # Duck-typed: Typer 0.27 vendors its own click (``typer._click``), whose classes are
    # not ``click``'s; older releases use click's.
    for param in command.params:
        kind = getattr(param, "type", None)  # not an attribute of every release's parameters
        if param.param_type_name == "option" and not (param.is_flag or param.count):
            if param.metavar is None and getattr(kind, "choices", None) is None:
                long = max(param.opts, key=len).lstrip("-").replace("-", "_").upper()
                param.metavar = long  # --batch-size BATCH_SIZE: the same in every release
        elif (param.param_type_name == "argument" and kind is not None
              and not isinstance(kind, _Unnamed)):
            param.type = _Unnamed(kind)
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)


class Command(TyperCommand):
    """A command whose usage line names required arguments without braces."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece
                for piece in super().collect_usage_pieces(ctx)]


class Group(TyperGroup):
    """The root command: every command under it gets plain metavars (``_plain``)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain(command)
        return command
