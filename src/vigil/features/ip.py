"""IP address features: what kind of address it is, and what threat intelligence says.

Raw octets are deliberately not features: a tree would memorise address blocks of the
training data, which age in weeks. Address properties (private, reserved, global ...)
and intelligence relations (a listed enclosing network, listed neighbours) generalise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil._types import as_string_array
from vigil.features.base import FeatureMatrix, FeatureSpec, exactly_listed
from vigil.features.entities import IPAddress, parse_ip

if TYPE_CHECKING:
    from vigil._types import StringColumn

__all__ = ["FEATURE_NAMES", "IPExtractor", "IPHits", "IntelView"]

_FEATURES_VERSION = "1"

_PROPERTIES = (
    "ip:v6",
    "ip:ipv4_mapped",
    "ip:private",
    "ip:global",
    "ip:reserved",
    "ip:loopback",
    "ip:multicast",
    "ip:link_local",
    "ip:unspecified",
    "ip:shared",
    "ip:tunnel",
)
_INTEL = ("intel:cidr_sources", "intel:cidr_prefix", "intel:neighbours", "intel:kinds_hit")
FEATURE_NAMES: tuple[str, ...] = (*_PROPERTIES, *_INTEL)
_GROUPS = {"address properties": _PROPERTIES, "threat intelligence": _INTEL}


class IPHits(Protocol):
    """What threat intelligence says about each of a batch of addresses."""

    @property
    def exact_sources(self) -> pa.Array:
        """list<string>: sources listing exactly this address."""
        ...

    @property
    def cidr_sources(self) -> NDArray[np.int32]:
        """Sources listing a network that holds the address."""
        ...

    @property
    def cidr_prefix(self) -> NDArray[np.int32]:
        """Longest listed prefix holding the address; -1 for none."""
        ...

    @property
    def neighbours(self) -> NDArray[np.int32]:
        """Other listed addresses in the same /24 (IPv4) or /64 (IPv6)."""
        ...


class IntelView(Protocol):
    """A snapshot of threat intelligence that looks addresses up in bulk."""

    @property
    def fingerprint(self) -> str: ...

    def ip_hits(self, ips: pa.Array) -> IPHits: ...


def _properties(address: IPAddress) -> tuple[float, ...]:
    """The property columns of one address; an IPv4-mapped one is judged by its IPv4."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    judged: IPAddress = mapped if mapped is not None else address
    tunnel = isinstance(address, ipaddress.IPv6Address) and (
        address.sixtofour is not None or address.teredo is not None
    )
    # 100.64.0.0/10 (carrier-grade NAT) is neither private nor global
    shared = not judged.is_private and not judged.is_global
    return tuple(
        float(flag)
        for flag in (
            address.version == 6,
            mapped is not None,
            judged.is_private,
            judged.is_global,
            judged.is_reserved,
            judged.is_loopback,
            judged.is_multicast,
            judged.is_link_local,
            judged.is_unspecified,
            shared,
            tunnel,
        )
    )


@dataclass(frozen=True)
class _Batch:
    """Distinct valid addresses of a batch (canonical text) and each input row's index."""

    addresses: list[IPAddress]
    canonical: pa.Array  # large_string
    row_address: NDArray[np.int64]  # -1 where null or not an address

    @property
    def valid(self) -> NDArray[np.bool_]:
        return self.row_address >= 0

    @property
    def take_index(self) -> pa.Array:
        return pa.array(self.row_address, mask=~self.valid)

    @classmethod
    def of(cls, values: StringColumn) -> _Batch:
        array = as_string_array(values)
        encoded = pc.dictionary_encode(array)
        raw_index = np.asarray(pc.fill_null(encoded.indices, -1), dtype=np.int64)
        # per distinct value: ipaddress parses (IPv6, zones, ports) in Python
        parsed = [parse_ip(v) for v in encoded.dictionary.to_pylist()]
        seen: dict[IPAddress, int] = {}
        address_of_raw = np.full(len(parsed) + 1, -1, dtype=np.int64)
        for i, address in enumerate(parsed):
            if address is not None:
                address_of_raw[i] = seen.setdefault(address, len(seen))
        addresses = list(seen)
        canonical = pa.array([str(a) for a in addresses], type=pa.large_string())
        return cls(addresses, canonical, address_of_raw[raw_index])

    def broadcast(self, per_address: NDArray[Any], fill: float = 0.0) -> NDArray[Any]:
        out = np.full(
            (len(self.row_address), *per_address.shape[1:]), fill, dtype=per_address.dtype
        )
        valid = self.valid
        out[valid] = per_address[self.row_address[valid]]
        return out


class IPExtractor:
    """Features of IP addresses for a tree model; needs no fitted state.

    Args:
        intel: a threat-intelligence view; its columns are zero without one.
    """

    name = "ip"
    occlusion_fill = 0.0

    def __init__(self, intel: IntelView | None = None) -> None:
        self.intel = intel

    @cached_property
    def spec(self) -> FeatureSpec:
        return FeatureSpec(self.name, _FEATURES_VERSION, FEATURE_NAMES, {"neighbourhood": "24/64"})

    def feature_groups(self) -> Mapping[str, tuple[int, ...]]:
        position = {name: i for i, name in enumerate(FEATURE_NAMES)}
        return {g: tuple(position[n] for n in names) for g, names in _GROUPS.items()}

    def with_intel(self, intel: IntelView | None) -> IPExtractor:
        return IPExtractor(intel)

    def transform(self, values: StringColumn) -> FeatureMatrix:
        batch = _Batch.of(values)
        per_address, hits = self._features(batch)
        listed = None if hits is None else batch.broadcast(exactly_listed(hits), fill=False)
        return FeatureMatrix(batch.broadcast(per_address), FEATURE_NAMES, batch.valid, listed)

    def _features(self, batch: _Batch) -> tuple[NDArray[np.float32], IPHits | None]:
        """Features of distinct addresses, and the intel hits they came from (None without)."""
        out = np.zeros((len(batch.addresses), len(FEATURE_NAMES)), dtype=np.float32)
        hits = None
        if not batch.addresses:
            return out, hits
        # per distinct address: the flags are ipaddress properties
        out[:, : len(_PROPERTIES)] = [_properties(a) for a in batch.addresses]
        if self.intel is not None:
            hits = self.intel.ip_hits(batch.canonical)
            bits = np.asarray([32 if a.version == 4 else 128 for a in batch.addresses])
            out[:, len(_PROPERTIES) :] = _intel_columns(hits, bits)
        return out, hits

    @property
    def feature_table_type(self) -> pa.StructType:
        fields = [pa.field("ip", pa.string())]
        fields += [pa.field(n.replace(":", "_"), pa.float32()) for n in FEATURE_NAMES]
        return pa.struct(fields)

    def feature_table(self, values: StringColumn) -> pa.StructArray:
        """Per input: the canonical address and every feature; null where not an address."""
        batch = _Batch.of(values)
        matrix = batch.broadcast(self._features(batch)[0])
        columns = [pc.cast(batch.canonical.take(batch.take_index), pa.string())]
        columns += [pa.array(matrix[:, i]) for i in range(matrix.shape[1])]
        return pa.StructArray.from_arrays(
            columns, fields=list(self.feature_table_type), mask=pa.array(~batch.valid)
        )

    def listed(self, values: StringColumn) -> NDArray[np.bool_]:
        """True where intelligence lists the address itself (and no allow source does)."""
        batch = _Batch.of(values)
        if self.intel is None or not batch.addresses:
            return np.zeros(len(batch.row_address), dtype=bool)
        return batch.broadcast(exactly_listed(self.intel.ip_hits(batch.canonical)), fill=False)

    def indicators(self, values: StringColumn) -> pa.Array:
        """Per input, readable facts (``listed:<source>``, ``private``...); null if invalid."""
        batch = _Batch.of(values)
        per_address: list[list[str]] = [[] for _ in batch.addresses]
        if batch.addresses:
            self._indicators(batch, per_address)
        lists = pa.array(per_address, type=pa.list_(pa.string()))
        return lists.take(batch.take_index)

    def _indicators(self, batch: _Batch, per_address: list[list[str]]) -> None:
        # per distinct address in Python: readable strings, only where something hit
        properties = np.asarray([_properties(a) for a in batch.addresses], dtype=bool)
        for column, name in enumerate(_PROPERTIES):
            if name in ("ip:v6", "ip:global"):
                continue
            for i in np.flatnonzero(properties[:, column]).tolist():
                per_address[i].append(name.removeprefix("ip:").replace("_", "-"))
        if self.intel is None:
            return
        hits = self.intel.ip_hits(batch.canonical)
        sources = hits.exact_sources.to_pylist()
        for i, listed in enumerate(sources):
            per_address[i] += [f"listed:{s}" for s in sorted(set(listed or ()))]
        cidr, prefix = np.asarray(hits.cidr_sources), np.asarray(hits.cidr_prefix)
        for i in np.flatnonzero(cidr > 0).tolist():
            per_address[i].append(f"network-listed:{int(cidr[i])} sources, /{int(prefix[i])}")
        neighbours = np.asarray(hits.neighbours)
        for i in np.flatnonzero(neighbours > 0).tolist():
            per_address[i].append(f"neighbours-listed:{int(neighbours[i])}")
        allowed = getattr(hits, "allowed", None)
        if allowed is not None:
            for i in np.flatnonzero(np.asarray(allowed, dtype=bool)).tolist():
                per_address[i].append("allowlisted")


def _intel_columns(hits: IPHits, bits: NDArray[np.int64]) -> NDArray[np.float32]:
    """Sources, listed prefix as a share of the address width (0: none), neighbours, kinds."""
    cidr = np.asarray(hits.cidr_sources, dtype=np.float32)
    prefix = np.asarray(hits.cidr_prefix, dtype=np.float32)
    neighbours = np.asarray(hits.neighbours, dtype=np.float32)
    kinds = (cidr > 0).astype(np.float32) + (neighbours > 0).astype(np.float32)
    return np.column_stack(
        [cidr, np.where(prefix >= 0, prefix / bits, 0.0), np.log1p(neighbours), kinds]
    ).astype(np.float32)
