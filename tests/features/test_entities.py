"""Domain and IP parsing: one golden case per rule, and properties over arbitrary text."""

from __future__ import annotations

import ipaddress

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from vigil.features.entities import (
    _idna_a_label,
    _plain_a_label,
    _to_ascii,
    ip_to_int,
    normalize_domain,
    normalize_domains,
    parse_ip,
    parse_network,
)

# -- normalize_domain: golden cases ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", "example.com"),
        ("  Foo.EXAMPLE.com \n", "foo.example.com"),
        ("example.com.", "example.com"),
        ('"example.com"', "example.com"),
        ("[example.com]", "example.com"),
        ("<example.com>", "example.com"),
        ("https://user@Foo.EXAMPLE.com:8443/path?q", "foo.example.com"),
        ("http://example.com", "example.com"),
        ("//cdn.example.com/x.js", "cdn.example.com"),
        ("example.com/path#frag", "example.com"),
        ("example.com:443", "example.com"),
        ("*.example.com", "example.com"),
        ("example[.]com", "example.com"),
        ("hxxps://evil[.]example/x", "evil.example"),
        ("bob@mail.example.org", "mail.example.org"),
        ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
        ("ｅｘａｍｐｌｅ。com", "example.com"),
        ("_dmarc.example.com", "_dmarc.example.com"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
    ],
)
def test_normalize_domain_accepts(text: str, expected: str) -> None:
    assert normalize_domain(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "localhost",  # a single label
        "a..com",  # an empty label
        ".example.com",
        "example.com..",
        "a" * 64 + ".com",  # a label over 63 characters
        ".".join(["abcdefghi"] * 26),  # 259 characters
        "exa mple.com",
        "exa$mple.com",
        "1.2.3.4",  # IP literals
        "10.0.0.1:80",
        "[2001:db8::1]:443",
        "2001:db8::1",
        "example.123",
        "example.com:http",
        "http://",
        "\x00.com",
    ],
)
def test_normalize_domain_rejects(text: str | None) -> None:
    assert normalize_domain(text) is None


def test_normalize_domain_keeps_253_characters() -> None:
    name = ".".join(["a" * 62] * 4) + ".b"  # 4 * 63 + 1 = 253
    assert len(name) == 253
    assert normalize_domain(name) == name
    assert normalize_domain("a" + name) is None


def test_normalize_domains_is_large_string_with_nulls() -> None:
    out = normalize_domains(["Example.COM", None, "https://x.example/", "1.2.3.4", "münchen.de"])
    assert out.type == pa.large_string()
    assert out.to_pylist() == ["example.com", None, "x.example", None, "xn--mnchen-3ya.de"]


def test_normalize_domains_accepts_every_column_shape() -> None:
    chunked = pa.chunked_array([["a.com"], [None, "B.com"]], type=pa.string())
    assert normalize_domains(chunked).to_pylist() == ["a.com", None, "b.com"]
    assert normalize_domains([]).to_pylist() == []
    assert normalize_domains(pa.nulls(2)).to_pylist() == [None, None]


# -- normalize_domain: properties ------------------------------------------------------------

#: Text that looks like host names often enough to reach every branch.
_DOMAINISH = st.lists(
    st.sampled_from([*"abcXYZ019-_.:/@*[]\"' %üЯ。❤ßİ", "xn--", "http://", ".com", "[.]"]),
    max_size=20,
).map("".join)
_BINARYISH = st.binary(max_size=40).map(lambda b: b.decode("latin-1"))


@settings(max_examples=300)
@given(st.one_of(st.text(), _BINARYISH, _DOMAINISH))
def test_normalize_domain_is_total_and_idempotent(text: str) -> None:
    once = normalize_domain(text)
    if once is not None:
        assert normalize_domain(once) == once
        assert once.isascii()
        assert once == once.lower()
        assert len(once) <= 253


@settings(max_examples=60)
@given(st.lists(st.one_of(st.none(), _DOMAINISH, st.text(max_size=10)), max_size=30))
def test_normalize_domains_equals_scalar(values: list[str | None]) -> None:
    assert normalize_domains(values).to_pylist() == [normalize_domain(v) for v in values]


# -- IDN labels: the fast A-label path is idna's answer --------------------------------------

#: Characters near every rule the fast path must leave to ``idna``: mapped ones (upper
#: case, fullwidth, the Kelvin sign), deviations (sharp s, final sigma), marks and pieces
#: that compose under NFC, joiners (CONTEXTJ), middle dots and Arabic-indic digits
#: (CONTEXTO), right-to-left letters and numbers (Bidi Rule), disallowed and unassigned
#: code points, emoji, underscores.
_IDN_CHARACTERS = [
    *"abz09-_",
    *"\u00fc\u00e9\u00f1\u0142\u015f\u0131\u00e7\u00e5\u00f8\u00e6",  # Latin
    *"\u00dc\u00c9\u0130",  # upper case: mapped
    *"\u00df\u03c2",  # deviations
    "\u0221",  # a Latin letter newer than IDNA 2003's Unicode 3.2
    *"\u043f\u044f\u0436\u0451\u042f",  # Cyrillic
    *"\u03b1\u03b2\u03b3\u03b4",  # Greek
    *"\u5927\u962a\u6599\u7406",  # CJK
    *"\u3072\u3089\u30ab\u30bf",  # kana
    *"\u1100\u1161\uac00",  # Hangul jamo that compose, and a syllable
    *"\u0915\u094d\u0937",  # Devanagari with a virama
    "\u0301",  # combining acute: not NFC after a letter it composes with, a leading mark
    "\u1ab0",  # a combining mark newer than Unicode 3.2
    "\u200d",  # ZWJ
    "\u200c",  # ZWNJ
    "\u00b7",  # middle dot (CONTEXTO)
    "\u30fb",  # katakana middle dot (CONTEXTO)
    *"\u05d0\u05d1\u05e9\u0639\u0631\u0628",  # Hebrew (R), Arabic (AL)
    "\u0660",  # Arabic-indic digit (AN, CONTEXTO)
    "\U00010d30",  # Hanifi Rohingya digit zero (AN, PVALID)
    *"\uff21\uff22\uff41",  # fullwidth: mapped
    "\u212a",  # Kelvin sign: mapped
    "\u00ad",  # soft hyphen: ignored
    "\u2488",  # "1." : mapped to a dot
    "\u0378",  # unassigned
    "\u2764",  # emoji: IDNA 2003 only
    "\U0001f600",
    "\u00a0",  # no-break space
]
_IDN_LABEL = st.lists(st.sampled_from(_IDN_CHARACTERS), min_size=1, max_size=24).map("".join)


@settings(max_examples=1500)
@given(st.one_of(_IDN_LABEL, st.text(min_size=1, max_size=12)))
@example("m\u00fcnchen")
@example("ab--\u00fc")  # hyphens in 3rd and 4th place
@example("-\u0221")  # a leading hyphen (IDNA 2003 cannot take U+0221 either)
@example("\u0221-")
@example("\u1ab0\u0221")  # a leading mark
@example("e\u0301")  # not NFC
@example("\U00010d30")  # a right-to-left number alone: Bidi Rule 1
@example("\u00fc" * 60)  # an A-label past 63 bytes
def test_fast_a_labels_are_idnas(label: str) -> None:
    # ASCII labels are returned as they are (normalize_domain lower-cases first)
    assert _to_ascii(label) == (label if label.isascii() else _idna_a_label(label))


def test_unicode_names_take_the_fast_path() -> None:
    """The common IDN labels never reach ``idna`` (it would cost ~36 µs each)."""
    common = (
        "m\u00fcnchen",
        "\u043f\u043e\u0447\u0442\u0430",
        "\u5927\u962a9",
        "\u0142\u00f3d\u017a",
    )
    for label in common:
        assert _plain_a_label(label) == _idna_a_label(label)
    # Left to idna by the IDNA 2008 rules, several of which the IDNA 2003 fallback then
    # accepts, to the same A-label: the fast path must not lean on that.
    left = ("M\u00fcnchen", "a\u200db", "\u05e9\u05dc\u05d5\u05dd", "ab--\u00fc", "e\u0301")
    for label in (*left, "\u00fc-", "-\u00fc", "\u0301\u00fc", "\U00010d30a"):
        assert _plain_a_label(label) is None


# -- parse_ip / parse_network ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        (" 1.2.3.4 ", "1.2.3.4"),
        ("1.2.3.4:443", "1.2.3.4"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
    ],
)
def test_parse_ip_accepts(text: str, expected: str) -> None:
    assert parse_ip(text) == ipaddress.ip_address(expected)


def test_parse_ip_keeps_ipv4_mapped_as_ipv6() -> None:
    address = parse_ip("::ffff:1.2.3.4")
    assert isinstance(address, ipaddress.IPv6Address)
    assert address.ipv4_mapped == ipaddress.IPv4Address("1.2.3.4")


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "x",
        "1.2.3",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.4:",
        "1.2.3.4:http",
        "1.2.3.4:1234567",
        "[1.2.3.4]:80",
        "[::1",
        "2001:db8::1:443x",
        "example.com",
    ],
)
def test_parse_ip_rejects(text: str | None) -> None:
    assert parse_ip(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("1.2.3.4", "1.2.3.4/32"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::1", "::1/128"),
    ],
)
def test_parse_network_accepts(text: str, expected: str) -> None:
    assert parse_network(text) == ipaddress.ip_network(expected)


@pytest.mark.parametrize("text", [None, "", "x/8", "1.2.3.4/33", "::/129", "1.2.3.4/", "1.2/8"])
def test_parse_network_rejects(text: str | None) -> None:
    assert parse_network(text) is None


@settings(max_examples=200)
@given(st.one_of(st.text(), _BINARYISH, _DOMAINISH))
def test_parsers_are_total(text: str) -> None:
    parse_ip(text)
    parse_network(text)


_ADDRESSES = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))


@settings(max_examples=200)
@given(_ADDRESSES)
def test_parse_ip_agrees_with_ipaddress(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert parse_ip(str(address)) == address
    assert parse_ip(address.exploded) == address
    port_form = f"{address}:80" if address.version == 4 else f"[{address}]:80"
    assert parse_ip(port_form) == address


def test_ip_to_int_splits_128_bits() -> None:
    hi, lo, version = ip_to_int(
        ["1.2.3.4", "2001:db8::1", None, "nope", "255.255.255.255", "[::1]:53", "010.0.0.1"]
    )
    v6 = int(ipaddress.IPv6Address("2001:db8::1"))
    assert version.tolist() == [4, 6, 0, 0, 4, 6, 0]
    assert hi.tolist() == [0, v6 >> 64, 0, 0, 0, 0, 0]
    assert lo.tolist() == [0x01020304, v6 & (2**64 - 1), 0, 0, 2**32 - 1, 1, 0]
    assert hi.dtype == np.uint64
    assert lo.dtype == np.uint64
    assert version.dtype == np.int8


@settings(max_examples=40)
@given(st.lists(st.one_of(_ADDRESSES.map(str), st.none(), st.text(max_size=8)), max_size=20))
def test_ip_to_int_equals_parse_ip(values: list[str | None]) -> None:
    hi, lo, version = ip_to_int(values)
    for i, value in enumerate(values):
        address = parse_ip(value)
        if address is None:
            assert (hi[i], lo[i], version[i]) == (0, 0, 0)
        else:
            assert version[i] == address.version
            assert (int(hi[i]) << 64) | int(lo[i]) == int(address)
