"""Configuration: one ``Settings`` object, from ``CLAIMS_LEDGER_*`` variables or ``.env``.

The store is chosen by one URL-like setting and turned into the ``eventsourcing`` library's
environment here, never in code elsewhere:

- ``memory``: the library's in-memory store (tests, throw-away demos);
- ``sqlite:///relative/path.sqlite3`` or ``sqlite:////absolute/path.sqlite3``: embedded file;
- ``postgresql://user:password@host:port/dbname``: shared by several API processes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.access import parse_api_keys


def default_store() -> str:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'claims-ledger' / 'ledger.sqlite3'}"


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="CLAIMS_LEDGER_",
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
    snapshot_interval: int = Field(default=100, ge=2)
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    api_keys: SecretStr | None = Field(
        default=None,
        description="comma-separated principal:role:token entries (roles: reader, writer, admin)",
    )

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if value == "memory" or value.startswith(("sqlite://", "postgresql://", "postgres://")):
            return value
        raise ValueError(
            f"store {value!r} is not 'memory', 'sqlite:///PATH' or 'postgresql://USER@HOST/DB'"
        )

    @field_validator("api_keys")
    @classmethod
    def _parseable_keys(cls, value: SecretStr | None) -> SecretStr | None:
        parse_api_keys(value)  # raises ValueError naming the entry, never its token
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

    @property
    def backend(self) -> Literal["memory", "sqlite", "postgres"]:
        if self.store == "memory":
            return "memory"
        return "sqlite" if self.store.startswith("sqlite") else "postgres"

    def sqlite_path(self) -> Path:
        return Path(unquote(self.store.removeprefix("sqlite://").removeprefix("/")))

    def eventsourcing_env(self) -> dict[str, str]:
        """The library's environment for this store."""
        env = {
            "IS_SNAPSHOTTING_ENABLED": "y",
            "AGGREGATE_CACHE_MAXSIZE": "1000",
        }
        if self.backend == "memory":
            env["PERSISTENCE_MODULE"] = "ledger.stores:POPOLedgerFactory"
        elif self.backend == "sqlite":
            path = self.sqlite_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(path),
                SQLITE_LOCK_TIMEOUT="10",
                APPLICATION_RECORDER_TOPIC="ledger.stores:SQLiteLedgerRecorder",
            )
        else:
            url = urlsplit(self.store)
            query = parse_qs(url.query)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_DBNAME=unquote(url.path.lstrip("/")) or "postgres",
                POSTGRES_HOST=url.hostname or "127.0.0.1",
                POSTGRES_PORT=str(url.port or 5432),
                POSTGRES_USER=unquote(url.username or "postgres"),
                POSTGRES_PASSWORD=unquote(url.password or ""),
                POSTGRES_CONNECT_TIMEOUT="5",
                POSTGRES_SCHEMA=query.get("schema", ["public"])[0],
                APPLICATION_RECORDER_TOPIC="ledger.pgstore:PostgresLedgerRecorder",
            )
        return env

    def redacted_store(self) -> str:
        """The store URL with any password replaced, for logs and messages."""
        url = urlsplit(self.store)
        if url.password:
            return self.store.replace(f":{url.password}@", ":***@")
        return self.store
