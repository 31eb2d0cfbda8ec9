"""What the loaded lists say about a column of domains or IP addresses, answered in bulk.

Both indexes are built once per :class:`~vigil.intel.snapshot.IntelSnapshot` and answer a
whole Arrow column per call with numpy searches: no Python loop over rows, list entries or
networks. Sources in the ``allow`` category never count as hits; they set ``allowed``.

Per domain: which sources list exactly this name, how many list a proper ancestor (down to
the registered domain, never a bare public suffix such as ``co.uk``), how many labels up the
nearest listed ancestor is, and how many other listed names share its registered domain.

Per address: which sources list exactly it, how many list a network around it, the longest
such prefix, and how many listed addresses share its /24 (IPv4) or /64 (IPv6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil._types import StringColumn, as_string_array
from vigil.features.entities import ip_to_int
from vigil.intel import _bits
from vigil.intel._ancestors import expand
from vigil.intel._ipkeys import Intervals, Keys, group, make_keys, network_start, sort_unique
from vigil.intel._strings import StringSet
from vigil.intel._suffixes import PublicSuffixes, bundled
from vigil.intel.sources import SourceSnapshot

#: Rows expanded at once: bounds the per-batch matrices (rows x label depth) to a few MB.
_CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class DomainHits:
    """Per input name; null or unusable names give null / 0 / -1 / False."""

    exact_sources: pa.Array  # list<string>: sources listing exactly this name
    parent_sources: NDArray[np.int32]  # sources listing a proper ancestor
    parent_distance: NDArray[np.int32]  # labels up to the nearest listed ancestor, -1 none
    sibling_listed: NDArray[np.int32]  # other listed names under the same registered domain
    allowed: NDArray[np.bool_]  # an allow source lists the name or an ancestor


@dataclass(frozen=True)
class IPHits:
    """Per input address; null or unparseable values give null / 0 / -1 / False."""

    exact_sources: pa.Array  # list<string>: sources listing exactly this address
    cidr_sources: NDArray[np.int32]  # sources listing a network that holds it
    cidr_prefix: NDArray[np.int32]  # longest listed prefix holding it, -1 none
    neighbours: NDArray[np.int32]  # other listed addresses in its /24 (IPv4) or /64 (IPv6)
    allowed: NDArray[np.bool_]  # an allow source lists it or a network holding it


def _split(
    snapshots: Iterable[SourceSnapshot], kind: str
) -> tuple[list[SourceSnapshot], list[SourceSnapshot]]:
    chosen = [s for s in snapshots if s.kind == kind]
    return [s for s in chosen if not s.allows], [s for s in chosen if s.allows]


def _entries(snapshots: list[SourceSnapshot]) -> tuple[pa.Array, NDArray[np.int64]]:
    """All entries of ``snapshots`` in one array, and the position of each one's source."""
    arrays = [pa.array(s.entries, type=pa.large_string()) for s in snapshots]
    ids = [np.full(len(s.entries), i, dtype=np.int64) for i, s in enumerate(snapshots)]
    if not arrays:
        return pa.array([], type=pa.large_string()), np.zeros(0, dtype=np.int64)
    return pa.concat_arrays(arrays), np.concatenate(ids)


@dataclass(frozen=True, eq=False)
class DomainIndex:
    """Listed names with the set of sources behind each, plus per-registered-domain counts."""

    source_names: tuple[str, ...]
    names: StringSet
    name_sources: _bits.Bits
    registered: StringSet
    registered_counts: NDArray[np.int32]
    allow: StringSet
    suffixes: PublicSuffixes

    @classmethod
    def build(
        cls, snapshots: Iterable[SourceSnapshot], *, suffixes: PublicSuffixes | None = None
    ) -> DomainIndex:
        """Index the ``domain`` snapshots; ``suffixes`` defaults to tldextract's bundled list."""
        suffixes = bundled() if suffixes is None else suffixes
        deny, allow = _split(snapshots, "domain")
        entries, source_ids = _entries(deny)
        encoded = pc.dictionary_encode(entries)
        names = StringSet.from_unique(encoded.dictionary)
        name_sources = _bits.empty(len(names), len(deny))
        indices = np.asarray(encoded.indices, dtype=np.int64)
        _bits.union_into(name_sources, indices, _bits.of_sources(source_ids, len(deny)))
        registered_parts = []
        for start in range(0, len(names), _CHUNK_ROWS):  # per batch of names
            ancestors = expand(names.values.slice(start, _CHUNK_ROWS), suffixes)
            at = ancestors.registered
            registered_parts.append(ancestors.strings.take(pa.array(at[at >= 0])))
        counts = pc.value_counts(
            pa.concat_arrays(registered_parts)
            if registered_parts
            else pa.array([], type=pa.large_string())
        )
        registered = StringSet.from_unique(counts.field("values"))
        allow_entries, _ = _entries(allow)
        return cls(
            source_names=tuple(s.name for s in deny),
            names=names,
            name_sources=name_sources,
            registered=registered,
            registered_counts=np.asarray(counts.field("counts"), dtype=np.int32),
            allow=StringSet.build(allow_entries),
            suffixes=suffixes,
        )

    @classmethod
    def empty(cls) -> DomainIndex:
        return cls.build([], suffixes=PublicSuffixes.none())

    def lookup(self, domains: StringColumn) -> DomainHits:
        """Hits for each name of ``domains`` (normalized names, e.g. from
        :func:`vigil.features.entities.normalize_domains`; others never match)."""
        array = as_string_array(domains)
        parts = [
            self._lookup(array.slice(s, _CHUNK_ROWS)) for s in range(0, len(array), _CHUNK_ROWS)
        ]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            parts = [self._lookup(array)]
        return DomainHits(
            exact_sources=pa.concat_arrays([p.exact_sources for p in parts]),
            parent_sources=np.concatenate([p.parent_sources for p in parts]),
            parent_distance=np.concatenate([p.parent_distance for p in parts]),
            sibling_listed=np.concatenate([p.sibling_listed for p in parts]),
            allowed=np.concatenate([p.allowed for p in parts]),
        )

    def _lookup(self, array: pa.Array) -> DomainHits:
        n = len(array)
        ancestors = expand(array, self.suffixes)
        rows, levels = ancestors.rows, ancestors.levels
        speaks = ancestors.up_to_registered
        listed = self.names.find(ancestors.strings, ancestors.hashes, speaks)
        named = np.zeros(n, dtype=bool)
        named[rows[levels == 0]] = True
        valid = named & np.asarray(array.is_valid(), dtype=bool)

        exact = _bits.empty(n, len(self.source_names))
        hit = np.flatnonzero((levels == 0) & (listed >= 0))
        exact[rows[hit]] = self.name_sources[listed[hit]]

        parents = _bits.empty(n, len(self.source_names))
        hit = np.flatnonzero((levels > 0) & (listed >= 0))
        _bits.union_into(parents, rows[hit], self.name_sources[listed[hit]])
        distance = np.full(n, np.iinfo(np.int32).max, dtype=np.int32)
        np.minimum.at(distance, rows[hit], levels[hit])
        distance[distance == np.iinfo(np.int32).max] = -1

        siblings = np.zeros(n, dtype=np.int32)
        at = ancestors.registered
        has = np.flatnonzero(at >= 0)
        found = self.registered.find(ancestors.strings.take(pa.array(at[has])))
        siblings[has[found >= 0]] = self.registered_counts[found[found >= 0]]
        itself = (_bits.count(exact) > 0) & (at >= 0)
        siblings[itself] -= 1  # not counting the name itself

        allowed = np.zeros(n, dtype=bool)
        trusted = self.allow.find(ancestors.strings, ancestors.hashes, speaks) >= 0
        allowed[rows[trusted]] = True
        return DomainHits(
            exact_sources=_bits.names(exact, self.source_names, valid),
            parent_sources=_bits.count(parents),
            parent_distance=distance,
            sibling_listed=siblings,
            allowed=allowed,
        )


@dataclass(frozen=True, eq=False)
class _Family:
    """Everything listed for one IP version."""

    version: int
    addresses: Keys  # sorted, distinct
    address_sources: _bits.Bits
    groups: NDArray[np.uint64]  # sorted /24 or /64 of each listed address
    networks: Intervals
    allow: Intervals

    @classmethod
    def build(
        cls,
        version: int,
        deny: tuple[Keys, NDArray[np.int64], NDArray[np.int64]],
        allow: tuple[Keys, NDArray[np.int64]],
        n_sources: int,
    ) -> _Family:
        keys, prefix, source = deny
        full = 32 if version == 4 else 128
        single = prefix == full
        addresses, inverse = sort_unique(keys[single])
        address_sources = _bits.empty(len(addresses), n_sources)
        _bits.union_into(address_sources, inverse, _bits.of_sources(source[single], n_sources))
        net = ~single
        starts = network_start(keys[net], prefix[net], version)
        allow_keys, allow_prefix = allow
        return cls(
            version=version,
            addresses=addresses,
            address_sources=address_sources,
            groups=group(addresses, version),
            networks=Intervals.build(starts, prefix[net], source[net], n_sources, version),
            allow=Intervals.build(
                network_start(allow_keys, allow_prefix, version),
                allow_prefix,
                np.zeros(len(allow_keys), dtype=np.int64),
                1,
                version,
            ),
        )

    def lookup(
        self, keys: Keys
    ) -> tuple[_bits.Bits, _bits.Bits, NDArray[np.int32], NDArray[np.int32], NDArray[np.bool_]]:
        n_sources = self.networks.n_sources
        exact = _bits.empty(len(keys), n_sources)
        if len(self.addresses):
            at = np.minimum(np.searchsorted(self.addresses, keys), len(self.addresses) - 1)
            same = self.addresses[at] == keys
            exact[same] = self.address_sources[at[same]]
        else:
            same = np.zeros(len(keys), dtype=bool)
        networks, longest = self.networks.lookup(keys)
        g = group(keys, self.version)
        in_group = np.searchsorted(self.groups, g, side="right") - np.searchsorted(self.groups, g)
        neighbours = np.asarray(in_group - same, dtype=np.int32)
        allowed, _ = self.allow.lookup(keys)
        return exact, networks, longest, neighbours, np.asarray(allowed.any(axis=1), dtype=bool)


def _parse_entries(
    entries: pa.Array,
) -> dict[int, tuple[Keys, NDArray[np.int64], NDArray[np.int64]]]:
    """Per IP version: keys, prefix lengths and entry positions of ``a.b.c.d[/p]`` entries."""
    parts = pc.split_pattern(entries, "/", max_splits=1)
    address = pc.list_element(parts, 0)
    has_prefix = np.asarray(pc.greater(pc.list_value_length(parts), 1), dtype=bool)
    hi, lo, version = ip_to_int(address)
    prefix = np.full(len(entries), -1, dtype=np.int64)
    if has_prefix.any():
        with_prefix = pc.filter(parts, pa.array(has_prefix))
        numbers = pc.cast(pc.list_element(with_prefix, 1), pa.int64(), safe=False)
        prefix[has_prefix] = np.asarray(pc.fill_null(numbers, -1), dtype=np.int64)
    out = {}
    for v, full in ((4, 32), (6, 128)):
        mine = version == v
        p = np.where(prefix < 0, full, prefix)[mine]
        ok = (p >= 0) & (p <= full)
        positions = np.flatnonzero(mine)[ok]
        out[v] = (make_keys(hi[positions], lo[positions], v), p[ok], positions)
    return out


@dataclass(frozen=True, eq=False)
class IPIndex:
    """Listed addresses and networks, per IP version."""

    source_names: tuple[str, ...]
    v4: _Family
    v6: _Family

    @classmethod
    def build(cls, snapshots: Iterable[SourceSnapshot]) -> IPIndex:
        """Index the ``ip`` snapshots (entries ``1.2.3.4`` or ``10.0.0.0/8``, any version)."""
        deny, allow = _split(snapshots, "ip")
        entries, source_ids = _entries(deny)
        allow_entries, _ = _entries(allow)
        parsed, parsed_allow = _parse_entries(entries), _parse_entries(allow_entries)
        families = {}
        for v in (4, 6):
            keys, prefix, positions = parsed[v]
            allow_keys, allow_prefix, _ = parsed_allow[v]
            families[v] = _Family.build(
                v, (keys, prefix, source_ids[positions]), (allow_keys, allow_prefix), len(deny)
            )
        return cls(tuple(s.name for s in deny), families[4], families[6])

    @classmethod
    def empty(cls) -> IPIndex:
        return cls.build([])

    def lookup(self, ips: StringColumn) -> IPHits:
        """Hits for each address of ``ips`` (text such as ``1.2.3.4``, ``[::1]:443``)."""
        array = as_string_array(ips)
        n = len(array)
        hi, lo, version = ip_to_int(array)
        n_sources = len(self.source_names)
        exact = _bits.empty(n, n_sources)
        networks = _bits.empty(n, n_sources)
        prefix = np.full(n, -1, dtype=np.int32)
        neighbours = np.zeros(n, dtype=np.int32)
        allowed = np.zeros(n, dtype=bool)
        for family in (self.v4, self.v6):  # two IP versions
            rows = np.flatnonzero(version == family.version)
            if rows.size == 0:
                continue
            keys = make_keys(hi[rows], lo[rows], family.version)
            e, c, p, nb, a = family.lookup(keys)
            exact[rows], networks[rows], prefix[rows] = e, c, p
            neighbours[rows], allowed[rows] = nb, a
        return IPHits(
            exact_sources=_bits.names(exact, self.source_names, version > 0),
            cidr_sources=_bits.count(networks),
            cidr_prefix=prefix,
            neighbours=neighbours,
            allowed=allowed,
        )
