"""The credibility model versions, as the faces (HTTP, CLI) name them.

The registry itself is ``ledger.credibility.registry``; this module is its public face,
so callers outside the engine need not know the engine's layout.
"""

from ledger.credibility.registry import (
    DEFAULT,
    PROJECTED,
    VERSIONS,
    ModelVersion,
    listing,
    register,
    unregister,
    version,
)

__all__ = [
    "DEFAULT", "PROJECTED", "VERSIONS", "ModelVersion", "listing", "register",
    "unregister", "version",
]
