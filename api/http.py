"""Small HTTP helpers: ETags and content negotiation."""

from __future__ import annotations


def etag(version: int) -> str:
    """A claim's ETag: its version, as a strong entity tag (``"5"``)."""
    return f'"{version}"'


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if kind:
            ranges.append((kind.lower(), q))
    return ranges


def quality(accept: str | None, media_type: str) -> tuple[float, int]:
    """How much ``accept`` wants ``media_type``: (q, specificity of the range that matched)."""
    if not accept:
        return (1.0, 0)
    main = media_type.split("/")[0]
    best: tuple[int, float] | None = None
    for kind, q in _ranges(accept):
        specificity = {media_type: 3, f"{main}/*": 2, "*/*": 1}.get(kind, 0)
        if specificity and (best is None or specificity > best[0]):
            best = (specificity, q)
    return (0.0, 0) if best is None else (best[1], best[0])


def choose(accept: str | None, offered: tuple[str, ...]) -> str | None:
    """The offered type the client prefers (ties: the more explicit match, then the first
    offered); None if it accepts none of them."""
    scored = [(quality(accept, kind), -i, kind) for i, kind in enumerate(offered)]
    (q, _), _, kind = max(scored)
    return kind if q > 0 else None
