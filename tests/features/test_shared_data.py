"""Every row of the real public PowerShell data goes through the extractor cleanly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from vigil.features.powershell import PowerShellExtractor

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "powershell"
TABLES = {
    "mpsd_scripts.parquet": "script",
    "unit42_encodedcommand.parquet": "command_line",
    "atomic_red_team_windows_commands.csv.gz": "command",
    "powershell_docs_examples.csv.gz": "code",
}

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not DATA.is_dir(), reason=f"{DATA} is absent (the public data lives beside the repo)"
    ),
]


def _column(name: str, column: str) -> pa.Array:
    path = DATA / name
    if name.endswith(".parquet"):
        table = pq.read_table(path, columns=[column])
    else:
        table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(newlines_in_values=True))
    return table.column(column).combine_chunks()


@pytest.mark.parametrize(("name", "column"), TABLES.items(), ids=list(TABLES))
def test_every_shared_row_gives_finite_features(name: str, column: str) -> None:
    extractor = PowerShellExtractor()
    values = _column(name, column)
    for start in range(0, len(values), 4096):
        matrix = extractor.transform(values.slice(start, 4096))
        assert np.isfinite(matrix.values).all()


def test_unit42_launchers_are_judged_by_their_decoded_payload() -> None:
    extractor = PowerShellExtractor()
    values = _column("unit42_encodedcommand.parquet", "command_line").slice(0, 500)
    analysis = extractor.analyze(values)
    assert (analysis.layers >= 1).mean() > 0.95
