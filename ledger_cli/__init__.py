"""``claims-ledger``: the command line face of the ledger, beside the HTTP API.

Every command calls the same ``ClaimsLedger`` use case as the matching HTTP route, so a
terminal and a client see the same answers; ``--json`` prints the ledger's own dict.
"""
