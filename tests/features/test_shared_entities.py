"""The real public domain and IP lists go through normalization and features cleanly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from vigil.features import get_extractor
from vigil.features.entities import normalize_domains, parse_ip, parse_network

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not (DATA / "domains").is_dir(),
        reason=f"{DATA} is absent (the public data lives beside the repo)",
    ),
]


def _read(name: str, columns: list[str]) -> pa.Table:
    options = pcsv.ConvertOptions(include_columns=columns)
    return pcsv.read_csv(DATA / name, convert_options=options)


def test_every_listed_domain_normalizes_to_itself_or_null() -> None:
    domains = _read("domains/domains.csv.gz", ["domain", "label"]).column("domain")
    domains = domains.combine_chunks().cast(pa.large_string())
    normalized = normalize_domains(domains)
    assert len(normalized) == len(domains)
    valid = np.asarray(normalized.is_valid())
    # The lists are lower-case DNS names already: nearly all survive unchanged.
    assert valid.mean() > 0.995
    same = np.asarray(normalized.filter(pa.array(valid))) == np.asarray(
        domains.filter(pa.array(valid))
    )
    assert same.mean() > 0.99


def test_domain_features_on_a_real_sample_are_finite() -> None:
    table = _read("domains/domains.csv.gz", ["domain", "label"])
    rng = np.random.default_rng(0)
    rows = rng.choice(table.num_rows, 20_000, replace=False)
    sample = table.take(pa.array(rows))
    extractor = get_extractor("domain")
    fitted = extractor.fit(sample.column("domain"), sample.column("label").to_numpy())  # type: ignore[attr-defined]
    matrix = fitted.transform(sample.column("domain"))
    assert np.isfinite(matrix.values).all()
    assert matrix.valid.mean() > 0.99


def test_every_listed_ip_or_cidr_parses() -> None:
    values = _read("ips/ips.csv.gz", ["ip"]).column("ip").to_pylist()
    parsed = [parse_network(v) if "/" in v else parse_ip(v) for v in values]
    assert sum(p is None for p in parsed) / len(parsed) < 0.001
