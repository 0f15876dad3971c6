"""What a request's query string may hold: the parameters its route declares, each once.

Bodies refuse unknown fields; the query refuses unknown parameters the same way, since one
ignored is a silent mistake (``?as-of=2024-10-12``, the CLI's spelling, would answer today's
values). The refusal names the parameter and, where one is close, the one meant
(``difflib``). A time whose zone's ``+`` came unencoded (a space, in a URL's query) gets a
hint to write ``%2B``. Wired as one app-wide dependency (``query_checks``) by ``api.main``.
"""

from __future__ import annotations

import difflib
import re

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from ledger.errors import InvalidTime

#: Query parameters that hold a time (``api.deps``).
TIME_PARAMETERS = ("as_of", "known_at", "since", "until")
#: A time whose offset follows a space: ``10:00:00 02:00`` was ``10:00:00+02:00``.
_SPACE_FOR_PLUS = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)? ([0-9]{2}:[0-9]{2})$")
#: Why a value of these parameters was refused, in place of the pattern it missed.
PATTERN_REASONS = {
    "cursor": "is not a cursor of this list: pass back the previous page's next_cursor as "
              "it was given (leave cursor out for the first page)",
}


def _query_names(dependant: Dependant) -> frozenset[str]:
    names = {field.alias for field in dependant.query_params}
    return frozenset(names.union(*(_query_names(d) for d in dependant.dependencies)))


def declared(route: APIRoute) -> frozenset[str]:
    """The query parameters ``route`` takes, its dependencies' included (a walk of a few
    dependencies: cheaper than a cache, which routes, unhashable, would need by id)."""
    return _query_names(route.dependant)


def suggestion(name: str, accepted: frozenset[str]) -> str | None:
    """The accepted parameter ``name`` most likely meant, if one is close."""
    spelled = name.strip().lower().replace("-", "_")
    if spelled in accepted:
        return spelled
    close = difflib.get_close_matches(spelled, sorted(accepted), n=1, cutoff=0.6)
    return close[0] if close else None


def known_query_parameters(request: Request) -> None:
    """Every query parameter is one the route declares."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        # The web view's pages (not in the schema) are opened from links, which may carry
        # what browsers and mailers add (?utm_source=...); the API is what clients script.
        return
    accepted = declared(route)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in accepted]
    if not unknown:
        return
    takes = ", ".join(sorted(accepted)) if accepted else "no query parameters"
    errors = []
    for name in unknown:
        meant = suggestion(name, accepted)
        reason = f"is not a query parameter of {request.method} {route.path}"
        reason += f"; did you mean {meant!r}?" if meant else ""
        errors.append({"type": "extra_forbidden", "loc": ("query", name), "input": None,
                       "msg": f"{reason} (it takes {takes})"})
    raise RequestValidationError(errors)


def plus_in_times(request: Request) -> None:
    """A time parameter whose zone's ``+`` arrived as a space is told to write ``%2B``."""
    for name in TIME_PARAMETERS:
        value = request.query_params.get(name)
        found = _SPACE_FOR_PLUS.search(value) if value else None
        if value is not None and found is not None:
            fixed = value[: found.start(1) - 1] + "%2B" + found.group(1)
            raise InvalidTime(
                name,
                f"{value!r} has a space before its zone's offset: a '+' in a URL's query "
                f"means a space, so write it as %2B ({name}={fixed})",
            )


def single_query_values(request: Request) -> None:
    """Every query parameter is given once: each is one value in the schema, and taking one
    of two silently (``?tag=a&tag=b``) would answer another question than the one asked."""
    repeated = sorted({key for key, _ in request.query_params.multi_items()
                       if len(request.query_params.getlist(key)) > 1})
    if repeated:
        raise RequestValidationError([
            {"type": "value_error", "loc": ("query", key), "input": None,
             "msg": "is given more than once; give it once"}
            for key in repeated
        ])


async def query_checks(request: Request) -> None:
    """The app-wide dependency (``api.main``): the query's parameters are the route's
    (``known_query_parameters``), each given once (``single_query_values``), and a time's
    ``+`` came encoded (``plus_in_times``). A request without a query (an append) is
    checked for nothing more."""
    if not request.scope.get("query_string"):
        return
    known_query_parameters(request)
    single_query_values(request)
    plus_in_times(request)
