"""The HTTP API: a thin FastAPI layer over ``ledger`` (build it with ``api.main.create_app``)."""
