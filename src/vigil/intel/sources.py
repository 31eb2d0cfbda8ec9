"""What a threat-intelligence source is: something with a name that loads a snapshot of entries.

A source is any object with ``name``, ``kind``, ``category`` and ``load()``; the built-in
ones read files (:mod:`vigil.intel.file`), SQL tables (:mod:`vigil.intel.sql`) and HTTP
feeds (:mod:`vigil.intel.http`). A :class:`SourceSnapshot` is plain data: the normalized
entries one load saw and a fingerprint of them, so a score can be traced to its intel.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from vigil.errors import IntelError
from vigil.intel.formats import FORMATS, KINDS, Format, Kind, ParsedList

#: The category whose entries vouch for a name or address instead of accusing it.
ALLOW = "allow"

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@runtime_checkable
class Source(Protocol):
    """One list of domains or IP addresses and networks, loadable on demand."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> Kind: ...

    @property
    def category(self) -> str: ...

    def load(self) -> SourceSnapshot:
        """Fetch and parse the list; raises SourceUnavailable when there is nothing to serve."""
        ...


@dataclass(frozen=True)
class SourceSnapshot:
    """The entries one load of a source saw; ``fingerprint`` is sha256 of them, sorted."""

    name: str
    kind: Kind
    category: str
    entries: tuple[str, ...]
    skipped: int = 0
    fingerprint: str = ""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    examples_skipped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_source(self.name, self.kind, self.category)
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", entries_fingerprint(self.entries))

    @classmethod
    def from_parsed(
        cls,
        source: Source,
        parsed: ParsedList,
        fetched_at: datetime | None = None,
    ) -> SourceSnapshot:
        return cls(
            name=source.name,
            kind=source.kind,
            category=source.category,
            entries=parsed.entries,
            skipped=parsed.skipped,
            fetched_at=fetched_at or datetime.now(UTC),
            examples_skipped=parsed.examples_skipped,
        )

    @property
    def allows(self) -> bool:
        """Whether this source lists trusted entries (category ``allow``)."""
        return self.category == ALLOW

    def to_dict(self) -> dict[str, Any]:
        """A summary without the entries, for manifests and ``vigil intel status``."""
        return {
            "kind": self.kind,
            "category": self.category,
            "entries": len(self.entries),
            "skipped": self.skipped,
            "fingerprint": self.fingerprint,
            "fetched_at": self.fetched_at.isoformat(timespec="seconds"),
        }


def entries_fingerprint(entries: tuple[str, ...] | list[str]) -> str:
    """sha256 of the sorted entries, one per line: equal lists, equal fingerprints."""
    digest = hashlib.sha256()
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def check_source(name: str, kind: str, category: str) -> None:
    """Refuse what every source needs right: a safe name, a known kind, a category."""
    if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None:
        raise IntelError(
            f"intel source name {name!r} must be letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    if kind not in KINDS:
        raise IntelError(f"intel source {name!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(category, str) or not category.strip():
        raise IntelError(
            f"intel source {name!r}: category must be a word such as 'malware', "
            f"'phishing', 'c2' or {ALLOW!r}; got {category!r}"
        )


def check_format(name: str, kind: Kind, format: str, column: str | None) -> Format:
    """The format, once it is known to suit the kind (and has a column when it is CSV)."""
    allowed = FORMATS.get(kind, ())
    if format not in allowed:
        raise IntelError(
            f"intel source {name!r}: format {format!r} does not hold {kind} entries; "
            f"use one of {', '.join(allowed)}"
        )
    if format == "csv" and not column:
        raise IntelError(
            f"intel source {name!r}: format 'csv' needs 'column', the header of the entries"
        )
    return format
