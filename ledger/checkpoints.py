"""Signed checkpoints: an anchor for the hash chain that is kept outside the ledger.

The hash chain (``ledger.integrity``) shows that the stored events still hash to the
stored links; someone who can write to the store can still cut its tail off, or rewrite
history and compute the links again. A checkpoint states "at ``signed_at``, the log held
``position`` events and its chain hash there was ``head``", signed with the service's
Ed25519 key. Kept somewhere the store's writers cannot reach, it lets anyone prove later
that today's log extends it: the signature is valid, the log still reaches that position,
and the chain recomputed from the start gives the same hash there (``verify_against``).

- pure: ``Checkpoint`` (the record, its JSON and the exact bytes that are signed),
  ``Signer`` (a private key), the key formats (``load_private_key``, ``key_id_of``);
- on the store: ``Checkpoints`` signs the current head (``sign``), keeps every checkpoint
  it signs in a side table ``<events>_checkpoints`` (in memory for the in-memory store)
  and reads the latest (``latest``); ``verify_against`` checks one.

A checkpoint is signed only over a chain the service has just recomputed: from the start
of the log, or from the latest checkpoint this key signed, after checking that the log
still holds that checkpoint's head. So the service never signs a log that does not extend
what it signed before (``CheckpointRefused``).

The signed bytes are UTF-8 text, four lines each ending in a newline::

    claims-ledger-checkpoint/1
    position: 19
    head: 53edc48a...
    signed_at: 2026-01-01T00:00:00.000000Z
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import threading
import weakref
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.answers import JSON
from ledger.errors import Conflict, InvalidInput, LedgerError, NotFound
from ledger.integrity import ChainWalk, audit, walk_chain
from ledger.persistence.memory import POPOLedgerRecorder
from ledger.persistence.sql import IndexReads
from ledger.store import LedgerApplication, store_errors
from ledger.times import format_instant, now

FORMAT = "claims-ledger-checkpoint/1"
ALGORITHM = "Ed25519"
SIGNING_NOT_CONFIGURED = (
    "signing is not configured: set CLAIMS_LEDGER_SIGNING_KEY to an Ed25519 private key "
    "(a PEM file as file:PATH; see docs/trust.md)"
)
_HEAD = re.compile(r"^[0-9a-f]{64}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{64}$")
#: How many of a key's newest stored checkpoints are tried as the base of the next one.
_BASES = 20


class SigningNotConfigured(LedgerError):
    title = "Signing not configured"


class CheckpointNotFound(NotFound):
    title = "Checkpoint not found"


class CheckpointRefused(Conflict):
    """The log does not extend what this key signed before, or its chain is broken."""

    title = "Checkpoint refused"


# Keys.


def _raw32(text: str) -> bytes | None:
    """32 bytes written in hex or base64 (standard or URL-safe), else None."""
    if _HEX32.fullmatch(text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _key_text(value: str) -> str:
    text = value.strip()
    if text.startswith("file:"):
        path = Path(text.removeprefix("file:")).expanduser()
        try:
            data = path.read_bytes()
        except OSError as error:
            reason = error.strerror or error
            raise ValueError(f"cannot read the key file {path}: {reason}") from None
        if len(data) == 32:  # the raw key itself
            return data.hex()
        try:
            return data.decode("ascii").strip()
        except UnicodeDecodeError:
            raise ValueError(f"the key file {path} is neither PEM nor 32 raw bytes") from None
    return text


def _pem_is_exactly(text: str, key: Ed25519PrivateKey) -> bool:
    """Whether the PEM's body is the key's PKCS#8 encoding and nothing more."""
    body = "".join(line.strip() for line in text.strip().splitlines()[1:-1])
    try:
        der = base64.b64decode(body, validate=True)
    except ValueError:
        return False
    expected = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return der == expected


def load_private_key(value: str) -> Ed25519PrivateKey:
    """An Ed25519 private key: PEM (PKCS#8, unencrypted), its 32 bytes in hex or base64, or
    ``file:PATH`` of either (or of the 32 raw bytes). Errors never quote the key."""
    text = _key_text(value)
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError("is not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("is a PEM private key, but not an Ed25519 one")
        if not _pem_is_exactly(text, key):
            # Older cryptography releases read past bytes that do not belong to the key.
            raise ValueError("is not an unencrypted PEM private key")
        return key
    raw = _raw32(text)
    if raw is None:
        raise ValueError(
            "is not an Ed25519 private key: give a PEM key, its 32 bytes in hex or base64, "
            "or file:PATH"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key: bytes) -> str:
    """A public key's fingerprint: ``SHA256:`` and the base64 of the SHA-256 of its 32 bytes."""
    digest = hashlib.sha256(public_key).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def trusted_key_id(value: str) -> str:
    """The key id a caller trusts: a key id (``SHA256:...``) as it is, or that of a public
    key given as PEM, its 32 bytes in hex or base64, or ``file:PATH`` of either."""
    text = value.strip()
    if text.startswith("SHA256:"):
        return text
    text = _key_text(text)
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError("is not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("is a PEM public key, but not an Ed25519 one")
        return key_id_of(public_bytes(key))
    raw = _raw32(text)
    if raw is None:
        raise ValueError(
            "is not an Ed25519 public key: give its key id (SHA256:...), a PEM key, its 32 "
            "bytes in hex or base64, or file:PATH"
        )
    return key_id_of(raw)


# Checkpoints, pure.


def signed_message(position: int, head: str, signed_at: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return f"{FORMAT}\nposition: {position}\nhead: {head}\nsigned_at: {signed_at}\n".encode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the log's length and chain hash at one time."""

    position: int
    head: str
    signed_at: str  # RFC 3339, UTC, microseconds
    public_key: str  # base64 of the 32-byte Ed25519 public key
    signature: str  # base64 of the 64-byte signature

    @property
    def key_id(self) -> str:
        return key_id_of(base64.b64decode(self.public_key))

    def message(self) -> bytes:
        return signed_message(self.position, self.head, self.signed_at)

    def signature_valid(self) -> bool:
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))
            key.verify(base64.b64decode(self.signature), self.message())
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    def to_json(self) -> JSON:
        return {
            "format": FORMAT,
            "position": self.position,
            "head": self.head,
            "signed_at": self.signed_at,
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: object) -> Checkpoint:
        """A checkpoint as ``to_json`` writes it; ``InvalidInput`` names a bad field.

        The signature is not checked here (``signature_valid``).
        """
        if not isinstance(data, Mapping):
            raise InvalidInput("checkpoint", "must be a JSON object")
        if data.get("format") != FORMAT:
            raise InvalidInput("format", f"must be {FORMAT!r}")
        if data.get("algorithm", ALGORITHM) != ALGORITHM:
            raise InvalidInput("algorithm", f"must be {ALGORITHM!r}")
        position = data.get("position")
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise InvalidInput("position", "must be a whole number, 0 or more")
        head = data.get("head")
        if not isinstance(head, str) or not _HEAD.fullmatch(head):
            raise InvalidInput("head", "must be 64 lower-case hexadecimal digits")
        signed_at = data.get("signed_at")
        if not isinstance(signed_at, str) or not signed_at:
            raise InvalidInput("signed_at", "must be the time the checkpoint was signed")
        public_key = _base64_field(data, "public_key", 32)
        signature = _base64_field(data, "signature", 64)
        checkpoint = cls(position, head, signed_at, public_key, signature)
        key_id = data.get("key_id")
        if key_id is not None and key_id != checkpoint.key_id:
            raise InvalidInput("key_id", f"is not the id of public_key ({checkpoint.key_id})")
        return checkpoint


def _base64_field(data: Mapping[str, Any], name: str, size: int) -> str:
    value = data.get(name)
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise InvalidInput(name, f"must be {size} bytes in base64")
    return base64.b64encode(raw).decode()


class Signer:
    """Signs checkpoints with one Ed25519 private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = base64.b64encode(public_bytes(private_key.public_key())).decode()
        self.key_id = key_id_of(public_bytes(private_key.public_key()))

    def sign(self, position: int, head: str, signed_at: str | None = None) -> Checkpoint:
        at = signed_at or format_instant(now())
        signature = self._key.sign(signed_message(position, head, at))
        return Checkpoint(position, head, at, self.public_key, base64.b64encode(signature).decode())

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"


class KeySettings(Protocol):
    """What ``signer_for`` reads of the settings (``ledger.config.Settings``, which reads
    the key through this module, so this module does not import it)."""

    @property
    def signing_key(self) -> Any: ...


def signer_for(settings: KeySettings) -> Signer | None:
    """The signer of the configured key (``Settings.signing_key``), or None without one."""
    if settings.signing_key is None:
        return None
    return _signer(settings.signing_key.get_secret_value())


@functools.lru_cache(maxsize=4)
def _signer(value: str) -> Signer:
    return Signer(load_private_key(value))


# Checkpoints, on the store.


#: The in-memory store's checkpoints, and the SQL stores whose table exists, by recorder.
_memory: weakref.WeakKeyDictionary[Any, list[Checkpoint]] = weakref.WeakKeyDictionary()
_created: weakref.WeakSet[Any] = weakref.WeakSet()
_guard = threading.Lock()


class CheckpointTable:
    """The checkpoints the service signed: ``<events>_checkpoints`` beside the log (a list
    in memory for the in-memory store). Every row carries its own signature: a row that
    does not verify is never used."""

    def __init__(self, store: LedgerApplication) -> None:
        recorder: Any = store.recorder
        self.recorder = recorder
        self.sql = isinstance(recorder, IndexReads)
        if self.sql:
            index = recorder.index
            self.table = index.log.removesuffix("_log") + "_checkpoints"
            self.mark = index.sql("?")
        elif not isinstance(recorder, POPOLedgerRecorder):
            raise SigningNotConfigured("this store cannot keep checkpoints")

    def newest(self, key_id: str | None = None, limit: int = 1) -> list[Checkpoint]:
        """The newest checkpoints (by position, then time), of one key or of any."""
        if not self.sql:
            with _guard:
                kept = list(_memory.get(self.recorder, []))
            mine = [c for c in kept if key_id is None or c.key_id == key_id]
            return sorted(mine, key=lambda c: (c.position, c.signed_at), reverse=True)[:limit]
        self._create()
        where = f" WHERE key_id = {self.mark}" if key_id is not None else ""
        with self.recorder.reading() as cursor:
            cursor.execute(
                "SELECT position, head, signed_at, public_key, signature FROM "
                f"{self.table}{where} ORDER BY position DESC, signed_at DESC "
                f"LIMIT {int(limit)}",
                (key_id,) if key_id is not None else (),
            )
            rows = cursor.fetchall()
        return [
            Checkpoint(
                int(row["position"]),
                str(row["head"]),
                str(row["signed_at"]),
                str(row["public_key"]),
                str(row["signature"]),
            )
            for row in rows
        ]

    def add(self, checkpoint: Checkpoint) -> None:
        if not self.sql:
            with _guard:
                _memory.setdefault(self.recorder, []).append(checkpoint)
            return
        self._create()
        marks = ", ".join([self.mark] * 6)
        with self.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (key_id, position, signed_at, head, public_key, "
                f"signature) VALUES ({marks}) ON CONFLICT DO NOTHING",
                (
                    checkpoint.key_id,
                    checkpoint.position,
                    checkpoint.signed_at,
                    checkpoint.head,
                    checkpoint.public_key,
                    checkpoint.signature,
                ),
            )

    def _create(self) -> None:
        with _guard:
            if self.recorder in _created:
                return
        statement = (
            f"CREATE TABLE IF NOT EXISTS {self.table} (key_id TEXT NOT NULL, "
            "position BIGINT NOT NULL, signed_at TEXT NOT NULL, head TEXT NOT NULL, "
            "public_key TEXT NOT NULL, signature TEXT NOT NULL, "
            "PRIMARY KEY (key_id, position, signed_at))"
        )
        for attempt in (1, 2):
            try:
                with self.recorder.datastore.transaction(commit=True) as cursor:
                    cursor.execute(statement)
                break
            except Exception:
                # Two processes creating the table at once: PostgreSQL may refuse the
                # second; the table is there when it is tried again.
                if attempt == 2:
                    raise
        with _guard:
            _created.add(self.recorder)


_signing: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_signing_guard = threading.Lock()


class Checkpoints:
    """Sign, keep and read checkpoints of one store's log."""

    def __init__(self, store: LedgerApplication, signer: Signer | None = None) -> None:
        self.store = store
        self.signer = signer
        self.table = CheckpointTable(store)

    @store_errors
    def latest(self) -> Checkpoint | None:
        """The newest checkpoint kept whose signature is valid (of any key), or None."""
        for checkpoint in self.table.newest(limit=_BASES):
            if checkpoint.signature_valid():
                return checkpoint
        return None

    @store_errors
    def sign(self) -> Checkpoint:
        """Recompute the chain up to the log's head, sign the head, keep and return it.

        Raises ``SigningNotConfigured`` without a key, ``CheckpointRefused`` if the log is
        broken or no longer holds the head of the latest checkpoint this key signed.
        """
        if self.signer is None:
            raise SigningNotConfigured(SIGNING_NOT_CONFIGURED)
        with _signing_guard:
            lock = _signing.setdefault(self.store.recorder, threading.Lock())
        with lock:
            walk = self._walk_from_base(self.signer)
            checkpoint = self.signer.sign(walk.last_position, walk.head)
            self.table.add(checkpoint)
            return checkpoint

    def _walk_from_base(self, signer: Signer) -> ChainWalk:
        base = next(
            (c for c in self.table.newest(signer.key_id, _BASES) if c.signature_valid()), None
        )
        if base is None:
            walk = walk_chain(self.store)
        else:
            if base.position > 0:
                at = self.store.index.log_entries(base.position - 1, 1)
                if not at or at[0].position != base.position or at[0].hash != base.head:
                    raise CheckpointRefused(
                        f"the log no longer holds the head of the checkpoint this key signed "
                        f"at position {base.position} ({base.signed_at}): it was cut short "
                        "or rewritten; nothing was signed (run `claims-ledger verify "
                        "--against` with a checkpoint kept elsewhere)"
                    )
            walk = walk_chain(self.store, after=base.position, previous=base.head)
        if walk.broken_at is not None:
            raise CheckpointRefused(
                f"the log is broken at position {walk.broken_at}: {walk.reason}; "
                "nothing was signed"
            )
        return walk


#: What ``verify_against`` names when the log does not extend a checkpoint.
PROBLEMS = ("signature", "truncated", "rewritten", "forked")


def compare(checkpoint: Checkpoint, walk: ChainWalk, trusted: Collection[str] = ()) -> JSON:
    """Whether the chain ``walk`` recomputed extends ``checkpoint``, and if not, why:

    - ``signature``: the signature is not valid, or is by a key not in ``trusted``;
    - ``truncated``: the log ends before the checkpoint's position;
    - ``rewritten``: the stored log no longer matches its own chain at or before that
      position (bytes changed, an event removed or inserted);
    - ``forked``: the log is consistent, but its chain hash at that position is not the
      checkpoint's (or it has no event there, though it goes on): its history up to
      there was replaced (and hashed again), or it is another ledger.
    """
    position = checkpoint.position
    answer: JSON = {
        "position": position,
        "head": checkpoint.head,
        "signed_at": checkpoint.signed_at,
        "key_id": checkpoint.key_id,
        "extended": False,
        "problem": None,
        "reason": None,
    }

    def refused(problem: str, reason: str) -> JSON:
        return answer | {"problem": problem, "reason": reason}

    if not checkpoint.signature_valid():
        return refused("signature", "the checkpoint's signature is not valid for its key")
    if trusted and checkpoint.key_id not in trusted:
        return refused(
            "signature",
            f"the checkpoint is signed by key {checkpoint.key_id}, not by the key trusted "
            f"({', '.join(sorted(trusted))})",
        )
    if walk.broken_at is not None and walk.broken_at <= position:
        return refused(
            "rewritten",
            f"the log was changed at position {walk.broken_at}, at or before the "
            f"checkpoint's position {position}: {walk.reason}",
        )
    if position not in walk.hashes:
        if walk.last_position < position:
            return refused(
                "truncated",
                f"the log ends at position {walk.last_position}, before the checkpoint's "
                f"position {position}: events were removed",
            )
        return refused(
            "forked",
            f"the log has no event at position {position}, though it goes on to position "
            f"{walk.last_position}: its history was replaced",
        )
    if walk.hashes[position] != checkpoint.head:
        return refused(
            "forked",
            f"the log's chain hash at position {position} is {walk.hashes[position]}, not "
            f"the checkpoint's {checkpoint.head}: its history up to there was replaced "
            "and hashed again, or this is another ledger",
        )
    return answer | {"extended": True}


def verify_against(
    store: LedgerApplication, checkpoint: Checkpoint, trusted: Collection[str] = ()
) -> JSON:
    """``verify``'s answer, with ``checkpoint``: whether the log extends it (one pass).

    ``ok`` holds only if both the log verifies and it extends the checkpoint.
    """
    result = audit(store, marks={checkpoint.position})
    found = compare(checkpoint, result.walk, trusted)
    return result.report | {
        "ok": bool(result.report["ok"]) and bool(found["extended"]),
        "checkpoint": found,
    }
