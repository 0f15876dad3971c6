"""``python -m ledger_cli``: the same as the ``claims-ledger`` command."""

from ledger_cli.main import main

main()
