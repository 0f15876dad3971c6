"""Web view fixtures: the article in a ledger, one later append, and a page reader."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article

TROOPS = "nk-troops-for-russia"
NIS_18_OCTOBER = {
    "type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-18",
    "likelihood": "almost certain", "confidence": "high",
    "summary": "North Korea has sent about 1,500 special forces troops to Russia.",
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return " ".join(
            " ".join((c if isinstance(c, str) else c.text()).split()) for c in self.children
        ).strip()

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def all(self, tag: str | None = None, cls: str | None = None, **data: str) -> list[Node]:
        """Descendants with this tag, class and data-* attributes (names with _ for -)."""
        return [
            n for n in self.walk()
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
            and all(n.attrs.get(f"data-{k.replace('_', '-')}") == v for k, v in data.items())
        ]

    def one(self, tag: str | None = None, cls: str | None = None, **data: str) -> Node:
        found = self.all(tag, cls, **data)
        assert len(found) == 1, (tag, cls, data, len(found))
        return found[0]

    def by_id(self, ident: str) -> Node:
        (found,) = [n for n in self.walk() if n.attrs.get("id") == ident]
        return found

    def data(self, name: str) -> str:
        return self.attrs[f"data-{name}"]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass
class Article:
    client: TestClient
    ledger: ClaimsLedger
    #: the recording time of the last event before the test's append, and of the append
    before_append: str
    appended_at: str

    def page(self, path: str, **params: Any) -> Node:
        answer = self.client.get(path, params={k: v for k, v in params.items() if v is not None})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        return parse(answer.text)

    def api(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params={k: v for k, v in params.items() if v is not None})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def article(settings: Settings, ledger: ClaimsLedger) -> Iterator[Article]:
    """The article's events, then the NIS's 18 October assessment appended later."""
    load_article(ledger, actor="example-data")
    with TestClient(create_app(settings, ledger)) as client:
        before = client.get(f"/claims/{TROOPS}/events").json()["events"][-1]["recorded_at"]
        appended = client.post(f"/claims/{TROOPS}/events", json=NIS_18_OCTOBER)
        assert appended.status_code == 201, appended.text
        yield Article(client, ledger, before, appended.json()["recorded_at"])
