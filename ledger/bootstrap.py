"""The one place that opens a ledger from settings, for the API, the CLI, tests and benchmarks.

``Settings`` only describe the store; opening it is here: make the SQLite data directory if
it is missing, turn the settings into the ``eventsourcing`` library's environment and
construct the application.
"""

from __future__ import annotations

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import StoreUnavailable


def open_ledger(settings: Settings) -> ClaimsLedger:
    """The ledger ``settings`` name, open; close it when done.

    Raises ``StoreUnavailable`` if the data directory cannot be made or the store cannot
    be opened.
    """
    if settings.backend == "sqlite":
        directory = settings.sqlite_path().parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(
                f"cannot create the data directory {directory}: {error.strerror or error}"
            ) from None
    return ClaimsLedger(settings.eventsourcing_env(), snapshot_interval=settings.snapshot_interval)
