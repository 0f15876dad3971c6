"""A rebuild in several processes (``rebuild --jobs``) makes the rows one process makes.

The claims are shared out among worker processes; each projects its part, and the parent
writes their changes in one process's order, giving every row the id one process gives
it. Compared table by table (ids, the R-tree of rows on SQLite, the tracking position)
with a rebuild in one process, on SQLite and PostgreSQL, for a version that learns from
track records (resolutions restate other parts' claims) and one that does not, with
claims dropped from the workers' memory and reloaded, and resumed half way.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.projection import parallel
from ledger.projection import projector as runner

from .test_projection import projected, random_ledger, sql_store, tables  # noqa: F401


def _spied(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the events projected by workers (so a test knows they did the work)."""
    done: list[int] = []
    real = parallel.project

    def project(*args: Any, **kwargs: Any) -> int:
        done.append(real(*args, **kwargs))
        return done[-1]

    monkeypatch.setattr(runner.parallel, "project", project)
    monkeypatch.setattr(runner, "PARALLEL_FROM", 1)
    return done


@pytest.mark.parametrize(("model", "jobs"), [("credibility-v2", 2), ("credibility-v1", 3)])
def test_a_rebuild_in_several_processes_makes_the_rows_of_one(
    projected: ClaimsLedger,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    model: str,
    jobs: int,
) -> None:
    random_ledger(projected, jobs, events=220)
    projector = projected.projector
    assert projector is not None
    done = _spied(monkeypatch)
    monkeypatch.setattr(runner, "PAGE", 25)  # many pages, each merged from every part
    # v1 is not served: built beside the served tables, then served.
    assert projector.rebuild(model=model, jobs=jobs, hold=40) == projector.head()
    assert done == [projector.head()]
    several = tables(projected)
    assert projector.model.name == model
    projector.rebuild()  # one process
    assert len(done) == 1
    assert tables(projected) == several


def test_a_parallel_rebuild_stopped_half_way_resumes_to_the_same_rows(
    projected: ClaimsLedger,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each page commits with its position, so a rebuild killed between pages resumes;
    the workers read the claims projected before from the tables (their rows, citations)."""
    random_ledger(projected, 7, events=220)
    projector = projected.projector
    assert projector is not None and projector.caught_up()
    whole = tables(projected)
    with projector.lock.holding() as mine:
        assert mine
        projector.view.drop()
        projector.projection.forget()
        half = projector.head() // 2
        assert parallel.project(projector.store, projector.view, 2, half, 10) == half
    assert projector.view.position() == half
    done = _spied(monkeypatch)
    assert projector.rebuild(resume=True, jobs=2, hold=30) == projector.head() - half
    assert done == [projector.head() - half]
    assert tables(projected) == whole


def test_claims_are_shared_out_by_their_work() -> None:
    sizes = [("hot", 100), ("a", 10), ("b", 10), ("c", 10), ("d", 1)]
    parts = parallel.share(sizes, 2)
    assert parts["hot"] != parts["a"] == parts["b"] == parts["c"]
    assert set(parts) == {"hot", "a", "b", "c", "d"}
    assert parallel.share(sizes, 2) == parts  # the same for every worker
    # A claim registered after the sharing goes by its id, the same way in every worker.
    assert parallel.part_of("late", parts, 2) == parallel.part_of("late", {}, 2)


def test_a_worker_that_fails_says_why(projected: ClaimsLedger) -> None:  # noqa: F811
    assert projected.projector is not None
    store = projected.store
    plan = parallel.Plan(
        env=dict(store.env), snapshot_interval=100, cache_mb=64, model="no-such-model",
        start=0, until=10, parts={}, jobs=2, hold=None, page=10,
    )
    out: queue.Queue[tuple[Any, ...]] = queue.Queue()
    parallel.work(plan, 0, out)
    kind, detail = out.get_nowait()
    assert kind == "error" and "no-such-model" in detail

    class Stopped:
        name, exitcode = "rebuild-part-0", -9

        def is_alive(self) -> bool:
            return False

    with pytest.raises(RuntimeError, match="no-such-model"):
        parallel._receive(_given(("error", detail)), Stopped())
    with pytest.raises(RuntimeError, match=r"rebuild-part-0.*exit code -9"):
        parallel._receive(_given(), Stopped())


def _given(*messages: tuple[Any, ...]) -> Any:
    found: queue.Queue[tuple[Any, ...]] = queue.Queue()
    for message in messages:
        found.put(message)

    class Source:
        def get(self, timeout: float) -> tuple[Any, ...]:
            return found.get(timeout=0.01)

    return Source()


CHILD = """
import sys, time
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.projection import parallel
from ledger.projection import projector as runner

runner.PARALLEL_FROM, runner.PAGE = 1, 5
write_page = parallel.write_page

def slowly(*args):  # the parent writes slowly: its workers wait on their queues
    time.sleep(0.2)
    write_page(*args)

parallel.write_page = slowly
if __name__ == "__main__":
    ledger = open_ledger(Settings(store=sys.argv[1], _env_file=None))
    ledger.projector.rebuild(jobs=2)
"""


def test_workers_stop_when_the_rebuilding_process_is_killed(tmp_path: Path) -> None:
    """A worker whose parent was killed (it could not stop its workers) stops too: nobody
    would write its rows."""
    store = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = open_ledger(Settings(store=store, _env_file=None))  # type: ignore[call-arg]
    try:
        random_ledger(ledger, 3, events=220)
    finally:
        ledger.close()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    parent = subprocess.Popen([sys.executable, str(script), store], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(parent.pid)
        assert len(workers) >= 2, "the rebuild did not start its workers"
        time.sleep(1.0)  # they have sent what their queues hold, and wait
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 20
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_running(pid) for pid in workers)
    finally:
        if parent.poll() is None:
            parent.kill()


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            if fields.get("PPid", "").strip() == str(pid) and "python" in fields.get("Name", ""):
                found.append(int(status.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a worker whose parent died is reaped by init)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state
