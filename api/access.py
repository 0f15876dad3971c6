"""Access control: API keys as bearer tokens, each with a principal and a role.

The syntax of the key list is checked by ``ledger.config.Settings`` when it loads (so every
entry point refuses a malformed one the same way, with the same message); what a key may do
is decided here, at the HTTP face.

``Settings.api_keys`` holds ``principal:role:token`` entries separated by commas. With no
keys configured every request is allowed and acts as ``local`` (the settings refuse to bind
beyond localhost then). With keys, reading needs ``reader``, writing ``writer``; ``admin``
may do everything. The principal, never a client-supplied field, is the actor recorded on
every event. Tokens are compared in constant time and never logged or echoed.

The web view's sign-in keeps a session, not the key: ``Sessions`` gives a random session
id, kept on the server with the key's principal and role, that lapses after
``SESSION_SECONDS`` and ends on sign-out. The cookie carries the id and an HMAC of it
keyed by the key's own token, so a session holds only while that key is still
configured, and a server worker that did not make the session can still check it (the
workers share the keys, not memory); sign-out ends it on the worker that receives it
and clears the cookie. The raw key is never stored in the browser.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import IntEnum

from pydantic import SecretStr

from ledger.config import API_KEY_ROLES, api_key_entries

LOCAL = "local"
MIN_TOKEN_LENGTH = 16


class Role(IntEnum):
    """Roles in increasing power: each may do what the ones below it may."""

    reader = 1
    writer = 2
    admin = 3


assert tuple(Role.__members__) == API_KEY_ROLES, "the roles the settings accept"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role


@dataclass(frozen=True)
class ApiKey:
    principal: Principal
    token: str = field(repr=False)


class NotAuthenticated(Exception):
    """No bearer token, or one that matches no key."""


class NotAllowed(Exception):
    """The key's role is below what the request needs."""

    def __init__(self, principal: Principal, needed: Role) -> None:
        super().__init__(
            f"principal {principal.name!r} has role {principal.role.name}; "
            f"this request needs {needed.name} or above"
        )


def parse_api_keys(value: SecretStr | None) -> tuple[ApiKey, ...]:
    """Parse ``principal:role:token,...``; errors name the entry by number, not its token."""
    return tuple(
        ApiKey(Principal(entry.principal, Role[entry.role]), entry.token)
        for entry in api_key_entries(value)
    )


class KeyRing:
    """The configured keys; ``authorize`` turns a bearer token into a principal."""

    def __init__(self, keys: tuple[ApiKey, ...]) -> None:
        self.keys = keys

    def weak(self) -> list[str]:
        """Principals whose token is short enough to guess, for a warning at start."""
        return [k.principal.name for k in self.keys if len(k.token) < MIN_TOKEN_LENGTH]

    @property
    def open(self) -> bool:
        return not self.keys

    def authorize(self, token: str | None, needed: Role) -> Principal:
        if self.open:
            return Principal(LOCAL, Role.admin)
        principal = self._find(token) if token else None
        if principal is None:
            raise NotAuthenticated
        if principal.role < needed:
            raise NotAllowed(principal, needed)
        return principal

    def authorize_principal(self, principal: Principal, needed: Role) -> Principal:
        """``authorize`` for a principal already known (a web view session's)."""
        if principal.role < needed:
            raise NotAllowed(principal, needed)
        return principal

    def _find(self, token: str) -> Principal | None:
        found = None
        for key in self.keys:  # check every key, so timing does not tell which one matched
            if hmac.compare_digest(key.token.encode(), token.encode()):
                found = key.principal
        return found


#: How long a web view session lasts from sign-in (then: sign in again).
SESSION_SECONDS = 8 * 3600
#: Sessions ended by sign-out that a process remembers (the oldest are forgotten first;
#: each lapses by itself anyway).
ENDED_KEPT = 10_000


class Sessions:
    """Web view sessions: ``open`` one for a key, ``principal`` of a cookie, ``close`` it.

    The cookie is ``<id>.<expires>.<principal>.<mac>``; the mac is an HMAC-SHA256 of the
    rest, keyed by a digest of the key's token, so it names the key without holding it.
    """

    def __init__(self, keys: KeyRing, seconds: int = SESSION_SECONDS) -> None:
        self.keys = keys
        self.seconds = seconds
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, principal: Principal) -> str:
        """A new session of ``principal`` (who just signed in with a key)."""
        key = self._key_of(principal)
        assert key is not None, "a session is opened only for a configured key"
        body = f"{secrets.token_urlsafe(24)}.{int(time.time()) + self.seconds}.{principal.name}"
        return f"{body}.{self._mac(key, body)}"

    def principal(self, cookie: str | None) -> Principal | None:
        """The principal of a live session, or None (unknown, forged, lapsed, ended, or
        its key no longer configured)."""
        if not cookie or cookie.count(".") < 3:
            return None
        body, _, mac = cookie.rpartition(".")
        session_id, expires, name = body.split(".", 2)
        key = next((k for k in self.keys.keys if k.principal.name == name
                    and hmac.compare_digest(self._mac(k, body), mac)), None)
        if key is None or not expires.isdigit() or int(expires) < time.time():
            return None
        with self._lock:
            if session_id in self._ended:
                return None
        return key.principal

    def close(self, cookie: str | None) -> None:
        """End the session (sign-out)."""
        if self.principal(cookie) is None:
            return
        session_id = str(cookie).split(".", 1)[0]
        with self._lock:
            self._ended[session_id] = None
            while len(self._ended) > ENDED_KEPT:
                self._ended.popitem(last=False)

    def _key_of(self, principal: Principal) -> ApiKey | None:
        return next((k for k in self.keys.keys if k.principal == principal), None)

    @staticmethod
    def _mac(key: ApiKey, body: str) -> str:
        # Keyed by the token's digest, bound to the role too: a key given another role
        # ends its sessions.
        secret = hashlib.sha256(key.token.encode()).digest()
        message = f"{body}|{key.principal.role.name}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()
