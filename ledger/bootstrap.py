"""The one place that opens a ledger from settings, for the API, the CLI, tests and benchmarks.

``Settings`` only describe the store; opening it is here: make the SQLite data directory if
it is missing, turn the settings into the ``eventsourcing`` library's environment and
construct the application. PostgreSQL's driver is an extra
(``claims-ledger-server[postgres]``):
without it a PostgreSQL store is refused here, saying what to install.
"""

from __future__ import annotations

from ledger import caching
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import StoreUnavailable

#: The distribution's name on the package index (``claims-ledger`` there is another
#: project's); the command it installs is ``claims-ledger``.
DISTRIBUTION = "claims-ledger-server"
POSTGRES_EXTRA = f"pip install '{DISTRIBUTION}[postgres]'"


def open_ledger(settings: Settings) -> ClaimsLedger:
    """The ledger ``settings`` name, open; close it when done.

    Raises ``StoreUnavailable`` if the data directory cannot be made, PostgreSQL's driver
    is not installed, or the store cannot be opened.
    """
    if settings.backend == "postgres":
        _require_postgres_driver()
    if settings.backend == "sqlite":
        directory = settings.sqlite_path().parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(
                f"cannot create the data directory {directory}: {error.strerror or error}"
            ) from None
    caching.configure(settings.cache_mb)
    return ClaimsLedger(settings.eventsourcing_env(), snapshot_interval=settings.snapshot_interval)


def _require_postgres_driver() -> None:
    try:
        import psycopg  # noqa: F401 - only to know it is there
        import psycopg_pool  # noqa: F401
    except ImportError as error:
        raise StoreUnavailable(
            f"PostgreSQL support is not installed (no module {error.name!r}): {POSTGRES_EXTRA}"
        ) from None
