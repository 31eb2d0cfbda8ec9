"""Generated IPs and netsets: deterministic, parseable, abuse clustered, feeds never hit benign."""

from __future__ import annotations

import ipaddress
import itertools
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from vigil.datasets.ips import (
    BENIGN_CATEGORY_SHARES,
    MALICIOUS_CATEGORY_SHARES,
    generate_ips,
    generate_netset,
    network_layout,
)

Net = ipaddress.IPv4Network


@pytest.fixture(scope="module")
def ips() -> pa.Table:
    return generate_ips(5000, malicious_share=0.3, seed=4)


@pytest.fixture(scope="module")
def netset(ips: pa.Table) -> str:
    return generate_netset(ips, share=0.5, seed=2)


def rows(table: pa.Table) -> list[tuple[ipaddress.IPv4Address, int, str]]:
    return [
        (ipaddress.IPv4Address(ip), label, category)
        for ip, label, category in zip(
            table["ip"].to_pylist(),
            table["label"].to_pylist(),
            table["category"].to_pylist(),
            strict=True,
        )
    ]


def parse_netset(text: str) -> list[Net]:
    return [
        ipaddress.IPv4Network(line.strip())
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def in_any(ip: ipaddress.IPv4Address, nets: tuple[Net, ...]) -> bool:
    return any(ip in net for net in nets)


class TestNetworkLayout:
    def test_public_pools_are_disjoint_and_global(self) -> None:
        layout = network_layout()
        public = [*layout.isp, *layout.cloud, *layout.bad16]
        assert len(layout.isp) == 40
        assert len(layout.bad16) == 6
        assert all(net.is_global for net in public)
        for a, b in itertools.combinations(public, 2):
            assert not a.overlaps(b), (a, b)

    def test_bad_24s_sit_inside_bad_16s_or_alone(self) -> None:
        layout = network_layout()
        inside = [n for n in layout.bad24 if in_any(n.network_address, layout.bad16)]
        assert 0 < len(inside) < len(layout.bad24)
        for net in layout.bad24:
            assert net.prefixlen == 24
            assert not in_any(net.network_address, (*layout.isp, *layout.cloud))

    def test_layout_is_the_same_every_call(self) -> None:
        assert network_layout() == network_layout()


class TestGenerateIps:
    def test_schema(self, ips: pa.Table) -> None:
        assert ips.schema == pa.schema(
            [("ip", pa.string()), ("label", pa.int8()), ("category", pa.string())]
        )
        assert all(c.null_count == 0 for c in ips.columns)

    def test_same_seed_same_table_other_seed_other_table(self) -> None:
        assert generate_ips(300, seed=3).equals(generate_ips(300, seed=3))
        assert not generate_ips(300, seed=3).equals(generate_ips(300, seed=4))

    @pytest.mark.parametrize(
        ("n", "share"), [(1000, 0.1), (999, 0.3), (10, 0.0), (10, 1.0), (0, 0.5)]
    )
    def test_malicious_count_is_the_share_rounded(self, n: int, share: float) -> None:
        table = generate_ips(n, malicious_share=share, seed=1)
        assert table.num_rows == n
        assert (pc.sum(table["label"]).as_py() or 0) == round(n * share)

    def test_every_address_parses_and_is_distinct(self, ips: pa.Table) -> None:
        parsed = [ip for ip, _, _ in rows(ips)]
        assert all(str(ip) == text for ip, text in zip(parsed, ips["ip"].to_pylist(), strict=True))
        assert len(set(parsed)) == len(parsed)

    def test_categories_match_labels_and_all_appear(self, ips: pa.Table) -> None:
        pairs = {(category, label) for _, label, category in rows(ips)}
        assert pairs == {(c, 0) for c in BENIGN_CATEGORY_SHARES} | {
            (c, 1) for c in MALICIOUS_CATEGORY_SHARES
        }

    def test_each_category_comes_from_its_ranges(self, ips: pa.Table) -> None:
        layout = network_layout()
        for ip, _, category in rows(ips):
            if category == "private":
                assert not ip.is_global, ip  # 100.64/10 is shared, not private, to ipaddress
                assert in_any(ip, layout.private), ip
            elif category == "reserved":
                assert ip.is_multicast or not ip.is_global, ip
                assert in_any(ip, layout.reserved), ip
            elif category in ("isp", "botnet"):
                assert in_any(ip, layout.isp), ip
            elif category == "cloud":
                assert in_any(ip, layout.cloud), ip
            else:
                assert ip.is_global, ip
                assert in_any(ip, (*layout.bad16, *layout.bad24, *layout.cloud)), ip

    def test_malicious_addresses_cluster_in_bad_networks(self, ips: pa.Table) -> None:
        bad = [ip for ip, label, _ in rows(ips) if label == 1]
        per_16 = Counter(int(ip) >> 16 for ip in bad)
        per_24 = Counter(int(ip) >> 8 for ip in bad)
        assert sum(c for _, c in per_16.most_common(6)) > 0.3 * len(bad)
        assert max(per_24.values()) >= 3
        public_benign_16 = Counter(
            int(ip) >> 16 for ip, label, c in rows(ips) if c in ("isp", "cloud")
        )
        assert max(per_16.values()) > 3 * max(public_benign_16.values())

    def test_no_benign_address_is_in_a_bad_network(self, ips: pa.Table) -> None:
        layout = network_layout()
        bad = (*layout.bad16, *layout.bad24)
        assert not [ip for ip, label, _ in rows(ips) if label == 0 and in_any(ip, bad)]

    def test_seeds_share_bad_neighbourhoods(self) -> None:
        def bad_16s(seed: int) -> set[int]:
            table = generate_ips(2000, malicious_share=0.5, seed=seed)
            return {int(ip) >> 16 for ip, label, c in rows(table) if label and c != "botnet"}

        first, second = bad_16s(1), bad_16s(2)
        assert len(first & second) > 0.5 * min(len(first), len(second))

    def test_bad_arguments_are_refused(self) -> None:
        with pytest.raises(ValueError, match="malicious_share"):
            generate_ips(10, malicious_share=-0.1)
        with pytest.raises(ValueError, match="n must be"):
            generate_ips(-5)


class TestGenerateNetset:
    def test_header_then_one_address_or_network_a_line(self, netset: str) -> None:
        lines = netset.splitlines()
        assert lines[0] == "#"
        assert any("ipv4 hash:net" in line for line in lines)
        nets = parse_netset(netset)
        singles = [n for n in nets if n.prefixlen == 32]
        assert singles
        assert any(n.prefixlen == 24 for n in nets)
        assert all(
            "/" not in line
            for line in lines
            if line and not line.startswith("#") and Net(line).prefixlen == 32
        )
        wide = tuple(n for n in nets if n.prefixlen < 32)
        assert not [n for n in singles if in_any(n.network_address, wide)]  # aggregated
        starts = [int(n.network_address) for n in nets]
        assert starts == sorted(starts)
        assert f"has {len(nets)} entries" in netset

    def test_never_covers_a_benign_row_and_names_only_malicious_ones(
        self, ips: pa.Table, netset: str
    ) -> None:
        nets = parse_netset(netset)
        wide = tuple(n for n in nets if n.prefixlen < 32)
        singles = {n.network_address for n in nets if n.prefixlen == 32}
        table = rows(ips)
        malicious = {ip for ip, label, _ in table if label == 1}
        assert singles <= malicious
        assert not [
            ip for ip, label, _ in table if label == 0 and (ip in singles or in_any(ip, wide))
        ]

    def test_covers_at_least_the_share_and_not_every_malicious_row(
        self, ips: pa.Table, netset: str
    ) -> None:
        nets = parse_netset(netset)
        wide = tuple(n for n in nets if n.prefixlen < 32)
        singles = {n.network_address for n in nets if n.prefixlen == 32}
        malicious = [ip for ip, label, _ in rows(ips) if label == 1]
        hit = [ip for ip in malicious if ip in singles or in_any(ip, wide)]
        assert round(0.5 * len(malicious)) <= len(hit) < len(malicious)

    def test_same_seed_same_text(self, ips: pa.Table, netset: str) -> None:
        assert generate_netset(ips, share=0.5, seed=2) == netset
        assert generate_netset(ips, share=0.5, seed=3) != netset

    def test_empty_share_lists_nothing(self, ips: pa.Table) -> None:
        assert parse_netset(generate_netset(ips, share=0.0)) == []
        with pytest.raises(ValueError, match="share"):
            generate_netset(ips, share=1.5)
