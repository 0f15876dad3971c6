"""Where the ledger's events are stored: the library's recorders plus the ledger's side tables.

Shaped like the ``eventsourcing`` library's ``examples/searchabletimestamps``: the side
tables and what every backend can read from them first, then one module per backend.

- ``chain``: the records of the side tables (``LogEntry``, ``IdempotencyRecord``), the hash
  chain (``GENESIS``, ``chain_link``) and ``LedgerIndex``, the reads every backend offers;
- ``sql``: the side tables in portable SQL (``SqlIndex``) and the reads over them
  (``IndexReads``), shared by the SQL backends;
- ``sqlite``: ``SQLiteLedgerRecorder``, for ``PERSISTENCE_MODULE=eventsourcing.sqlite``;
- ``postgres``: ``PostgresLedgerRecorder``, for ``PERSISTENCE_MODULE=eventsourcing.postgres``
  (the only module that imports psycopg);
- ``memory``: ``POPOLedgerRecorder`` and its factory ``POPOLedgerFactory``, in memory.

Each backend is chosen through the library's environment, by topic: ``PERSISTENCE_MODULE``
names the library's factory and ``APPLICATION_RECORDER_TOPIC`` this package's recorder
(``ledger.config.Settings.eventsourcing_env`` writes both). Importing this package imports
no backend.

The side tables, written in the same transaction as the events:

- ``<events>_log``: one row per stored event, keyed by its notification id (the global
  ``position``), with the server-assigned ``recorded_at`` (strictly increasing along the
  log) and a SHA-256 link to the previous row, so any byte changed behind the service's
  back breaks the chain at a position ``verify`` can name;
- ``<events>_streams``: the public id of each claim and source and where it starts, so
  lists and "as known at" lookups never scan other streams' events;
- ``<events>_idempotency``: the Idempotency-Key of a write, with a fingerprint of the
  request, unique, so a retry (from any process sharing the store) finds the original
  and two concurrent writers with one key cannot both succeed.

``recorded_at`` is assigned inside the insert transaction, after the library has taken its
write lock (PostgreSQL: ``LOCK TABLE ... EXCLUSIVE``; SQLite: the database write lock), so
it follows commit order even with several writer processes.
"""
