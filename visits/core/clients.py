"""Who a client is for counting: the address a request comes from, grouped as one line of
one household or office gets it.

An IPv4 address counts alone. An IPv6 client counts by its /64: a provider hands every
line at least a /64, so the 2^64 addresses in it are one client, not 2^64 fresh budgets.
The address is ``request.remote_addr`` after the trusted proxies' X-Forwarded-For (see
``visits.ops.observability``), so a client cannot pick it."""

from __future__ import annotations

import ipaddress

from flask import request


def client_key(ip: str | None) -> str:
    """What one client is counted as: an IPv4 address, or the /64 of an IPv6 address."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return (ip or "unknown")[:254]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def requesting_client() -> str:
    """The client of the request being handled (the rate limiter's key)."""
    return client_key(request.remote_addr)
