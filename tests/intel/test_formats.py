"""Blocklists as downloaded: golden cases per format, and properties over arbitrary text."""

from __future__ import annotations

import contextlib
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.errors import IntelError
from vigil.intel.formats import (
    ParsedList,
    decode_text,
    normalize_ip_entry,
    parse_list,
    parse_values,
)

HOSTS = """\
# Title: a hosts file
127.0.0.1 localhost
127.0.0.1 localhost.localdomain
::1 ip6-localhost ip6-loopback
255.255.255.255 broadcasthost
0.0.0.0 0.0.0.0

0.0.0.0 Evil.Example.COM   # inline comment
0.0.0.0 evil.example.com
127.0.0.1 phish.test alias.phish.test
0.0.0.0\tTab.Separated.org
not-an-ip bad.example
0.0.0.0
0.0.0.0 münchen-phish.de
"""


def test_hosts_file_keeps_names_and_counts_the_rest() -> None:
    parsed = parse_list(HOSTS, format="hosts", kind="domain")
    assert parsed.entries == (
        "alias.phish.test",
        "evil.example.com",
        "phish.test",
        "tab.separated.org",
        "xn--mnchen-phish-dlb.de",
    )
    # comment, 5 localhost-type lines, 2 junk lines
    assert parsed.skipped == 8
    assert parsed.examples_skipped == ("not-an-ip bad.example", "0.0.0.0")
    assert parsed.kept == 5


def test_plain_domain_list_normalizes_urls_wildcards_and_defanged_names() -> None:
    text = (
        "; comment\n// comment\n! adblock comment\n"
        "evil.com\nEVIL.com.\n*.wild.net\nhxxp://defanged[.]org/path\n"
        "https://user@Host.Example:8443/x?y\n1.2.3.4\nsingle\ntwo words.com\n\n   \n"
    )
    parsed = parse_list(text, format="plain", kind="domain")
    assert parsed.entries == ("defanged.org", "evil.com", "host.example", "wild.net")
    assert parsed.kept == 5
    assert parsed.skipped == 6
    assert parsed.examples_skipped == ("1.2.3.4", "single", "two words.com")


def test_netset_reads_cidrs_ranges_ipset_save_and_spamhaus_comments() -> None:
    text = (
        "# firehol level1\n"
        "1.10.16.0/20 ; SBL256894\n"
        "10.1.2.3/8\n"
        "192.0.2.7/32\n"
        "192.0.2.7\n"
        "create blocklist hash:net family inet\n"
        "add blocklist 198.51.100.0/24\n"
        "203.0.113.0-203.0.113.9\n"
        "2001:DB8::/32\n"
        "2001:db8::1/128\n"
        "300.1.1.1\n"
        "10.0.0.0/33\n"
    )
    parsed = parse_list(text, format="netset", kind="ip")
    assert parsed.entries == (
        "1.10.16.0/20",
        "10.0.0.0/8",
        "192.0.2.7",
        "198.51.100.0/24",
        "2001:db8::/32",
        "2001:db8::1",
        "203.0.113.0/29",
        "203.0.113.8/31",
    )
    assert parsed.skipped == 4
    assert parsed.examples_skipped == ("300.1.1.1", "10.0.0.0/33")


def test_plain_ip_list_accepts_ports_and_brackets() -> None:
    parsed = parse_list(
        "1.2.3.4:443\n[2001:db8::5]:8080\nfe80::1%eth0\n", format="plain", kind="ip"
    )
    assert parsed.entries == ("1.2.3.4", "2001:db8::5", "fe80::1")


def test_csv_uses_the_named_column() -> None:
    text = 'first_seen,dst_ip,port\n2024-01-01,"1.2.3.4",443\n2024-01-02,bad,80\n2024-01-03\n'
    parsed = parse_list(text, format="csv", kind="ip", column="dst_ip")
    assert parsed.entries == ("1.2.3.4",)
    assert parsed.kept == 1
    assert parsed.skipped == 3  # the header and two bad rows
    assert parsed.examples_skipped == ("2024-01-02,bad,80", "2024-01-03")


def test_csv_finds_a_commented_out_header_like_abuse_ch() -> None:
    text = (
        "################\n"
        "# URLhaus database dump\n"
        "# id,dateadded,url,url_status\n"
        '"1","2024-01-01","http://evil.example/x.exe","online"\n'
        '"2","2024-01-01","https://Phish.Test:8443/login","offline"\n'
        "#### END ####\n"
    )
    parsed = parse_list(text, format="csv", kind="domain", column="url")
    assert parsed.entries == ("evil.example", "phish.test")
    assert parsed.skipped == 4


def test_csv_without_the_column_names_the_columns_it_has() -> None:
    with pytest.raises(IntelError, match=r"no column 'url'.*\['a', 'b'\]"):
        parse_list("a,b\n1,2\n", format="csv", kind="domain", column="url")


def test_format_must_suit_the_kind() -> None:
    with pytest.raises(IntelError, match="does not hold ip entries"):
        parse_list("x", format="hosts", kind="ip")
    with pytest.raises(IntelError, match="needs a column"):
        parse_list("x", format="csv", kind="ip")


def test_parse_values_counts_nulls_and_junk() -> None:
    parsed = parse_values(["evil.com", None, "", "EVIL.COM", "junk", 7], kind="domain")
    assert parsed == ParsedList(("evil.com",), skipped=4, examples_skipped=("junk", "7"), kept=2)


def test_normalize_ip_entry_writes_hosts_as_addresses() -> None:
    assert normalize_ip_entry("10.0.0.1/32") == "10.0.0.1"
    assert normalize_ip_entry("10.0.0.1/24") == "10.0.0.0/24"
    assert normalize_ip_entry("2001:0db8:0::1") == "2001:db8::1"
    assert normalize_ip_entry("nope") is None


def test_decode_text_unzips_and_drops_a_byte_order_mark() -> None:
    assert decode_text(gzip.compress("\ufeffevil.com\n".encode())) == "evil.com\n"
    assert decode_text(b"caf\xe9.com") == "caf\ufffd.com"
    with pytest.raises(IntelError, match="gzip"):
        decode_text(b"\x1f\x8bnot really gzip")


def test_examples_are_capped_at_five() -> None:
    parsed = parse_list("\n".join(f"junk {i}" for i in range(20)), format="plain", kind="domain")
    assert parsed.skipped == 20
    assert len(parsed.examples_skipped) == 5


_LINES = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "# c",
                "evil.com",
                "0.0.0.0 evil.com",
                "127.0.0.1 localhost",
                "10.0.0.0/8",
                "1.2.3.4-1.2.3.9",
                "add s 1.2.3.4",
                "create s hash:ip",
                "2001:db8::/48 ; x",
                "  ",
                "a,b",
            ]
        ),
    ),
    max_size=30,
)
_COMBINATIONS = [("domain", "plain"), ("domain", "hosts"), ("ip", "plain"), ("ip", "netset")]


def _non_blank(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


@settings(max_examples=60, deadline=None)
@given(lines=_LINES, combination=st.sampled_from(_COMBINATIONS))
def test_any_text_parses_and_every_non_blank_line_is_kept_or_skipped(
    lines: list[str], combination: tuple[str, str]
) -> None:
    kind, format = combination
    text = "\n".join(lines)
    parsed = parse_list(text, format=format, kind=kind)  # type: ignore[arg-type]
    assert parsed.skipped + parsed.kept == _non_blank(text)
    assert list(parsed.entries) == sorted(set(parsed.entries))
    assert len(parsed.examples_skipped) <= 5


@settings(max_examples=40, deadline=None)
@given(lines=_LINES, kind=st.sampled_from(["domain", "ip"]))
def test_any_csv_body_parses_under_a_header(lines: list[str], kind: str) -> None:
    text = "\n".join(["value,extra", *lines])
    parsed = parse_list(text, format="csv", kind=kind, column="value")  # type: ignore[arg-type]
    assert parsed.skipped + parsed.kept == _non_blank(text)


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=200))
def test_csv_never_raises_anything_but_intel_error(text: str) -> None:
    with contextlib.suppress(IntelError):
        parse_list(text, format="csv", kind="domain", column="url")
