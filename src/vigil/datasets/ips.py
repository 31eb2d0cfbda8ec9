"""Labelled IPv4 addresses and netset feeds, generated so the IP risk demo needs no downloads.

Abuse crowds into a few hosting networks, so malicious addresses cluster in some bad /24s and
/16s; a quarter sit in ISP ranges (infected routers and cameras), where only a feed tells them
from their neighbours. Benign addresses spread over ISP and cloud ranges, with the private and
reserved ones every log holds. The network layout is the same for every seed, so tables drawn
with different seeds share their bad neighbourhoods, as a training set and next week's traffic do.

The layout is drawn at random from public address space: a range marked bad here says nothing
about the real network that holds it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil.datasets._names import apportion, check_sizes, draw_distinct

__all__ = [
    "BENIGN_CATEGORY_SHARES",
    "MALICIOUS_CATEGORY_SHARES",
    "IpCategory",
    "NetworkLayout",
    "generate_ips",
    "generate_netset",
    "network_layout",
]

IpCategory = Literal["isp", "cloud", "private", "reserved", "scanner", "bruteforce", "c2", "botnet"]
Pool = Literal["isp", "cloud", "private", "reserved", "bad16", "bad24"]

#: How benign rows divide between kinds of address.
BENIGN_CATEGORY_SHARES: Mapping[IpCategory, float] = {
    "isp": 0.55,
    "cloud": 0.27,
    "private": 0.15,
    "reserved": 0.03,
}
#: How malicious rows divide between kinds of abuse.
MALICIOUS_CATEGORY_SHARES: Mapping[IpCategory, float] = {
    "scanner": 0.35,
    "bruteforce": 0.25,
    "c2": 0.15,
    "botnet": 0.25,
}
#: Where each category's addresses come from: scanners and brute-forcers rent from bad hosting,
#: C2 panels mostly too but some on rented cloud machines, botnets are home connections.
_SOURCES: Mapping[IpCategory, Mapping[Pool, float]] = {
    "isp": {"isp": 1.0},
    "cloud": {"cloud": 1.0},
    "private": {"private": 1.0},
    "reserved": {"reserved": 1.0},
    "scanner": {"bad24": 0.4, "bad16": 0.6},
    "bruteforce": {"bad16": 0.7, "bad24": 0.3},
    "c2": {"bad24": 0.7, "cloud": 0.3},
    "botnet": {"isp": 1.0},
}
#: Private ranges, weighted by how often logs show them rather than by size.
_PRIVATE: Mapping[str, float] = {
    "192.168.0.0/16": 0.4,
    "10.0.0.0/8": 0.4,
    "172.16.0.0/12": 0.15,
    "100.64.0.0/10": 0.05,
}
_RESERVED: Mapping[str, float] = {
    "127.0.0.0/8": 0.3,
    "169.254.0.0/16": 0.25,
    "192.0.2.0/24": 0.1,
    "198.51.100.0/24": 0.1,
    "203.0.113.0/24": 0.1,
    "224.0.0.0/4": 0.1,
    "0.0.0.0/32": 0.01,
    "255.255.255.255/32": 0.01,
}
#: Special-purpose ranges (RFC 6890) no public block may touch.
_SPECIAL = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
    )
)  # fmt: skip
#: Seed of the network layout: fixed, so every table shares it.
_LAYOUT_SEED = 0x1F5E7
#: Share of bad /16s a netset lists whole, as DROP-style lists do; and of bad /24s holding two
#: or more listed addresses that it lists as one /24.
NETSET_WHOLE_16_SHARE = 0.35
NETSET_WHOLE_24_SHARE = 0.7


@dataclass(frozen=True)
class NetworkLayout:
    """The address ranges generated IPs are drawn from."""

    isp: tuple[ipaddress.IPv4Network, ...]
    cloud: tuple[ipaddress.IPv4Network, ...]
    bad16: tuple[ipaddress.IPv4Network, ...]
    bad24: tuple[ipaddress.IPv4Network, ...]
    private: tuple[ipaddress.IPv4Network, ...]
    reserved: tuple[ipaddress.IPv4Network, ...]

    def pool(self, name: Pool) -> tuple[ipaddress.IPv4Network, ...]:
        """The networks of one pool, by name."""
        nets: tuple[ipaddress.IPv4Network, ...] = getattr(self, name)
        return nets


@cache
def network_layout() -> NetworkLayout:
    """The fixed layout: 40 ISP /14s, 20 cloud /13-/15s, 6 bad /16s and 256 bad /24s, disjoint.

    Half the bad /24s sit inside the bad /16s; the rest are lone /24s in otherwise unused /16s,
    as a bad tenant of an ordinary hosting company is.
    """
    rng = np.random.default_rng(_LAYOUT_SEED)
    used: set[int] = set()

    def take(prefixlen: int) -> ipaddress.IPv4Network:
        span = 1 << (16 - prefixlen)  # /16s in the block
        while True:
            first = int(rng.integers(1, 224)) << 8 | int(rng.integers(0, 256)) // span * span
            block = range(first, first + span)
            net = ipaddress.IPv4Network((first << 16, prefixlen))
            if used.isdisjoint(block) and not any(net.overlaps(s) for s in _SPECIAL):
                used.update(block)
                return net

    isp = tuple(take(14) for _ in range(40))
    cloud = tuple(take(p) for p in (13,) * 4 + (14,) * 8 + (15,) * 8)
    bad16 = tuple(take(16) for _ in range(6))
    inside = [
        ipaddress.IPv4Network((int(bad16[k >> 8].network_address) + ((k & 0xFF) << 8), 24))
        for k in sorted(rng.choice(len(bad16) * 256, size=128, replace=False).tolist())
    ]
    lone = [
        ipaddress.IPv4Network(
            (int(take(16).network_address) + (int(rng.integers(0, 256)) << 8), 24)
        )
        for _ in range(128)
    ]
    return NetworkLayout(
        isp=isp,
        cloud=cloud,
        bad16=bad16,
        bad24=tuple(inside + lone),
        private=tuple(ipaddress.IPv4Network(n) for n in _PRIVATE),
        reserved=tuple(ipaddress.IPv4Network(n) for n in _RESERVED),
    )


def _pool_weights(name: Pool, nets: tuple[ipaddress.IPv4Network, ...]) -> NDArray[np.float64]:
    table = {"private": _PRIVATE, "reserved": _RESERVED}.get(name)
    if table is None:
        return np.full(len(nets), 1.0 / len(nets))
    p = np.array([table[str(net)] for net in nets], dtype=np.float64)
    return np.asarray(p / p.sum(), dtype=np.float64)


def _draw(rng: np.random.Generator, name: Pool, n: int) -> NDArray[np.int64]:
    """``n`` addresses (as integers) from one pool; host bits avoid .0 and .255 in big blocks."""
    nets = network_layout().pool(name)
    starts = np.array([int(net.network_address) for net in nets], dtype=np.int64)
    sizes = np.array([net.num_addresses for net in nets], dtype=np.int64)
    which = rng.choice(len(nets), size=n, p=_pool_weights(name, nets))
    ips = starts[which] + (rng.random(n) * sizes[which]).astype(np.int64)
    hosts = rng.integers(1, 255, size=n)
    return np.where(sizes[which] >= 256, (ips & ~0xFF) | hosts, ips)


def _draw_category(rng: np.random.Generator, category: IpCategory, n: int) -> NDArray[np.int64]:
    counts = apportion(n, _SOURCES[category])
    return np.concatenate([_draw(rng, pool, k) for pool, k in counts.items()])


def generate_ips(n: int, *, malicious_share: float = 0.3, seed: int = 0) -> pa.Table:
    """A labelled table of ``n`` distinct IPv4 addresses; the same seed gives the same table.

    Args:
        n: Rows.
        malicious_share: Share of rows labelled 1, exactly ``round(n * malicious_share)``,
            divided as ``MALICIOUS_CATEGORY_SHARES`` says.
        seed: Seed for every random choice (the network layout is fixed).

    Returns:
        Columns ``ip`` (dotted quad), ``label`` (int8: 1 malicious) and ``category`` (a key of
        ``BENIGN_CATEGORY_SHARES`` or ``MALICIOUS_CATEGORY_SHARES``), rows shuffled.

    Raises:
        ValueError: ``n`` is negative, the share is outside [0, 1], or ``n`` is so large a
            category runs out of distinct addresses.
    """
    check_sizes("n", n, malicious_share)
    rng = np.random.default_rng(seed)
    n_malicious = round(n * malicious_share)
    counts = {
        **apportion(n_malicious, MALICIOUS_CATEGORY_SHARES),
        **apportion(n - n_malicious, BENIGN_CATEGORY_SHARES),
    }
    ips, categories = draw_distinct(
        counts,
        lambda category, k: _draw_category(rng, category, k).tolist(),
        lambda ip: ip,
        group="category",
        values="addresses",
    )
    table = pa.table(
        {
            "ip": pa.array(_dotted(np.array(ips, dtype=np.int64)), type=pa.string()),
            "label": pa.array(
                np.array([c in MALICIOUS_CATEGORY_SHARES for c in categories], dtype=np.int8)
            ),
            "category": pa.array(categories, type=pa.string()),
        }
    )
    return table.take(pa.array(rng.permutation(n)))


def _dotted(ips: NDArray[np.int64]) -> list[str]:
    octets = [((ips >> shift) & 0xFF).tolist() for shift in (24, 16, 8, 0)]
    return [f"{a}.{b}.{c}.{d}" for a, b, c, d in zip(*octets, strict=True)]


def generate_netset(
    table: pa.Table, *, share: float = 0.5, seed: int = 0, name: str = "vigil_generated"
) -> str:
    """The text of a FireHOL-style netset naming part of the malicious rows.

    A share of malicious addresses is listed; where the listed ones crowd into a bad /24 the list
    usually names the /24, and some bad /16s are listed whole, as DROP-style lists do, so the
    list also covers malicious rows it never names. It never covers a benign row of ``table``.

    Args:
        table: Rows from ``generate_ips`` (``ip``, ``label``).
        share: Share of malicious rows the list is built from, exactly rounded.
        seed: Seed for every random choice.
        name: The ipset's name in the header.

    Returns:
        A comment header, then one address or ``network/prefix`` a line, sorted.

    Raises:
        ValueError: A share outside [0, 1].
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within [0, 1], got {share}")
    rng = np.random.default_rng(seed)
    labels = np.asarray(table.column("label").to_numpy(zero_copy_only=False))
    ips = table.column("ip").to_pylist()
    malicious = [int(ipaddress.IPv4Address(ips[i])) for i in np.flatnonzero(labels == 1).tolist()]
    chosen = rng.permutation(np.array(malicious, dtype=np.int64))[: round(len(malicious) * share)]
    layout = network_layout()
    entries: list[tuple[int, int]] = []
    remaining = set(chosen.tolist())

    for prefix, nets, share, least in (
        (16, layout.bad16, NETSET_WHOLE_16_SHARE, 1),
        (24, layout.bad24, NETSET_WHOLE_24_SHARE, 2),
    ):
        shift = 32 - prefix
        members: dict[int, set[int]] = {}
        for ip in remaining:
            members.setdefault(ip >> shift, set()).add(ip)
        for net in nets:  # per bad network: list it whole, or leave its addresses as they are
            inside = members.get(int(net.network_address) >> shift, set())
            if len(inside) >= least and rng.random() < share:
                entries.append((int(net.network_address), prefix))
                remaining -= inside
    entries += [(ip, 32) for ip in remaining]
    entries.sort()
    return _render_netset(entries, name)


def _render_netset(entries: list[tuple[int, int]], name: str) -> str:
    singles = sum(1 for _, prefix in entries if prefix == 32)
    covered = sum(1 << (32 - prefix) for _, prefix in entries)
    lines = [
        "#",
        f"# {name}",
        "#",
        "# ipv4 hash:net ipset",
        "#",
        "# Generated by vigil for demos and tests: every address below is drawn at",
        "# random and says nothing about the real network that holds it.",
        "#",
        "# Maintainer      : vigil",
        "# Category        : attacks",
        "# This File Date  : Mon Jun  3 00:00:00 UTC 2024",
        "#",
        f"# This ipset has {len(entries)} entries: {singles} single IPs and "
        f"{len(entries) - singles} subnets, covering {covered} unique IPs.",
        "#",
        "",
    ]
    for start, prefix in entries:
        address = str(ipaddress.IPv4Address(start))
        lines.append(address if prefix == 32 else f"{address}/{prefix}")
    return "\n".join(lines) + "\n"
