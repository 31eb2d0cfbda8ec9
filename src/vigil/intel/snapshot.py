"""All loaded intel at one moment, indexed, with a fingerprint that model manifests record.

Feature extractors see intel only through :class:`IntelView` (two bulk lookups), so tests
and services can hand them :meth:`IntelSnapshot.empty` or any object with those methods.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from vigil._types import StringColumn
from vigil.errors import IntelError
from vigil.intel.index import DomainHits, DomainIndex, IPHits, IPIndex
from vigil.intel.sources import Source, SourceSnapshot


@runtime_checkable
class IntelView(Protocol):
    """What feature extractors may ask of intel: bulk lookups, nothing else."""

    def domain_hits(self, domains: StringColumn) -> DomainHits: ...

    def ip_hits(self, ips: StringColumn) -> IPHits: ...


def intel_fingerprint(snapshots: Iterable[SourceSnapshot]) -> str:
    """sha256 over each source's name, kind and entries fingerprint, in name order."""
    digest = hashlib.sha256()
    for s in sorted(snapshots, key=lambda s: s.name):
        digest.update(f"{s.name}\t{s.kind}\t{s.fingerprint}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class IntelSnapshot:
    """Loaded sources and the indexes over them; immutable, so safe to share across threads."""

    sources: tuple[SourceSnapshot, ...]
    domains: DomainIndex
    ips: IPIndex
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise IntelError(f"intel sources must have distinct names; repeated: {duplicates}")
        object.__setattr__(self, "fingerprint", intel_fingerprint(self.sources))

    @classmethod
    def from_snapshots(cls, snapshots: Iterable[SourceSnapshot]) -> IntelSnapshot:
        loaded = tuple(snapshots)
        return cls(loaded, DomainIndex.build(loaded), IPIndex.build(loaded))

    @classmethod
    def empty(cls) -> IntelSnapshot:
        """No intel: every lookup answers "not listed"."""
        return cls((), DomainIndex.empty(), IPIndex.empty())

    def domain_hits(self, domains: StringColumn) -> DomainHits:
        return self.domains.lookup(domains)

    def ip_hits(self, ips: StringColumn) -> IPHits:
        return self.ips.lookup(ips)

    def to_dict(self) -> dict[str, Any]:
        """A summary for manifests and status output: the fingerprint and each source's."""
        return {
            "fingerprint": self.fingerprint,
            "sources": {s.name: s.to_dict() for s in self.sources},
        }


def load_intel(sources: Iterable[Source]) -> IntelSnapshot:
    """Load every source, in order, and index them; the first failure raises.

    A source that cannot refresh but has a cached copy warns (StaleIntelWarning) and serves
    it; one with nothing to serve raises SourceUnavailable.
    """
    chosen = list(sources)
    names = [s.name for s in chosen]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise IntelError(f"intel sources must have distinct names; repeated: {duplicates}")
    return IntelSnapshot.from_snapshots(source.load() for source in chosen)
