"""Webhooks go to public addresses only (ledger.egress): refused when a watch is set, and
checked again at each delivery on the address connected to (a name may resolve elsewhere
later), unless the settings allow private addresses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from ledger.application import ClaimsLedger
from ledger.egress import address_refusal, url_refusal
from ledger.errors import InvalidInput
from ledger.watchdesk import Watches
from ledger.webhooks import Policy, deliver_due

from .helpers import claim, say, source


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.7", "private"),
    ("192.168.1.1", "private"), ("172.16.0.1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("0.0.0.0", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "public"),
])
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    refused = address_refusal(address)
    assert refused is not None and kind in refused


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_not(address: str) -> None:
    assert address_refusal(address) is None


def test_a_url_is_judged_by_what_its_host_resolves_to() -> None:
    assert "loopback" in str(url_refusal("http://localhost:8080/hook"))
    assert "loopback" in str(url_refusal("http://127.0.0.1/hook"))
    assert url_refusal("https://93.184.215.14/hook") is None  # a public address literal
    assert url_refusal("http://:80/") == "has no host"


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _firing_watch(ledger: ClaimsLedger, watches: Watches, url: str) -> str:
    source(ledger, "nis", reliability="B")
    claim(ledger, "troops")
    made = watches.create({"condition": {"kind": "band"}, "scope": {"claim": "troops"},
                           "url": url}, "ana")
    say(ledger, "troops", "assessed", "nis", "2024-10-18", likelihood="almost certain")
    assert watches.scan() == 1
    return str(made["id"])


def test_a_private_url_is_refused_when_set_and_nothing_is_stored(
    ledger: ClaimsLedger, receiver: str
) -> None:
    claim(ledger, "troops")
    watches = Watches(ledger)
    with pytest.raises(InvalidInput) as refused:
        watches.create({"condition": {"kind": "band"}, "scope": {"claim": "troops"},
                        "url": receiver}, "ana")
    assert refused.value.field == "url" and "loopback" in refused.value.detail
    assert watches.list_watches()["data"] == []


def test_delivery_checks_the_address_again(ledger: ClaimsLedger, receiver: str) -> None:
    """A watch set while the name resolved to a public address (here: set with private
    addresses allowed) is refused at delivery once it resolves to a private one: no
    request reaches the receiver."""
    watches = Watches(ledger, allow_private=True)
    watch_id = _firing_watch(ledger, watches, receiver)
    # The dispatcher's policy: private addresses not allowed.
    assert deliver_due(watches, Policy(retry_seconds=3600, timeout=5)) == 1
    (delivery,) = watches.deliveries(watch_id)["data"]
    assert delivery["status"] == "retrying" and delivery["last_status"] is None
    assert delivery["last_error"].startswith("refused:") and "loopback" in delivery["last_error"]
    assert _Receiver.received == []


def test_with_private_addresses_allowed_the_receiver_gets_it(
    ledger: ClaimsLedger, receiver: str
) -> None:
    watches = Watches(ledger, allow_private=True)
    watch_id = _firing_watch(ledger, watches, receiver)
    assert deliver_due(watches, Policy(timeout=5, allow_private=True)) == 1
    (delivery,) = watches.deliveries(watch_id)["data"]
    assert delivery["status"] == "delivered" and delivery["last_status"] == 200
    assert _Receiver.received == ["/hook"]
