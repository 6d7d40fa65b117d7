"""Find the client address of a request that passed through trusted reverse proxies.

Behind nginx or a load balancer every connection comes from the proxy, so the
socket peer address tells nothing about the client. Each proxy appends the address
it received the request from to `X-Forwarded-For`. Only the entries that trusted
proxies appended can be believed: a client can send the header with any content,
and proxies append to it rather than replace it. So the list is read from the
right, skipping trusted proxies, and the first address that is not a trusted proxy
is the client.

`Forwarded` (RFC 7239) is not read; configure the proxy to send `X-Forwarded-For`.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(value: str) -> IPNetwork:
    """Parse one `trusted_proxies` entry: an IP address or a CIDR network.

    Raises `ValueError` naming the value and the fix.
    """
    if not isinstance(value, str):
        raise ValueError(f"trusted_proxies entries must be strings such as \"10.0.0.5\", got {value!r}")
    try:
        return ipaddress.ip_network(value.strip())
    except ValueError as error:
        hint = 'write an address or a network such as "10.0.0.5", "10.0.0.0/8" or "2001:db8::/32"'
        try:
            # Host bits set, e.g. "10.0.0.1/8": name the network the admin probably meant.
            network = ipaddress.ip_network(value.strip(), strict=False)
            hint = f'write the network address "{network}", or the single address without a prefix'
        except ValueError:
            pass
        raise ValueError(f"trusted_proxies: {value!r} is not an IP address or CIDR network ({error}); {hint}") from None


@functools.lru_cache(maxsize=16)
def parse_networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse every `trusted_proxies` entry; cached because each request needs the result."""
    return tuple(parse_network(value) for value in values)


def _address(text: str) -> IPAddress | None:
    """Parse an address as proxies write it: bare, `1.2.3.4:port` or `[v6]:port`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None

    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; one client, one throttle bucket.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """Return the client address for a request from socket peer `peer`.

    `forwarded_for` contains the values of every `X-Forwarded-For` header in the order
    received. With no trusted networks, or a peer outside them, the headers are
    ignored and the peer is the client. Otherwise the rightmost entry that is not a
    trusted proxy is the client. When that entry is not an IP address, the
    nearest trusted proxy that wrote it is returned instead, so a client can never
    pick its own throttling key. When every entry is trusted, the leftmost is the client.
    """
    peer_address = _address(peer)
    if not trusted or peer_address is None or not _is_trusted(peer_address, trusted):
        return str(peer_address) if peer_address is not None else peer

    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    nearest = peer_address
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return str(nearest)
        if not _is_trusted(address, trusted):
            return str(address)
        nearest = address
    return str(nearest)
