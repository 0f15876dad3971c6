"""Events in words a reader can check: who said it (by name), when, in what words, and
what it did to the number, with event ids replaced by "#20 NIS, 18 Oct 2024" (the id kept
in a link's title)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

from api.routes.ui.render import day, points, when
from ledger.likelihood import band_for
from ledger.statements import EVIDENCE_LABELS

EVENT_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
#: An id as a reason names it, with the date the reason may add (the name has it already).
NAMED = re.compile(EVENT_ID.pattern + r"(?: of \d{4}-\d{2}-\d{2})?")


class EventNames:
    """Each known event's short name, "#20 NIS, 18 Oct 2024", to put where an id was."""

    def __init__(
        self, events: Iterable[Mapping[str, Any]], sources: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.names: dict[str, str] = {}
        for event in events:
            source = sources.get(event.get("source") or "")
            who = source["name"] if source is not None else (event.get("source") or "the ledger")
            self.names[event["event_id"]] = (
                f"#{event['position']} {who}, {day(event['occurred_at'])}"
            )

    def plain(self, text: str) -> str:
        """The text with each known event's id replaced by its name (for a tooltip)."""
        return NAMED.sub(lambda m: self._name(m.group(0)), text)

    def _name(self, found: str) -> str:
        return self.names.get(found[:36], found)

    def linked(self, text: str) -> Markup:
        """The text, escaped, with each known event's id a link named by the event."""
        parts: list[str] = []
        last = 0
        for found in NAMED.finditer(text):
            parts.append(escape(text[last:found.start()]))
            event_id = found.group(0)[:36]
            if event_id in self.names:
                parts.append(Markup('<a class="event-ref" href="#event-{0}" title="event {0}">'
                                    "{1}</a>").format(event_id, self.names[event_id]))
            else:
                parts.append(Markup('<span class="id">{0}</span>').format(found.group(0)))
            last = found.end()
        parts.append(escape(text[last:]))
        return Markup("").join(parts)


def likelihood_words(event: Mapping[str, Any]) -> str:
    if event.get("likelihood") is None:
        return ""
    value = float(event["likelihood"])
    phrase = event.get("likelihood_phrase")
    words = f"{band_for(value)} ({value:g})"
    return f"“{phrase}”: {words}" if phrase and phrase != band_for(value) else words


def tip(
    event: Mapping[str, Any],
    source: Mapping[str, Any] | None,
    contribution: Mapping[str, Any] | None,
    as_of: str,
    names: EventNames,
) -> str:
    """What a marker says: who, what, in what words, and what it did to the number."""
    who = event["source"]
    if source is not None:
        who = f"{source['name']} ({event['source']}; "
        who += "".join(f"{code}, " for code in source.get("affiliations", []))
        who += f"reliability {source['reliability']})"
    lines = [f"{day(event['occurred_at'])}: {event['type']} by {who}"]
    words = likelihood_words(event)
    if words:
        confidence = event.get("confidence") or "not stated"
        lines.append(f"Likelihood: {words}; confidence {confidence}")
    if event.get("outcome"):
        lines.append(f"Outcome: {event['outcome']}; basis: {event.get('basis', '')}")
    if event.get("evidence"):
        lines.append(f"Evidence: {EVIDENCE_LABELS[event['evidence']]}")
    if event.get("quote"):
        lines.append(f"“{event['quote']}”")
    elif event.get("summary"):
        lines.append(f"Summary: {event['summary']}")
    if event.get("supersedes"):
        verb = "withdraws" if event["type"] == "retracted" else "corrects"
        lines.append(f"{verb.capitalize()} {names.plain(event['supersedes'])}")
    if contribution is not None:
        lines.append(f"Contribution as of {day(as_of)}: moved the probability"
                     f" {points(contribution['delta'])} on arrival; weighs"
                     f" {contribution['log_odds']:+.2f} log-odds in the pool now."
                     f" {names.plain(contribution['reason'])}")
    elif event["occurred_at"] > as_of:
        lines.append(f"Not counted as of {day(as_of)}: it occurred after that")
    else:
        lines.append(f"No contribution of its own as of {day(as_of)}")
    lines.append(f"Recorded {when(event['recorded_at'])} by {event['actor']} "
                 f"(#{event['position']})")
    return "\n".join(lines)
