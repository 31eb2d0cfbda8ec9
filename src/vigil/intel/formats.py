"""Blocklists as people download them (plain lists, hosts files, netsets, CSV) into entries.

Feeds are messy: comments in three syntaxes, ``localhost`` lines, stray HTML, URLs where a
name was expected. Nothing here is fatal except a CSV without the configured column: every
other unusable line is skipped and counted, and a few are kept as examples, so a source's
health shows in its numbers rather than in an exception at 3 a.m.
"""

from __future__ import annotations

import csv
import gzip
import ipaddress
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

from vigil.errors import IntelError
from vigil.features.entities import normalize_domains, parse_ip, parse_network

Kind = Literal["domain", "ip"]
Format = Literal["plain", "hosts", "netset", "csv"]

KINDS: tuple[Kind, ...] = ("domain", "ip")
#: Which formats make sense for which kind of entry.
FORMATS: dict[Kind, tuple[Format, ...]] = {
    "domain": ("plain", "hosts", "csv"),
    "ip": ("plain", "netset", "csv"),
}

#: How many skipped lines a ParsedList keeps to show what went wrong.
MAX_EXAMPLES = 5
_EXAMPLE_CHARS = 200

_COMMENT_PREFIXES = ("#", ";", "//", "!")
_INLINE_COMMENTS = (" #", "\t#", " ;", "\t;")
#: Names a hosts file maps for the machine itself, not because they are bad.
_LOCAL_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "ip6-localhost",
        "ip6-loopback",
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
        "0.0.0.0",
    }
)


@dataclass(frozen=True)
class ParsedList:
    """Normalized, deduplicated, sorted entries and what was skipped on the way.

    ``kept`` counts the lines (CSV rows, column values) that gave at least one entry;
    ``skipped`` counts the others that were not blank: comments, headers, ``localhost``
    lines and junk. ``examples_skipped`` holds up to five junk lines (not comments).
    """

    entries: tuple[str, ...]
    skipped: int = 0
    examples_skipped: tuple[str, ...] = ()
    kept: int = 0


def decode_text(data: bytes) -> str:
    """A downloaded list as text: gunzipped when it is gzip, UTF-8 with replacement."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise IntelError(f"list looks gzip-compressed but does not decompress: {exc}") from exc
    return data.decode("utf-8", "replace").removeprefix("\ufeff")


def parse_list(text: str, *, format: Format, kind: Kind, column: str | None = None) -> ParsedList:
    """Parse one downloaded list; only a CSV without ``column`` in its header raises."""
    if kind not in FORMATS:
        raise IntelError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if format not in FORMATS[kind]:
        raise IntelError(
            f"format {format!r} does not hold {kind} entries; use one of {', '.join(FORMATS[kind])}"
        )
    collector = _Collector(kind)
    if format == "csv":
        if not column:
            raise IntelError("format 'csv' needs a column name (the header of the entries)")
        _parse_csv(text, column, collector)
    else:
        for line in text.splitlines():  # per line: splitting lists is I/O-edge work
            stripped = line.strip()
            if stripped:
                _parse_line(stripped, format, collector)
    return collector.result()


def parse_values(values: Iterable[object], *, kind: Kind) -> ParsedList:
    """Entries from a column of values (a SQL result): one value each, no comment syntax."""
    collector = _Collector(kind)
    for value in values:
        if value is None or not str(value).strip():
            collector.skip(None)
        else:
            collector.add([str(value).strip()], str(value))
    return collector.result()


def normalize_ip_entry(text: str) -> str | None:
    """An address (``1.2.3.4``) or a network (``10.0.0.0/8``) in canonical text, or ``None``.

    A /32 (/128) is written as its address, so it matches exactly like one.
    """
    network = parse_network(text)
    if network is None:
        return None
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


class _Collector:
    """Candidate tokens per line, normalized together at the end (one Arrow call for names)."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.tokens: list[str] = []
        self.lines: list[int] = []  # per token: its line among those added
        self.raw: list[tuple[int, str]] = []  # per added line: position in the input, text
        self.position = 0
        self.skipped = 0
        # the first few junk lines found while splitting, and found while normalizing
        self.examples: tuple[list[tuple[int, str]], list[tuple[int, str]]] = ([], [])

    def skip(self, junk: str | None, position: int | None = None) -> None:
        self.skipped += 1
        found = self.examples[position is not None]
        if position is None:
            position, self.position = self.position, self.position + 1
        if junk is not None and len(found) < MAX_EXAMPLES:
            found.append((position, junk[:_EXAMPLE_CHARS]))

    def add(self, tokens: Sequence[str], raw: str) -> None:
        if not tokens:
            self.skip(raw)
            return
        self.lines.extend([len(self.raw)] * len(tokens))
        self.raw.append((self.position, raw))
        self.position += 1
        self.tokens.extend(tokens)

    def result(self) -> ParsedList:
        normalized = self._normalize()
        good_lines = {line for line, entry in zip(self.lines, normalized, strict=True) if entry}
        for line, (position, raw) in enumerate(self.raw):
            if line not in good_lines:
                self.skip(raw, position)
        # a netset range gives several networks, space-separated
        entries = tuple(sorted({e for entry in normalized if entry for e in entry.split(" ")}))
        examples = tuple(text for _, text in sorted(self.examples[0] + self.examples[1]))
        examples = examples[:MAX_EXAMPLES]
        return ParsedList(entries, self.skipped, examples, len(good_lines))

    def _normalize(self) -> list[str | None]:
        if self.kind == "domain":
            names: list[str | None] = normalize_domains(
                pa.array(self.tokens, type=pa.large_string())
            ).to_pylist()
            return names
        # per distinct token: ipaddress parses networks, and lists repeat few values
        cache: dict[str, str | None] = {}
        out: list[str | None] = []
        for token in self.tokens:
            if token not in cache:
                cache[token] = _ip_tokens(token)
            out.append(cache[token])
        return out


def _ip_tokens(token: str) -> str | None:
    if "-" in token and "/" not in token:
        return _range(token)
    return normalize_ip_entry(token)


def _range(token: str) -> str | None:
    """``a-b`` ranges (netsets write them) as a space-separated run of CIDRs, or ``None``."""
    first, _, last = token.partition("-")
    start, end = parse_ip(first), parse_ip(last)
    if start is None or end is None or start.version != end.version or int(start) > int(end):
        return None
    networks = ipaddress.summarize_address_range(start, end)
    return " ".join(normalize_ip_entry(str(n)) or "" for n in networks)


def _parse_line(line: str, format: Format, collector: _Collector) -> None:
    if line.startswith(_COMMENT_PREFIXES):
        collector.skip(None)
        return
    content = _strip_inline_comment(line)
    tokens = content.split()
    if format == "hosts":
        if len(tokens) < 2 or parse_ip(tokens[0]) is None:
            collector.skip(line)
            return
        names = [t for t in tokens[1:] if t.lower() not in _LOCAL_NAMES]
        if not names:
            collector.skip(None)  # a localhost line: expected, not junk
            return
        collector.add(names, line)
        return
    if format == "netset" and tokens[:1] in (["create"], ["flush"], ["destroy"]):
        collector.skip(None)  # `ipset save` bookkeeping
        return
    if format == "netset" and tokens[:1] == ["add"] and len(tokens) >= 3:
        tokens = tokens[2:3]
    collector.add(tokens if len(tokens) == 1 else [], line)


def _strip_inline_comment(line: str) -> str:
    cut = min((i for i in (line.find(m) for m in _INLINE_COMMENTS) if i >= 0), default=-1)
    return line[:cut].rstrip() if cut >= 0 else line


def _parse_csv(text: str, column: str, collector: _Collector) -> None:
    lines = [line for line in (raw.strip() for raw in text.splitlines()) if line]
    index, body_start = _find_header(lines, column)
    for position, line in enumerate(lines):
        if position < body_start or line.startswith(_COMMENT_PREFIXES):
            collector.skip(None)  # comments and the header itself
            continue
        row = _csv_row(line)
        value = row[index].strip() if row is not None and len(row) > index else ""
        collector.add([value] if value else [], line)


def _find_header(lines: Sequence[str], column: str) -> tuple[int, int]:
    """The column's index and where data begins.

    The header is the first non-comment line; when it lacks ``column``, the last comment line
    before it is tried (abuse.ch feeds comment their header out: ``# id,dateadded,url,...``).
    """
    last_comment: str | None = None
    for position, line in enumerate(lines):
        if line.startswith(_COMMENT_PREFIXES):
            last_comment = line
            continue
        header = [h.strip() for h in _csv_row(line) or []]
        if column in header:
            return header.index(column), position + 1
        if last_comment is not None:
            commented = [h.strip() for h in _csv_row(last_comment.lstrip("#;/! ")) or []]
            if column in commented:
                return commented.index(column), position
        raise IntelError(
            f"CSV header has no column {column!r}; its columns are {header} "
            "(set 'column' to one of them)"
        )
    return 0, len(lines)


def _csv_row(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return None
