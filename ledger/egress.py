"""Where webhooks may go: public addresses only, unless the operator allows private ones.

A watch's URL is chosen by whoever may set watches; without a check, the server would POST
to whatever that URL names: its own loopback services, the cloud's metadata address
(169.254.169.254), the private network behind it. So a URL whose host is, or resolves to,
an address that is not globally routable (loopback, private, link-local, shared, multicast,
reserved, unspecified; IPv4-mapped IPv6 addresses are judged as their IPv4 address) is
refused when the watch is set, and checked again at each delivery, on the address the
connection is actually made to (a name that resolved to a public address when the watch
was set may resolve elsewhere later: DNS rebinding). ``Settings.webhook_allow_private``
turns the check off (receivers on the same machine or network, as in the tests).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from typing import Any
from urllib.parse import urlsplit


class RefusedAddress(OSError):
    """A webhook's host is, or resolves to, an address webhooks may not reach."""


def address_refusal(address: str) -> str | None:
    """Why webhooks may not reach ``address`` (an IP address), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return f"{ip} is a {kind.replace('_', '-')} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def url_refusal(url: str) -> str | None:
    """Why a watch may not POST to ``url``: its host is, or resolves to, an address that is
    not public. A name that does not resolve now is not refused here (each delivery checks
    the address it connects to)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "has no host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None
    for *_, sockaddr in found:
        refused = address_refusal(str(sockaddr[0]))
        if refused is not None:
            return f"names {host!r}, which resolves to a non-public address ({refused})"
    return None


def _public_connection(address: tuple[str, int], timeout: Any = None,
                       source_address: Any = None, **options: Any) -> socket.socket:
    """``socket.create_connection``, to public addresses only (each address the name
    resolves to is checked, and the connection is made to the address checked)."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port,
                                                               type=socket.SOCK_STREAM):
        refused = address_refusal(str(sockaddr[0]))
        if refused is not None:
            raise RefusedAddress(f"{host} resolves to a non-public address ({refused})")
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as failed:
            sock.close()
            error = failed
    raise error or OSError(f"{host} resolves to no address")


class _PublicHTTP(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPS(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _public_connection


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTP, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_PublicHTTPS, req, context=self._context)  # type: ignore[attr-defined]


def opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """A urllib opener for webhooks: public addresses only unless ``allow_private`` (a
    redirect to a private address is refused the same way). No proxy: the check is of the
    receiver's address."""
    handlers: list[Any] = [urllib.request.ProxyHandler({})]
    if not allow_private:
        handlers += [_PublicHTTPHandler(), _PublicHTTPSHandler()]
    return urllib.request.build_opener(*handlers)
