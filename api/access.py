"""Access control: API keys as bearer tokens, each with a principal and a role.

The syntax of the key list is checked by ``ledger.config.Settings`` when it loads (so every
entry point refuses a malformed one the same way, with the same message); what a key may do
is decided here, at the HTTP face.

``Settings.api_keys`` holds ``principal:role:token`` entries separated by commas. With no
keys configured every request is allowed and acts as ``local`` (the settings refuse to bind
beyond localhost then). With keys, reading needs ``reader``, writing ``writer``; ``admin``
may do everything. The principal, never a client-supplied field, is the actor recorded on
every event. Tokens are compared in constant time and never logged or echoed.
"""

from __future__ import annotations

import hmac
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

    def _find(self, token: str) -> Principal | None:
        found = None
        for key in self.keys:  # check every key, so timing does not tell which one matched
            if hmac.compare_digest(key.token.encode(), token.encode()):
                found = key.principal
        return found
