"""Domain names and IP addresses parsed from log text, with a defined result for bad input.

Every function here answers ``None`` (or a null, or version 0) for text that is not a
domain or an address, and never raises: intel feeds and logs hold URLs, ``host:port``
pairs, defanged names and plain garbage side by side.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil._types import as_string_array
from vigil.features import _accel, _punycode
from vigil.features.normalize import buffers

if TYPE_CHECKING:
    from vigil._types import StringColumn

__all__ = [
    "IPAddress",
    "IPNetwork",
    "forget_names",
    "ip_to_int",
    "normalize_domain",
    "normalize_domains",
    "parse_ip",
    "parse_network",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: RFC 1035: a name is at most 253 characters in text form, a label at most 63.
MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63

#: A normalized name: lower-case labels of [a-z0-9_-], at least two, the last not all digits.
_NAME_RE = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})+")
#: What the vectorized path accepts as-is (RE2 syntax): plain ASCII, one optional final dot.
_PLAIN_RE2 = r"^[a-zA-Z0-9_-]+(?:\.[a-zA-Z0-9_-]+)+\.?$"
#: Plain names that are still invalid: a label over 63 characters or an all-digit last label.
_LONG_LABEL_RE2 = r"[a-z0-9_-]{64}"
_NUMERIC_TLD_RE2 = r"(?:^|\.)[0-9]+$"

#: What the compiled plain-name pass says of a value (see ``plain_names`` in _kernels.c).
_NOT_PLAIN, _PLAIN_NAME = 0, 2

#: Characters trimmed from both ends: whitespace, quotes and brackets around a value.
_WRAPPERS = " \t\r\n\x0b\x0c\"'`<>[](){}"
#: Defanged dots as threat reports write them.
_DEFANGED_DOT_RE = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", re.IGNORECASE)
_DEFANGED_SCHEME_RE = re.compile(r"^hxxp(s?)://", re.IGNORECASE)
#: Full stops other than "." that UTS #46 treats as label separators.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def normalize_domain(text: str | None) -> str | None:
    """The lower-case, ASCII (punycode) form of the host name in ``text``, or ``None``.

    Accepts bare names, URLs (scheme, user info, port, path dropped), ``host:port``,
    ``*.example.com`` wildcards, defanged ``example[.]com`` and Unicode names, which
    become their IDNA A-label form. Rejects IP literals, single-label names and anything
    that is not a valid name after IDNA. Idempotent and total on ``str``.
    """
    if not isinstance(text, str):
        return None
    s = _DEFANGED_DOT_RE.sub(".", text.strip())
    if _DEFANGED_SCHEME_RE.match(s):  # match first: sub costs ~2 µs even with no match
        s = _DEFANGED_SCHEME_RE.sub(r"http\1://", s)
    s = s.strip(_WRAPPERS).lower()
    scheme = s.find("://")
    if scheme >= 0:
        s = s[scheme + 3 :]
    elif s.startswith("//"):
        s = s[2:]
    s = re.split(r"[/?#\\]", s, maxsplit=1)[0]
    s = s.rpartition("@")[2]
    if ":" in s:
        host, _, port = s.partition(":")
        if ":" in port or not (port.isascii() and port.isdigit()):
            return None  # an IPv6 literal, or not a port
        s = host
    s = s.translate(_DOTS)
    if s.endswith("."):
        s = s[:-1]
    if s.startswith("*."):
        s = s[2:]
    if not s.isascii():
        labels = [_to_ascii(label) for label in s.split(".")]
        if any(label is None for label in labels):
            return None
        s = ".".join(label for label in labels if label is not None)
    if len(s) > MAX_NAME_LENGTH or _NAME_RE.fullmatch(s) is None:
        return None
    if s.rpartition(".")[2].isdigit():
        return None  # no top-level domain is all digits: an IPv4 literal or a fragment of one
    return s


def _to_ascii(label: str) -> str | None:
    """One label in IDNA A-label form: IDNA 2008 with UTS #46 mapping, else IDNA 2003.

    IDNA 2003 is the fallback because registries still resolve names IDNA 2008 refuses
    (emoji under some ccTLDs), and phishing uses them.
    """
    if label.isascii():
        return label
    plain = _plain_a_label(label)
    return plain if plain is not None else _idna_a_label(label)


def _idna_a_label(label: str) -> str | None:
    """:func:`_to_ascii` by the ``idna`` package alone (then IDNA 2003), for any label."""
    import idna

    try:
        return idna.encode(label, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):
        pass
    try:
        return label.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return None


def _plain_a_label(label: str) -> str | None:
    """The A-label ``idna.encode(label, uts46=True)`` gives, for the common labels whose
    every rule is checked here; None for the rest, which take ``idna`` itself.

    ``idna`` is pure Python: ~36 µs a label, most of a Unicode name's cost. A label whose
    characters all pass :func:`_plain_idn_characters` maps to itself under UTS #46, has
    no character whose validity depends on its neighbours (CONTEXTJ / CONTEXTO) and no
    right-to-left character (so the Bidi Rule does not apply); what ``idna`` still checks
    is NFC, the hyphen rules, a leading combining mark and the length, as here. The tests
    hold this to ``idna`` on labels from many scripts, marks, joiners and RTL text.
    """
    if not _plain_idn_characters(label):
        return None
    if not unicodedata.is_normalized("NFC", label):
        return None
    if label[2:4] == "--" or label[0] == "-" or label[-1] == "-":
        return None
    if unicodedata.category(label[0])[0] == "M":
        return None
    encoded = _punycode.encode(label)
    return "xn--" + encoded.decode("ascii") if len(encoded) <= MAX_LABEL_LENGTH - 4 else None


#: The ASCII characters a plain IDN label may hold (UTS #46 with STD3 rules or not).
_PLAIN_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
#: The characters :func:`_classify_idn_character` found plain, and not, so far.
_PLAIN_IDN = set(_PLAIN_ASCII)
_NOT_PLAIN_IDN: set[str] = set()


def _plain_idn_characters(label: str) -> bool:
    """Whether every character of ``label`` is valid as it is under UTS #46 (status V or
    D), PVALID in IDNA 2008 and of a left-to-right or neutral direction. One set test
    once its characters are known; each new character is classified once."""
    if _PLAIN_IDN.issuperset(label):
        return True
    for character in set(label).difference(_PLAIN_IDN):
        if character in _NOT_PLAIN_IDN or not _classify_idn_character(character):
            _NOT_PLAIN_IDN.add(character)
            return False
        _PLAIN_IDN.add(character)
    return True


def _classify_idn_character(character: str) -> bool:
    """One character, by ``idna``'s own UTS #46 and IDNA 2008 tables (~10 µs)."""
    if character.isascii():
        return character in _PLAIN_ASCII
    import idna
    from idna.idnadata import codepoint_classes
    from idna.intranges import intranges_contain

    try:
        if idna.uts46_remap(character, std3_rules=False) != character:
            return False
    except (idna.IDNAError, ValueError):
        return False
    return intranges_contain(
        ord(character), codepoint_classes["PVALID"]
    ) and unicodedata.bidirectional(character) not in ("", "R", "AL", "AN")


def normalize_domains(values: StringColumn) -> pa.Array:
    """:func:`normalize_domain` over a column: ``large_string``, null where invalid.

    Plain ASCII names (the bulk of DNS and proxy logs) are lower-cased and checked by
    Arrow kernels; only the rest (URLs, Unicode, ports, wrappers) go through the
    per-value Python path, once per distinct value.
    """
    array = as_string_array(values)
    if len(array) == 0:
        return pa.array([], type=pa.large_string())
    kernels = _accel.kernels
    fast, rest_mask = (_plain_names if kernels is None else _plain_names_compiled)(array)
    if not pc.any(rest_mask).as_py():
        return fast
    rest = pc.filter(array, rest_mask)
    encoded = pc.dictionary_encode(rest)
    # per distinct value: the rows Arrow kernels cannot normalize (URLs, Unicode, ports)
    normalized = pa.array(
        [_normalize_cached(v) for v in encoded.dictionary.to_pylist()], type=pa.large_string()
    ).take(encoded.indices)
    return pc.replace_with_mask(fast, rest_mask, normalized)


def _plain_names(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Plain ASCII names lower-cased without their final dot (null where they are not
    names), and the mask of the values only the per-value path can read."""
    plain = pc.fill_null(pc.match_substring_regex(array, _PLAIN_RE2), False)
    lowered = pc.replace_substring_regex(pc.ascii_lower(array), r"\.$", "")
    ok = pc.and_(
        pc.less_equal(pc.binary_length(lowered), MAX_NAME_LENGTH),
        pc.invert(
            pc.or_(
                pc.match_substring_regex(lowered, _LONG_LABEL_RE2),
                pc.match_substring_regex(lowered, _NUMERIC_TLD_RE2),
            )
        ),
    )
    fast = pc.if_else(pc.and_(plain, ok), lowered, pa.scalar(None, pa.large_string()))
    return fast, pc.and_(pc.invert(plain), array.is_valid())


def _plain_names_compiled(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """:func:`_plain_names` in one compiled pass: five Arrow regex passes cost ~0.3 ms a
    batch in regex compilation alone, which a DNS log's small batches of memo misses pay
    again and again."""
    data, offsets = _accel.rows(*buffers(array))
    n = len(array)
    valid = np.asarray(array.is_valid(), dtype=np.uint8)
    out = np.empty(len(data), dtype=np.uint8)
    out_offsets = np.empty(n + 1, dtype=np.int64)
    status = np.empty(n, dtype=np.uint8)
    _accel.require().plain_names(data, offsets, valid, MAX_NAME_LENGTH, out, out_offsets, status)
    named = status == _PLAIN_NAME
    fast = pa.LargeStringArray.from_buffers(
        n,
        pa.py_buffer(out_offsets),
        pa.py_buffer(out[: out_offsets[-1]]),
        pa.py_buffer(np.packbits(named, bitorder="little")),
        null_count=n - int(np.count_nonzero(named)),
    )
    return fast, pa.array(status == _NOT_PLAIN)


def forget_names() -> None:
    """Forget the names :func:`normalize_domains` remembers across batches, so that the
    next batches are timed (or traced) as if every name were new."""
    _normalize_cached.cache_clear()


@lru_cache(maxsize=65_536)
def _normalize_cached(text: str) -> str | None:
    """:func:`normalize_domain`, remembered: IDNA in Python costs ~0.1 ms a name and logs
    repeat the same few Unicode names and URLs batch after batch."""
    return normalize_domain(text)


def parse_ip(text: str | None) -> IPAddress | None:
    """The IP address in ``text``, or ``None``.

    Accepts ``1.2.3.4``, ``1.2.3.4:443``, ``[2001:db8::1]:443`` and ``fe80::1%eth0`` (the
    zone id is dropped, so equal addresses compare equal). IPv4-mapped IPv6 addresses
    stay IPv6: the log said IPv6.
    """
    if not isinstance(text, str):
        return None
    s = text.strip()
    if s.startswith("["):
        inner, close, rest = s[1:].partition("]")
        if not close or (rest and not _is_port_suffix(rest)):
            return None
        return _address(inner, version=6)
    if s.count(":") == 1:
        host, _, port = s.partition(":")
        return _address(host, version=4) if _is_port_suffix(":" + port) else None
    return _address(s, version=None)


def _is_port_suffix(text: str) -> bool:
    port = text[1:]
    return text[:1] == ":" and 0 < len(port) <= 5 and port.isascii() and port.isdigit()


def _address(text: str, version: int | None) -> IPAddress | None:
    text = text.partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if version is not None and address.version != version:
        return None
    return address


def parse_network(text: str | None) -> IPNetwork | None:
    """The network in ``text`` (``10.0.0.0/8``; a bare address is a /32 or /128), or ``None``.

    Host bits may be set (``10.1.2.3/8`` is ``10.0.0.0/8``): feeds write networks that way.
    """
    if not isinstance(text, str):
        return None
    address_text, slash, prefix = text.strip().partition("/")
    address = parse_ip(address_text)
    if address is None:
        return None
    if not slash:
        return ipaddress.ip_network(address)
    if not (prefix.isascii() and prefix.isdigit() and len(prefix) <= 3):
        return None
    try:
        return ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    except ValueError:
        return None


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE2 = "^" + r"\.".join(_OCTET.replace("(", f"(?P<o{i}>", 1) for i in range(4)) + "$"
_LOW_64 = (1 << 64) - 1


def ip_to_int(
    values: StringColumn,
) -> tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.int8]]:
    """Each address as a 128-bit number split in ``(hi, lo)`` words, and its version.

    IPv4 addresses are version 4 with ``hi == 0`` and ``lo`` the 32-bit value; invalid or
    null values are version 0 with zeros. Plain dotted quads are parsed by Arrow kernels;
    everything else once per distinct value by :func:`parse_ip`.
    """
    array = as_string_array(values)
    n = len(array)
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    version = np.zeros(n, dtype=np.int8)
    if n == 0:
        return hi, lo, version
    quads = pc.extract_regex(array, _IPV4_RE2)
    is_quad = np.asarray(pc.fill_null(quads.is_valid(), False), dtype=bool)
    if is_quad.any():
        fields = pc.filter(quads, pa.array(is_quad))
        value = np.zeros(int(is_quad.sum()), dtype=np.uint64)
        for i in range(4):
            octet = np.asarray(pc.cast(fields.field(i), pa.uint64()), dtype=np.uint64)
            value = (value << np.uint64(8)) | octet
        lo[is_quad] = value
        version[is_quad] = 4
    rest = np.flatnonzero(~is_quad & np.asarray(array.is_valid(), dtype=bool))
    if rest.size:
        encoded = pc.dictionary_encode(array.take(pa.array(rest)))
        # per distinct value: IPv6 and ports need ipaddress
        parsed = [parse_ip(v) for v in encoded.dictionary.to_pylist()]
        numbers = [int(a) if a is not None else 0 for a in parsed]
        d_hi = np.array([x >> 64 for x in numbers], dtype=np.uint64)
        d_lo = np.array([x & _LOW_64 for x in numbers], dtype=np.uint64)
        d_version = np.array([a.version if a is not None else 0 for a in parsed], dtype=np.int8)
        index = np.asarray(encoded.indices, dtype=np.int64)
        hi[rest], lo[rest], version[rest] = d_hi[index], d_lo[index], d_version[index]
    return hi, lo, version
