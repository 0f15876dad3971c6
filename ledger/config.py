"""Configuration: one ``Settings`` object, from ``CLAIMS_LEDGER_*`` variables or ``.env``.

The store is chosen by one URL-like setting and turned into the ``eventsourcing`` library's
environment here, never in code elsewhere:

- ``memory``: the library's in-memory store (tests, throw-away demos);
- ``sqlite:///relative/path.sqlite3`` or ``sqlite:////absolute/path.sqlite3``: embedded file;
- ``postgresql://user:password@host:port/dbname?param=value``: shared by several API
  processes. ``schema`` is the ledger's own parameter (the PostgreSQL schema of its
  tables); every other parameter is libpq's (``sslmode``, ``application_name``,
  ``connect_timeout``, ...) and reaches the driver as given. A name libpq does not know is
  refused when the settings are read (where the driver is installed).

The ``postgres_*`` timeouts bound how long PostgreSQL may keep a caller waiting: to
accept a connection, to hand a request a free connection from the pool, and to run one
statement. While PostgreSQL cannot be reached, requests do not wait for the pool at all
(``ledger.persistence.postgres``). Connections send TCP keepalives (``KEEPALIVES``, unless
the URL says otherwise), so one cut by the network (no reset, no answer) is found dead in
about a minute, not the quarter of an hour the kernel would take.

Reading settings has no side effect: ``eventsourcing_env`` only describes the store;
``ledger.bootstrap.open_ledger`` makes the data directory and opens the ledger.

A ``CLAIMS_LEDGER_*`` variable that names no setting (a typo such as
``CLAIMS_LEDGER_PROT``) would be ignored without a word; instead reading the settings logs
one warning line for it, naming the closest setting.

The signing key (``signing_key``, for checkpoints: ``ledger.checkpoints``) is read here
too, so a key that is not an Ed25519 private key, or a ``file:PATH`` that cannot be read,
is refused at start whatever the entry point, without echoing the key.

The API keys are checked here for their syntax (``principal:role:token`` entries), so every
entry point refuses a malformed list the same way when it loads its settings; what a role
may do is the HTTP layer's business (``api.access``).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

API_KEY_ROLES = ("reader", "writer", "admin")  # in increasing power
#: Parameters of a postgresql:// store URL that are the ledger's, not libpq's.
OWN_STORE_PARAMS = ("schema",)
ENV_PREFIX = "CLAIMS_LEDGER_"
# Variables with the prefix that are not settings: the test suite's own.
NOT_SETTINGS = (
    "CLAIMS_LEDGER_TEST_",
    "CLAIMS_LEDGER_REQUIRE_POSTGRES",
    "CLAIMS_LEDGER_REQUIRE_BROWSER",
    "CLAIMS_LEDGER_WRITE_GOLDEN",
)

logger = logging.getLogger("claims_ledger.config")
_warned: set[str] = set()  # each unknown variable is reported once per process


class KeyEntry(NamedTuple):
    """One ``principal:role:token`` entry of ``Settings.api_keys``."""

    principal: str
    role: str
    token: str


def api_key_entries(value: SecretStr | None) -> tuple[KeyEntry, ...]:
    """Parse ``principal:role:token,...``; errors name the entry by number, not its token."""
    if value is None or not value.get_secret_value().strip():
        return ()
    entries: list[KeyEntry] = []
    for number, entry in enumerate(value.get_secret_value().split(","), start=1):
        parts = entry.strip().split(":", 2)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"api_keys entry {number} is not principal:role:token")
        name, role, token = (p.strip() for p in parts)
        if role not in API_KEY_ROLES:
            raise ValueError(
                f"api_keys entry {number} ({name}): role {role!r} is not reader, writer or admin"
            )
        entries.append(KeyEntry(name, role, token))
    if len({e.token for e in entries}) != len(entries):
        raise ValueError("api_keys: two entries share one token")
    return tuple(entries)


def default_store() -> str:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'claims-ledger' / 'ledger.sqlite3'}"


#: libpq's TCP keepalives on every PostgreSQL connection (a parameter in the store URL wins):
#: probe an idle connection after 30 s, every 10 s, and give it up after 3 unanswered.
KEEPALIVES = {
    "keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10",
    "keepalives_count": "3",
}


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # a bad CLAIMS_LEDGER_API_KEYS must not echo its tokens
    )

    store: str = Field(
        default_factory=default_store, description="memory, sqlite:///PATH or postgresql://DSN"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    max_batch_bytes: int = Field(default=16 << 20, ge=1024)
    body_read_seconds: float = Field(
        default=60.0, gt=0, description="seconds a client has to send a request's whole body "
        "(408 after that, nothing written)",
    )
    snapshot_interval: int = Field(default=100, ge=2)
    write_concurrency: int = Field(
        default=8, ge=1, le=1024, description="requests of one server process that write at "
        "once; the others wait for a turn in the order they came (reads do not wait)",
    )
    cache_mb: int = Field(
        default=64, ge=1, le=1 << 20,
        description="MiB the caches of each process may hold together (ledger.caching)",
    )
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    api_keys: SecretStr | None = Field(
        default=None,
        description="comma-separated principal:role:token entries (roles: reader, writer, admin)",
    )
    postgres_connect_timeout: int = Field(
        default=5, ge=1, description="seconds PostgreSQL has to accept a new connection "
        "(libpq's connect_timeout; one in the store URL wins)",
    )
    postgres_pool_timeout: int = Field(
        default=5, ge=1, description="seconds a request waits for a free connection of the "
        "pool while PostgreSQL is reachable (while it is not, requests answer 503 at once)",
    )
    postgres_statement_timeout: int = Field(
        default=0, ge=0, description="seconds PostgreSQL may spend on one statement before "
        "it cancels it (503); 0: no limit",
    )
    checkpoint_every: float = Field(
        default=3600.0, ge=0, description="with a signing key, seconds between the checkpoints "
        "a server signs by itself (when the log moved; also one on shutdown); 0: only on request",
    )
    checkpoint_dir: Path | None = Field(
        default=None, description="a directory where a server writes each checkpoint it signs "
        "by itself, as a JSON file, for shipping elsewhere",
    )
    stream_ping_seconds: float = Field(
        default=15, gt=0, le=3600, description="seconds between the heartbeats (comment "
        "lines) of a server-sent event stream, so proxies keep an idle one open",
    )
    stream_poll_seconds: float = Field(
        default=1, gt=0, le=60, description="seconds between the reads of the log by the "
        "process's one stream reader and the watches' dispatcher, for events other processes "
        "stored (this process's own wake them at once; on PostgreSQL, LISTEN/NOTIFY too)",
    )
    webhook_retry_seconds: float = Field(
        default=5, gt=0, le=3600, description="seconds before a failed webhook delivery is "
        "tried again; the pause doubles with each attempt",
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=100, description="attempts of a webhook delivery before it is "
        "given up as failed (GET /watches/{id}/deliveries shows it)",
    )
    webhook_allow_private: bool = Field(
        default=False, description="let webhooks go to loopback, private, link-local and "
        "other non-public addresses (receivers on this machine or network); otherwise "
        "such URLs are refused, and checked again at each delivery",
    )
    publisher_name: str = Field(
        default="Claims Ledger", min_length=1, max_length=200,
        description="who publishes the ledger's verdicts: the author of its ClaimReview",
    )
    publisher_url: str | None = Field(
        default=None, max_length=2000, pattern=r"^https?://",
        description="the publisher's web address, in its ClaimReview author",
    )
    signing_key: SecretStr | None = Field(
        default=None,
        description="the Ed25519 private key that signs checkpoints: PEM, its 32 bytes in hex "
        "or base64, or file:PATH of a key file; unset, no checkpoint is signed",
    )

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if value.startswith(("postgresql://", "postgres://")):
            _check_libpq_params(_store_params(value))
            return value
        if value == "memory" or value.startswith("sqlite://"):
            return value
        raise ValueError(
            f"store {value!r} is not 'memory', 'sqlite:///PATH' or 'postgresql://USER@HOST/DB'"
        )

    @field_validator("api_keys")
    @classmethod
    def _parseable_keys(cls, value: SecretStr | None) -> SecretStr | None:
        api_key_entries(value)  # raises ValueError naming the entry, never its token
        return value

    @field_validator("signing_key")
    @classmethod
    def _readable_signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from ledger.checkpoints import load_private_key  # cryptography, only when set

        load_private_key(value.get_secret_value())  # ValueError says why, never the key
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _refuse_open_bind_without_keys(self) -> Settings:
        if self.api_keys is None and self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                f"host {self.host!r} exposes the ledger to the network but no API keys are "
                "configured: set CLAIMS_LEDGER_API_KEYS or bind to 127.0.0.1"
            )
        return self

    @model_validator(mode="after")
    def _warn_of_unknown_variables(self) -> Settings:
        for message in unknown_variables(os.environ):
            if message not in _warned:
                _warned.add(message)
                logger.warning(message)
        return self

    @property
    def backend(self) -> Literal["memory", "sqlite", "postgres"]:
        if self.store == "memory":
            return "memory"
        return "sqlite" if self.store.startswith("sqlite") else "postgres"

    def sqlite_path(self) -> Path:
        return Path(unquote(self.store.removeprefix("sqlite://").removeprefix("/")))

    def eventsourcing_env(self) -> dict[str, str]:
        """The library's environment for this store (it creates nothing)."""
        env = {
            "IS_SNAPSHOTTING_ENABLED": "y",
            "AGGREGATE_CACHE_MAXSIZE": "1000",
        }
        if self.backend == "memory":
            env.update(
                PERSISTENCE_MODULE="ledger.persistence.memory:POPOLedgerFactory",
                APPLICATION_RECORDER_TOPIC="ledger.persistence.memory:POPOLedgerRecorder",
            )
        elif self.backend == "sqlite":
            env.update(
                PERSISTENCE_MODULE="ledger.persistence.sqlite:SQLiteLedgerFactory",
                SQLITE_DBNAME=str(self.sqlite_path()),
                SQLITE_LOCK_TIMEOUT="10",
                APPLICATION_RECORDER_TOPIC="ledger.persistence.sqlite:SQLiteLedgerRecorder",
            )
        else:
            url = urlsplit(self.store)
            params = _store_params(self.store)
            env.update(
                PERSISTENCE_MODULE="ledger.persistence.postgres:PostgresLedgerFactory",
                POSTGRES_DBNAME=unquote(url.path.lstrip("/")) or "postgres",
                POSTGRES_HOST=url.hostname or "127.0.0.1",
                POSTGRES_PORT=str(url.port or 5432),
                POSTGRES_USER=unquote(url.username or "postgres"),
                POSTGRES_PASSWORD=unquote(url.password or ""),
                # The library's name for how long a request waits for a pooled connection.
                POSTGRES_CONNECT_TIMEOUT=str(self.postgres_pool_timeout),
                POSTGRES_SCHEMA=params.pop("schema", "public"),
                LEDGER_POSTGRES_PARAMS=json.dumps(self.libpq_params()),
                APPLICATION_RECORDER_TOPIC="ledger.persistence.postgres:PostgresLedgerRecorder",
            )
        return env

    def libpq_params(self) -> dict[str, str]:
        """What the driver gets besides host, port, user, password and database: the store
        URL's libpq parameters, over the timeouts of these settings and ``KEEPALIVES``."""
        params = {k: v for k, v in _store_params(self.store).items() if k not in OWN_STORE_PARAMS}
        params.setdefault("connect_timeout", str(self.postgres_connect_timeout))
        for name, value in KEEPALIVES.items():
            params.setdefault(name, value)
        if self.postgres_statement_timeout:
            limit = f"-c statement_timeout={self.postgres_statement_timeout}s"
            params["options"] = f"{params['options']} {limit}" if "options" in params else limit
        return params

    def redacted_store(self) -> str:
        """The store URL with any password replaced, for logs and messages."""
        url = urlsplit(self.store)
        store = self.store
        if url.password:
            store = store.replace(f":{url.password}@", ":***@")
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            if name == "password" and value:
                store = store.replace(f"password={value}", "password=***")
        return store


def _store_params(store: str) -> dict[str, str]:
    """The query parameters of a store URL (the last of a repeated name wins, as in libpq)."""
    return dict(parse_qsl(urlsplit(store).query, keep_blank_values=True))


def _check_libpq_params(params: Mapping[str, str]) -> None:
    """Refuse a parameter libpq does not know (a typo such as ``sslmod`` would otherwise
    be dropped or fail at the first connection). Without the driver there is nothing to
    ask: opening the store then says which extra to install (``ledger.bootstrap``)."""
    try:
        from psycopg import ProgrammingError
        from psycopg.conninfo import make_conninfo
    except ImportError:
        return
    for name, value in params.items():
        if name in OWN_STORE_PARAMS:
            continue
        try:
            make_conninfo("", **{name: value})
        except ProgrammingError as error:
            raise ValueError(
                f"store parameter {name!r} is neither the ledger's ({', '.join(OWN_STORE_PARAMS)})"
                f" nor libpq's: {error}"
            ) from None


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A message for each ``CLAIMS_LEDGER_*`` variable that is no setting, naming the closest.

    Names are compared in upper case, as the settings read them case-insensitively.
    """
    known = [name.upper() for name in Settings.model_fields]
    messages = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper.startswith(NOT_SETTINGS):
            continue
        suffix = upper.removeprefix(ENV_PREFIX)
        if suffix in known:
            continue
        closest = difflib.get_close_matches(suffix, known, n=1, cutoff=0.6)
        hint = (
            f"did you mean {ENV_PREFIX}{closest[0]}?"
            if closest
            else "the settings are " + ", ".join(ENV_PREFIX + k for k in known)
        )
        messages.append(f"{name} is not a setting and is ignored ({hint})")
    return messages
