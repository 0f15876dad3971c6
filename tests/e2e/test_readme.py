"""The README's examples, run against a real server so they cannot rot.

Every fenced ``sh`` block that follows a ``<!-- test: curl -->`` comment is run with bash,
in order, against ``claims-ledger serve --demo`` on a fresh SQLite store and a free port
(the README's ``http://127.0.0.1:8000`` is replaced by the server's address). Each block
must exit 0 and print JSON. Blocks after ``<!-- test: cli -->`` run the ``claims-ledger``
command on the server's store (``CLAIMS_LEDGER_STORE``) once the curl blocks have run, and
must exit 0 and print what they promise. The README's first lines, its configuration and
command tables, its documentation list, its install lines and its length are checked
against the code and the tree too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.config import Settings

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
README_URL = "http://127.0.0.1:8000"
TESTED_BLOCK = re.compile(r"<!-- test: curl -->\s*\n```sh\n(.*?)\n```", re.DOTALL)
CLI_BLOCK = re.compile(r"<!-- test: cli -->\s*\n```sh\n(.*?)\n```", re.DOTALL)
INSTALL_AND_RUN = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/claims-ledger serve --demo"
)
TEST_SUITE = (
    'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest'
)


def readme_blocks() -> list[str]:
    return TESTED_BLOCK.findall(README.read_text(encoding="utf-8"))


def readme_cli_blocks() -> list[str]:
    return CLI_BLOCK.findall(README.read_text(encoding="utf-8"))


def test_the_readme_opens_with_the_two_commands() -> None:
    opening = README.read_text(encoding="utf-8").split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", opening, re.DOTALL)
    assert commands == [INSTALL_AND_RUN, TEST_SUITE]


def test_ci_runs_the_readmes_test_command() -> None:
    assert TEST_SUITE in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=~!; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_serving_installs_no_test_tools_and_no_postgres_driver() -> None:
    """The first command's plain install serves on SQLite; the rest is in extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = _requirement_names(project["dependencies"])
    extras = project["optional-dependencies"]
    assert not base & {"psycopg", "pytest", "hypothesis", "mypy", "ruff"}, base
    assert "psycopg" in _requirement_names(extras["postgres"])
    assert "psycopg" in _requirement_names(extras["test"])  # the suite runs on PostgreSQL
    assert "pytest" in _requirement_names(extras["test"])


def test_the_license_is_an_spdx_expression_with_its_text_shipped() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]  # PEP 639
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert "setuptools>=77" in pyproject["build-system"]["requires"]  # reads the expression


def test_the_configuration_table_names_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`CLAIMS_LEDGER_{name.upper()}`" in text, name


def test_the_readme_has_examples_to_run() -> None:
    assert len(readme_blocks()) >= 6


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SERVED: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``claims-ledger serve --demo`` on a fresh SQLite store; yields its base URL (its store
    and working directory are in ``SERVED``)."""
    work = tmp_path_factory.mktemp("readme")
    SERVED.update(store=f"sqlite:///{work}/ledger.sqlite3", work=str(work))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
    env["XDG_DATA_HOME"] = str(work / "xdg")
    command = [
        sys.executable,
        "-m",
        "ledger_cli",
        "--store",
        f"sqlite:///{work}/ledger.sqlite3",
        "serve",
        "--demo",
        "--port",
        str(port),
    ]
    log = (work / "server.log").open("w+")
    process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: object) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    log.seek(0)  # type: ignore[attr-defined]
    pytest.fail(f"the server did not become healthy:\n{log.read()}")  # type: ignore[attr-defined]


def _json_documents(text: str) -> list[object]:
    """Each JSON document in ``text`` (a block may run several commands)."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while position < len(text.rstrip()):
        while text[position].isspace():
            position += 1
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(readme_blocks())))
def test_readme_example_runs(server: str, number: int) -> None:
    """Blocks run in README order: later examples build on earlier ones."""
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("the README's examples need curl and bash")
    block = readme_blocks()[number]
    script = block.replace(README_URL, server)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    try:
        assert _json_documents(done.stdout), f"{block} printed nothing"
    except json.JSONDecodeError as error:
        pytest.fail(f"{block}\nprinted something that is not JSON ({error}):\n{done.stdout}")


@pytest.mark.slow
@pytest.mark.parametrize("number", range(len(readme_cli_blocks())))
def test_readme_cli_example_runs(server: str, number: int) -> None:
    """After the curl examples (parametrized after them, in the same module): the CLI on
    the server's store prints what the README says it does; ``replay`` lists the claims."""
    block = readme_cli_blocks()[number]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
    env["CLAIMS_LEDGER_STORE"] = SERVED["store"]
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block], capture_output=True,
                          text=True, timeout=120, check=False, cwd=SERVED["work"], env=env)
    assert done.returncode == 0, f"{block}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    if "claims-ledger replay" in block:
        for claim in ("nk-troops-for-russia", "nk-arms-for-russia", "ru-kp-defence-pact"):
            assert claim in done.stdout, done.stdout
    if "claims-ledger show" in block:
        assert "0.814" in done.stdout, done.stdout  # as of 12 October, as the README says


def test_the_readme_is_under_300_lines() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) < 300


def test_install_lines_name_this_distribution() -> None:
    """``claims-ledger`` on the package index is another project: every install line
    installs this checkout or ``claims-ledger-server``; the command stays ``claims-ledger``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "claims-ledger-server"
    assert project["scripts"] == {"claims-ledger": "ledger_cli.main:main"}
    pages = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "Dockerfile"]
    # ``pip install [options] claims-ledger`` or ``'claims-ledger[postgres]'``: the name as
    # a requirement (``-e .`` and ``claims-ledger-server`` are right).
    wrong = re.compile(r"install(\s+-[-\w]+)*\s+['\"]?claims-ledger(\[[^\]]*\])?['\"]?(\s|$)")
    for page in pages:
        assert wrong.search(page.read_text(encoding="utf-8")) is None, page


def test_the_readme_lists_every_command_and_every_page() -> None:
    from typer.main import get_command

    from ledger_cli.main import app

    text = README.read_text(encoding="utf-8")
    table = text[text.index("| command | what |"):]
    for name in get_command(app).commands:  # type: ignore[attr-defined]
        assert f"`{name}" in table, name
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "README.md":
            assert f"(docs/{page.name})" in text, page.name


def _dockerfile_runs() -> list[str]:
    """The Dockerfile's RUN commands, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.removeprefix("RUN ").strip() for line in text.splitlines()
            if line.startswith("RUN ")]


def test_the_image_installs_from_the_lock_before_its_sources() -> None:
    """Dependencies from uv.lock in a layer of their own, before the sources are copied (a
    change to the code reuses it); every install the image runs, CI runs too."""
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    copies = [i for i, line in enumerate(lines) if line.startswith("COPY ")]
    locked = next(i for i, line in enumerate(lines)
                  if line.startswith("RUN uv sync") and "--no-install-project" in line)
    assert lines[copies[0]] == "COPY pyproject.toml uv.lock ./"
    assert copies[0] < locked < next(i for i in copies if "ledger" in lines[i])
    assert (ROOT / "uv.lock").is_file()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installs = [run for run in _dockerfile_runs() if "pip install" in run or "uv " in run]
    assert len(installs) >= 3, installs
    for command in installs:
        assert "--locked" in command or "==" in command, command  # nothing unpinned
        assert command in ci, f"CI does not run the Dockerfile's {command!r}"
