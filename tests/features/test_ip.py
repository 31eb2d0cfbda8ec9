"""IPExtractor: address properties, intel columns, explanations, defined rows for garbage."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from vigil.features.base import Extractor
from vigil.features.ip import FEATURE_NAMES, IPExtractor


def column(values: NDArray[np.float32], name: str) -> list[float]:
    return [round(float(v), 4) for v in values[:, FEATURE_NAMES.index(name)]]


def test_is_an_extractor_with_a_stable_spec() -> None:
    extractor = IPExtractor()
    assert isinstance(extractor, Extractor)
    assert extractor.spec.names == FEATURE_NAMES
    assert extractor.spec.id == IPExtractor(intel=FakeIntel({})).spec.id
    columns = sorted(i for g in extractor.feature_groups().values() for i in g)
    assert columns == list(range(len(FEATURE_NAMES)))


def test_address_properties() -> None:
    values = (
        IPExtractor()
        .transform(
            [
                "8.8.8.8",
                "10.1.2.3:443",
                "127.0.0.1",
                "[::1]:53",
                "224.0.0.1",
                "169.254.1.1",
                "0.0.0.0",
                "100.64.0.1",
                "::ffff:192.168.0.1",
                "2002:c000:204::1",
                "2001:4860:4860::8888",
                "fe80::1%eth0",
            ]
        )
        .values
    )
    assert column(values, "ip:v6") == [0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1]
    # is_global of multicast and tunnel ranges moved between Python patch releases
    assert column(values, "ip:global")[:4] == [1, 0, 0, 0]
    assert column(values, "ip:private") == [0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1]
    assert column(values, "ip:loopback") == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert column(values, "ip:multicast") == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert column(values, "ip:link_local") == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert column(values, "ip:unspecified") == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert column(values, "ip:shared") == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert column(values, "ip:ipv4_mapped") == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    assert column(values, "ip:tunnel") == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_properties_agree_with_ipaddress(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    values = IPExtractor().transform([str(address)]).values
    judged = getattr(address, "ipv4_mapped", None) or address
    assert column(values, "ip:private") == [float(judged.is_private)]
    assert column(values, "ip:global") == [float(judged.is_global)]
    assert column(values, "ip:multicast") == [float(judged.is_multicast)]
    assert column(values, "ip:v6") == [float(address.version == 6)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20), st.ip_addresses().map(str))))
def test_transform_is_total_and_defined(values: list[str | None]) -> None:
    from vigil.features.entities import parse_ip

    matrix = IPExtractor(intel=FakeIntel({})).transform(values)
    assert matrix.values.shape == (len(values), len(FEATURE_NAMES))
    assert matrix.valid.tolist() == [parse_ip(v) is not None for v in values]
    assert not matrix.values[~matrix.valid].any()
    assert np.isfinite(matrix.values).all()


def test_empty_and_null_batches() -> None:
    assert IPExtractor().transform([]).values.shape == (0, len(FEATURE_NAMES))
    assert not IPExtractor().transform(pa.nulls(2)).valid.any()


# -- intel ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeHits:
    exact_sources: pa.Array
    cidr_sources: NDArray[np.int32]
    cidr_prefix: NDArray[np.int32]
    neighbours: NDArray[np.int32]
    allowed: NDArray[np.bool_]


@dataclass(frozen=True)
class FakeIntel:
    """address -> (exact sources, cidr sources, cidr prefix, neighbours, allowed)."""

    table: dict[str, tuple[list[str], int, int, int, bool]]
    fingerprint: str = "fake"

    def ip_hits(self, ips: pa.Array) -> FakeHits:
        rows = [self.table.get(ip, ([], 0, -1, 0, False)) for ip in ips.to_pylist()]
        return FakeHits(
            pa.array([r[0] for r in rows], type=pa.list_(pa.string())),
            np.array([r[1] for r in rows], dtype=np.int32),
            np.array([r[2] for r in rows], dtype=np.int32),
            np.array([r[3] for r in rows], dtype=np.int32),
            np.array([r[4] for r in rows], dtype=bool),
        )


INTEL = FakeIntel(
    {
        "203.0.113.9": (["feodo"], 1, 24, 3, False),
        "2001:db8::5": ([], 2, 64, 0, False),
        "198.51.100.1": (["old-list"], 0, -1, 0, True),
    }
)


def test_intel_columns() -> None:
    values = (
        IPExtractor(INTEL).transform(["203.0.113.9:8080", "2001:DB8:0::5", "8.8.8.8", None]).values
    )
    assert column(values, "intel:cidr_sources") == [1, 2, 0, 0]
    assert column(values, "intel:cidr_prefix") == [0.75, 0.5, 0, 0]
    assert column(values, "intel:neighbours") == [round(float(np.log1p(3)), 4), 0, 0, 0]
    assert column(values, "intel:kinds_hit") == [2, 1, 0, 0]
    assert not IPExtractor().transform(["203.0.113.9"]).values[:, -4:].any()


def test_listed_respects_allow_sources() -> None:
    values = ["203.0.113.9", "198.51.100.1", "8.8.8.8", None, "junk"]
    assert IPExtractor(INTEL).listed(values).tolist() == [True, False, False, False, False]
    assert not IPExtractor().listed(values).any()


def test_indicators() -> None:
    found = IPExtractor(INTEL).indicators(["203.0.113.9", "10.0.0.1", "198.51.100.1", None])
    assert found.to_pylist() == [
        ["private", "listed:feodo", "network-listed:1 sources, /24", "neighbours-listed:3"],
        ["private"],
        ["private", "listed:old-list", "allowlisted"],
        None,
    ]


def test_feature_table() -> None:
    extractor = IPExtractor()
    table = extractor.feature_table(["[2001:db8::1]:443", None, "x"])
    assert table.type == extractor.feature_table_type
    assert table.is_valid().to_pylist() == [True, False, False]
    assert table.to_pylist()[0]["ip"] == "2001:db8::1"
    assert table.to_pylist()[0]["ip_v6"] == pytest.approx(1.0)
