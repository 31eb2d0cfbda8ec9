"""Generated domains, blocklists and DNS logs: deterministic, valid, realistic on both sides."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from vigil.datasets import _names
from vigil.datasets._dga import DGAS
from vigil.datasets.domains import (
    ATTACKER_APEX_FAMILIES,
    DEFAULT_START,
    FAMILIES,
    MALICIOUS_CATEGORY_SHARES,
    generate_blocklist,
    generate_dns_log,
    generate_domains,
    to_ascii,
)

LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
HOSTS_JUNK_NAMES = {
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
}
#: Families whose names are already host names under someone's domain.
HOSTNAME_FAMILIES = {"benign_subdomain", "benign_cloud", "benign_cdn", "benign_infra"}
LATIN_OF = {cyr: lat for lat, cyr in _names.HOMOGLYPHS.items()}


@pytest.fixture(scope="module")
def domains() -> pa.Table:
    return generate_domains(6000, malicious_share=0.4, seed=7)


@pytest.fixture(scope="module")
def hosts_list(domains: pa.Table) -> tuple[str, pa.Table]:
    return generate_blocklist(domains, share=0.5, seed=3, fmt="hosts")


@pytest.fixture(scope="module")
def log(domains: pa.Table) -> pa.Table:
    return generate_dns_log(30_000, domains, malicious_share=0.01, seed=5)


def is_valid_dns_name(name: str) -> bool:
    """RFC 1123 host name after IDNA encoding, at most 253 characters, lower case."""
    if name != name.lower() or name.endswith("."):
        return False
    try:
        wire = to_ascii(name)
    except UnicodeError:
        return False
    labels = wire.split(".")
    return (
        len(wire) <= 253
        and len(labels) >= 2
        and all(LABEL_RE.match(label) for label in labels)
        and all(label[2:4] != "--" or label.startswith("xn--") for label in labels)
        and not labels[-1].isdigit()
    )


def parse_blocklist(text: str) -> list[str]:
    """Names a blocklist consumer would load: comments, blanks and localhost lines dropped."""
    names = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) == 1:
            names.append(fields[0])
            continue
        ipaddress.ip_address(fields[0].split("%")[0])  # hosts lines start with an address
        for name in fields[1:]:
            if name not in HOSTS_JUNK_NAMES and not _is_ip(name):
                names.append(name)
    return names


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def covered(name: str, listed: set[str]) -> bool:
    labels = to_ascii(name).split(".")
    return any(".".join(labels[i:]) in listed for i in range(len(labels) - 1))


class TestGenerateDomains:
    def test_schema(self, domains: pa.Table) -> None:
        assert domains.schema == pa.schema(
            [
                ("domain", pa.string()),
                ("label", pa.int8()),
                ("family", pa.string()),
                ("category", pa.string()),
            ]
        )
        assert all(c.null_count == 0 for c in domains.columns)

    def test_same_seed_same_table_other_seed_other_table(self) -> None:
        assert generate_domains(400, seed=3).equals(generate_domains(400, seed=3))
        assert not generate_domains(400, seed=3).equals(generate_domains(400, seed=4))

    @pytest.mark.parametrize(
        ("n", "share"), [(1000, 0.1), (999, 0.3), (10, 0.0), (10, 1.0), (0, 0.5)]
    )
    def test_malicious_count_is_the_share_rounded(self, n: int, share: float) -> None:
        table = generate_domains(n, malicious_share=share, seed=1)
        assert table.num_rows == n
        assert (pc.sum(table["label"]).as_py() or 0) == round(n * share)

    def test_every_family_appears_with_its_category_and_label(self, domains: pa.Table) -> None:
        seen = set(
            zip(
                domains["family"].to_pylist(),
                domains["category"].to_pylist(),
                domains["label"].to_pylist(),
                strict=True,
            )
        )
        expected = {(f, fam.category, int(fam.category != "benign")) for f, fam in FAMILIES.items()}
        assert seen == expected
        prefixes = {"benign": "benign_", "dga": "dga_", "phishing": "phish_", "c2": "c2_"}
        assert all(f.startswith(prefixes[fam.category]) for f, fam in FAMILIES.items())
        per_category = Counter(fam.category for fam in FAMILIES.values())
        assert per_category["dga"] >= 6
        assert per_category["phishing"] >= 4
        assert per_category["c2"] >= 3
        assert per_category["benign"] >= 8

    def test_malicious_rows_divide_between_categories_as_configured(
        self, domains: pa.Table
    ) -> None:
        counts = Counter(c for c in domains["category"].to_pylist() if c != "benign")
        total = sum(counts.values())
        for category, share in MALICIOUS_CATEGORY_SHARES.items():
            assert abs(counts[category] - total * share) <= 1

    def test_names_are_distinct_as_dns_spells_them(self, domains: pa.Table) -> None:
        names = domains["domain"].to_pylist()
        assert len({to_ascii(n) for n in names}) == len(names)

    def test_every_name_is_a_valid_dns_name(self, domains: pa.Table) -> None:
        bad = [n for n in domains["domain"].to_pylist() if not is_valid_dns_name(n)]
        assert bad == []

    def test_large_tables_stay_valid_and_distinct(self) -> None:
        names = generate_domains(30_000, malicious_share=0.5, seed=11)["domain"].to_pylist()
        assert len({to_ascii(n) for n in names}) == len(names)
        assert all(is_valid_dns_name(n) for n in names)

    def test_benign_side_has_names_that_look_odd_but_are_normal(self, domains: pa.Table) -> None:
        benign = [
            (n, f)
            for n, f, y in zip(
                domains["domain"].to_pylist(),
                domains["family"].to_pylist(),
                domains["label"].to_pylist(),
                strict=True,
            )
            if y == 0
        ]
        names = [n for n, _ in benign]
        assert any(re.fullmatch(r"d[a-z0-9]{13}\.cloudfront\.net", n) for n in names)
        assert any(re.search(r"[0-9a-f]{8,}\.", n) for n in names)
        assert any(re.search(r"\b(eu|us|ap)-[a-z]+-\d\b", n) for n in names)
        assert sum(not n.isascii() for n in names) >= 50
        assert any(
            re.fullmatch(r"[a-z]{2,4}\.[a-z.]+", n) for n, f in benign if f == "benign_acronym"
        )
        assert sum(bool(re.search(r"\d", n.split(".")[0])) for n in names) > 0.05 * len(names)
        tlds = Counter(n.rsplit(".", 1)[-1] for n in names)
        assert tlds.most_common(1)[0][0] == "com"
        assert 0.3 < tlds["com"] / len(names) < 0.7
        assert len(tlds) >= 30

    def test_phishing_names_carry_a_brand_as_written_or_drawn(self, domains: pa.Table) -> None:
        rows = [r for r in domains.to_pylist() if r["category"] == "phishing"]
        brands = tuple(_names.BRANDS)
        for row in rows:
            name = (
                row["domain"].encode("ascii").decode("idna")
                if row["domain"].isascii()
                else row["domain"]
            )
            latin = "".join(LATIN_OF.get(ch, ch) for ch in name)
            if row["family"] == "phish_typosquat":
                label = name.split(".")[0]
                assert label.split("-")[0] not in brands, name
            else:
                assert any(b in latin for b in brands), name

    def test_homoglyph_names_mix_cyrillic_into_latin_in_both_spellings(
        self, domains: pa.Table
    ) -> None:
        names = [r["domain"] for r in domains.to_pylist() if r["family"] == "phish_homoglyph"]
        punycode = [n for n in names if n.isascii()]
        assert punycode
        assert len(punycode) < len(names)
        assert all("xn--" in n for n in punycode)
        for name in names:
            unicode = name.encode("ascii").decode("idna") if name.isascii() else name
            assert any(ch in LATIN_OF for ch in unicode), name
            assert any("a" <= ch <= "z" for ch in unicode), name

    def test_subdomain_style_malicious_rows_sit_under_an_attacker_apex(
        self, domains: pa.Table
    ) -> None:
        for row in domains.to_pylist():
            if row["family"] in ATTACKER_APEX_FAMILIES:
                assert len(row["domain"].split(".")) >= 3
                assert row["domain"].rsplit(".", 1)[-1] in _names.CHEAP_TLDS

    def test_to_ascii_agrees_with_the_idna_codec(self, domains: pa.Table) -> None:
        unicode = [n for n in domains["domain"].to_pylist() if not n.isascii()]
        assert unicode
        assert [to_ascii(n) for n in unicode] == [n.encode("idna").decode() for n in unicode]
        assert to_ascii("MÜNCHEN.de") == "xn--mnchen-3ya.de"  # not yet folded: via the codec
        assert to_ascii("straße.de") == "strasse.de"
        with pytest.raises(UnicodeError):
            to_ascii("bad\u200e.com")

    @pytest.mark.parametrize("algo", sorted(DGAS))
    def test_each_dga_is_deterministic_and_valid(self, algo: str) -> None:
        first = DGAS[algo](np.random.default_rng(5), 200)
        assert first == DGAS[algo](np.random.default_rng(5), 200)
        assert len(first) == 200
        assert len(set(first)) > 190
        assert all(is_valid_dns_name(n) for n in first)

    def test_bad_arguments_are_refused(self) -> None:
        with pytest.raises(ValueError, match="malicious_share"):
            generate_domains(10, malicious_share=1.5)
        with pytest.raises(ValueError, match="n must be"):
            generate_domains(-1)


class TestGenerateBlocklist:
    def test_hosts_lines_parse_and_carry_the_junk_real_lists_have(
        self, hosts_list: tuple[str, pa.Table]
    ) -> None:
        text, _ = hosts_list
        lines = text.splitlines()
        assert lines[0].startswith("# Title:")
        assert "127.0.0.1 localhost" in lines
        assert "255.255.255.255 broadcasthost" in lines
        assert "" in lines
        entries = [ln for ln in lines if ln.startswith("0.0.0.0") and ln != "0.0.0.0 0.0.0.0"]
        assert all(re.match(r"^0\.0\.0\.0[ \t]\S+( +#.*| *)$", ln) for ln in entries)
        assert any("\t" in ln for ln in entries)
        assert any("#" in ln for ln in entries)
        names = parse_blocklist(text)
        assert len(names) > len(set(names))  # a few duplicates, as merged lists have
        assert all(is_valid_dns_name(n) and n.isascii() for n in names)

    def test_lists_the_share_of_malicious_rows_and_some_parents(
        self, domains: pa.Table, hosts_list: tuple[str, pa.Table]
    ) -> None:
        listed = set(parse_blocklist(hosts_list[0]))
        rows = domains.to_pylist()
        malicious = {to_ascii(r["domain"]): r for r in rows if r["label"] == 1}
        benign = {to_ascii(r["domain"]) for r in rows if r["label"] == 0}
        by_name = listed & set(malicious)
        assert len(by_name) == round(len(malicious) * 0.5)
        assert not listed & benign
        parents = listed - set(malicious)
        assert parents
        apexes = {
            ".".join(n.split(".")[-2:])
            for n in by_name
            if malicious[n]["family"] in ATTACKER_APEX_FAMILIES
        }
        assert parents <= apexes

    def test_unlisted_rows_are_exactly_those_the_list_does_not_cover(
        self, domains: pa.Table, hosts_list: tuple[str, pa.Table]
    ) -> None:
        listed = set(parse_blocklist(hosts_list[0]))
        unlisted = hosts_list[1]
        assert unlisted.schema == domains.schema
        expected = [r for r in domains.to_pylist() if not covered(r["domain"], listed)]
        assert unlisted.to_pylist() == expected
        assert not {to_ascii(n) for n in unlisted["domain"].to_pylist()} & listed
        n_malicious = pc.sum(domains["label"]).as_py()
        assert 0 < pc.sum(unlisted["label"]).as_py() < n_malicious
        assert (
            unlisted.num_rows - pc.sum(unlisted["label"]).as_py() == domains.num_rows - n_malicious
        )

    def test_a_listed_parent_covers_the_hosts_the_list_never_names(
        self, domains: pa.Table, hosts_list: tuple[str, pa.Table]
    ) -> None:
        listed = set(parse_blocklist(hosts_list[0]))
        parents = {n for n in listed if len(n.split(".")) == 2}
        unnamed = [
            to_ascii(r["domain"])
            for r in domains.to_pylist()
            if r["label"] == 1 and to_ascii(r["domain"]) not in listed
        ]
        by_parent = [n for n in unnamed if ".".join(n.split(".")[-2:]) in parents]
        assert by_parent
        assert not set(by_parent) & {to_ascii(n) for n in hosts_list[1]["domain"].to_pylist()}

    def test_plain_format_lists_the_same_names(
        self, domains: pa.Table, hosts_list: tuple[str, pa.Table]
    ) -> None:
        text, unlisted = generate_blocklist(domains, share=0.5, seed=3, fmt="plain")
        assert not any(ln.startswith(("0.0.0.0", "127.")) for ln in text.splitlines())
        assert set(parse_blocklist(text)) == set(parse_blocklist(hosts_list[0]))
        assert unlisted.equals(hosts_list[1])

    @pytest.mark.parametrize(("share", "expected"), [(0.0, 0), (1.0, 1.0)])
    def test_share_bounds(self, domains: pa.Table, share: float, expected: float) -> None:
        _, unlisted = generate_blocklist(domains, share=share, seed=1)
        n_malicious = pc.sum(domains["label"]).as_py()
        left = pc.sum(unlisted["label"]).as_py() or 0
        assert left == (n_malicious if expected == 0 else 0)

    def test_bad_arguments_are_refused(self, domains: pa.Table) -> None:
        with pytest.raises(ValueError, match="fmt"):
            generate_blocklist(domains, fmt="adblock")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="share"):
            generate_blocklist(domains, share=2.0)


class TestGenerateDnsLog:
    def test_schema_and_time_order(self, log: pa.Table) -> None:
        assert log.schema == pa.schema(
            [
                ("ts", pa.timestamp("us", tz="UTC")),
                ("client_ip", pa.string()),
                ("query", pa.string()),
                ("qtype", pa.string()),
                ("rcode", pa.string()),
                ("label", pa.int8()),
            ]
        )
        assert log.num_rows == 30_000
        ts = log["ts"].to_pylist()
        assert ts == sorted(ts)
        assert ts[0] >= DEFAULT_START
        assert ts[-1] < DEFAULT_START + timedelta(days=1)

    def test_same_seed_same_log(self, domains: pa.Table) -> None:
        first = generate_dns_log(2000, domains, seed=9)
        assert first.equals(generate_dns_log(2000, domains, seed=9))
        assert not first.equals(generate_dns_log(2000, domains, seed=10))

    def test_benign_names_repeat_heavily(self, log: pa.Table) -> None:
        queries = log["query"].to_pylist()
        assert len(set(queries)) < len(queries) / 4
        top = Counter(queries).most_common(10)
        assert sum(c for _, c in top) > 0.1 * len(queries)

    def test_queries_come_as_clients_write_them(self, log: pa.Table) -> None:
        queries = log["query"].to_pylist()
        assert any(q.startswith("www.") for q in queries)
        assert any(q.startswith(("api.", "cdn.", "static.", "m.", "img.", "app.")) for q in queries)
        assert 0 < sum(q.endswith(".") for q in queries) < 0.05 * len(queries)
        assert 0 < sum(q != q.lower() for q in queries) < 0.02 * len(queries)
        assert all(q.isascii() for q in queries)
        assert any(q.startswith("xn--") or ".xn--" in q for q in queries)

    def test_every_query_is_a_table_name_with_its_label(
        self, domains: pa.Table, log: pa.Table
    ) -> None:
        label_of = {
            to_ascii(n): y
            for n, y in zip(
                domains["domain"].to_pylist(), domains["label"].to_pylist(), strict=True
            )
        }
        for query, label in zip(log["query"].to_pylist(), log["label"].to_pylist(), strict=True):
            name = query.lower().rstrip(".")
            found = label_of.get(name, label_of.get(name.split(".", 1)[1]))
            assert found == label, query

    def test_only_registrable_names_get_a_host_label(
        self, domains: pa.Table, log: pa.Table
    ) -> None:
        family_of = {
            to_ascii(n): f
            for n, f in zip(
                domains["domain"].to_pylist(), domains["family"].to_pylist(), strict=True
            )
        }
        prefixed = 0
        for query in log["query"].to_pylist():
            name = query.lower().rstrip(".")
            if name not in family_of:
                prefixed += 1
                family = family_of[name.split(".", 1)[1]]
                assert family not in HOSTNAME_FAMILIES, query
                assert not family.startswith("dga_"), query
        assert prefixed > 0.1 * log.num_rows

    def test_malicious_lookups_come_from_few_clients(self, log: pa.Table) -> None:
        rows = log.to_pylist()
        bad = [r for r in rows if r["label"] == 1]
        assert len(bad) == 300
        assert len({r["client_ip"] for r in bad}) <= 8
        assert len({r["client_ip"] for r in rows}) >= 20
        assert all(ipaddress.ip_address(r["client_ip"]).is_private for r in rows[:500])
        failed = sum(r["rcode"] == "NXDOMAIN" for r in bad) / len(bad)
        assert failed > 0.3
        assert sum(r["rcode"] == "NXDOMAIN" for r in rows if r["label"] == 0) < 0.03 * len(rows)

    def test_empty_log_and_table_without_benign_rows(self, domains: pa.Table) -> None:
        assert generate_dns_log(0, domains).num_rows == 0
        only_bad = domains.filter(pc.equal(domains["label"], 1))
        with pytest.raises(ValueError, match="no benign rows"):
            generate_dns_log(10, only_bad)

    def test_table_with_only_benign_rows_gives_no_malicious_lookups(
        self, domains: pa.Table
    ) -> None:
        only_good = domains.filter(pc.equal(domains["label"], 0)).select(["domain", "label"])
        assert pc.sum(generate_dns_log(500, only_good, malicious_share=0.2)["label"]).as_py() == 0
