"""`vigil train|eval|score domain` and `ip`: same conventions as the PowerShell detection."""

from __future__ import annotations

import ipaddress
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import Result
from typer.testing import CliRunner

import vigil
from vigil.cli import app
from vigil.datasets.domains import generate_blocklist, generate_domains
from vigil.datasets.ips import generate_ips, generate_netset
from vigil.errors import DataError, MissingIntelWarning
from vigil.features import _accel
from vigil.runtime.detection import BUILTIN_DETECTIONS
from vigil.runtime.scorer import LoadedScorerModel
from vigil.store import Store


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def last_json(stdout: str) -> dict[str, object]:
    return json.loads(stdout.rstrip("\n").splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def domain_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with vigil.toml (a hosts-file source), training and test data."""
    root = tmp_path_factory.mktemp("domain-cli")
    table = generate_domains(6_000, seed=31)
    text, _ = generate_blocklist(table, share=0.5, seed=32)
    (root / "block.hosts").write_text(text)
    (root / "vigil.toml").write_text(
        '[profiles.dev]\ndatabase = ":memory:"\nstore = "models"\n\n'
        '[intel.sources.generated]\ntype = "file"\nkind = "domain"\ncategory = "malware"\n'
        'path = "block.hosts"\nformat = "hosts"\n'
    )
    pq.write_table(table, root / "train.parquet")
    pq.write_table(generate_domains(2_000, seed=33), root / "test.parquet")
    return root


@pytest.fixture(scope="module")
def trained_domain(domain_project: Path) -> Result:
    return invoke(
        "--config",
        str(domain_project / "vigil.toml"),
        "train",
        "domain",
        "--data",
        str(domain_project / "train.parquet"),
    )


def test_train_domain_publishes_with_the_intel_fingerprint(
    trained_domain: Result, domain_project: Path
) -> None:
    assert trained_domain.exit_code == 0, trained_domain.output
    assert "trained domain@1" in trained_domain.stdout
    assert "intel: 1 sources" in trained_domain.stdout
    summary = last_json(trained_domain.stdout)
    assert summary["detection"] == "domain"
    manifest = Store(domain_project / "models").manifest("domain")
    assert manifest.params["model"] == "xgboost"
    assert len(manifest.params["intel_fingerprint"]) == 64


def test_eval_domain_prints_per_family_figures_next_to_the_baseline(
    trained_domain: Result, domain_project: Path
) -> None:
    result = invoke(
        "--config",
        str(domain_project / "vigil.toml"),
        "eval",
        "domain",
        "--data",
        str(domain_project / "test.parquet"),
        "--baseline-train",
        str(domain_project / "train.parquet"),
        "--group-col",
        "family",
    )
    assert result.exit_code == 0, result.output
    figures = last_json(result.stdout)
    assert figures["roc_auc"] > 0.9
    assert "baseline_roc_auc" in figures
    assert "dga_hex" in figures["groups"]  # type: ignore[operator]


def test_score_domain_one_line_per_input_in_order(
    trained_domain: Result, domain_project: Path
) -> None:
    lines = ["google.com", "", "qkzvxwtrpl.top", "NULL", "https://Login.Example.com:443/x"]
    result = invoke(
        "--config", str(domain_project / "vigil.toml"), "score", "domain", input="\n".join(lines)
    )
    assert result.exit_code == 0, result.output
    out = [float(v) for v in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert math.isnan(out[1])
    assert math.isnan(out[3])
    assert 0.0 <= out[0] <= 1.0
    assert 0.0 <= out[2] <= 1.0
    with vigil.connect(config=domain_project / "vigil.toml") as session:
        bound = session.detection("domain")  # the profile's intel, as the CLI binds it
        assert out[4] == pytest.approx(bound.score(["login.example.com"])[0], abs=1e-6)


def test_a_model_trained_with_intel_warns_once_when_scored_without_it(
    trained_domain: Result, domain_project: Path
) -> None:
    bound = BUILTIN_DETECTIONS["domain"].bind(Store(domain_project / "models"))
    with pytest.warns(MissingIntelWarning, match=r"domain@1 was trained with threat intell"):
        bound.score(["login.example.com"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bound.score(["example.org"])  # once per model, not per batch


def test_train_score_ip(tmp_path: Path) -> None:
    table = generate_ips(4_000, seed=41)
    (tmp_path / "bad.netset").write_text(generate_netset(table, share=0.5, seed=42))
    (tmp_path / "vigil.toml").write_text(
        '[profiles.dev]\nstore = "models"\n\n'
        '[intel.sources.netset]\ntype = "file"\nkind = "ip"\ncategory = "malware"\n'
        'path = "bad.netset"\nformat = "netset"\n'
    )
    pq.write_table(table, tmp_path / "ips.parquet")
    trained = invoke("train", "ip", "--data", str(tmp_path / "ips.parquet"))
    assert trained.exit_code == 0, trained.output
    scored = invoke("score", "ip", input="8.8.8.8\n10.0.0.1\n1.2.3.4:443\nnot-an-ip\n")
    assert scored.exit_code == 0, scored.output
    out = [float(v) for v in scored.stdout.splitlines()]
    assert len(out) == 4
    assert all(0.0 <= v <= 1.0 for v in out[:3])
    assert math.isnan(out[3])
    if _accel.kernels is not None:  # the IP model's trees are walked like the domain model's
        model = LoadedScorerModel(Store(tmp_path / "models").load("ip", "production"))
        assert model.engine == "vigil trees", model.trees_declined


def test_an_ip_model_without_intel_that_learned_nothing_is_not_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Public IPv4 addresses only: without intel every feature is the same for every row,
    # and a constant model would alert on everything at its threshold.
    monkeypatch.chdir(tmp_path)
    table = generate_ips(3_000, seed=43)
    public = [ip.is_global for ip in map(ipaddress.ip_address, table.column("ip").to_pylist())]
    pq.write_table(table.filter(pa.array(public)), tmp_path / "ips.parquet")
    (tmp_path / "vigil.toml").write_text('[profiles.dev]\nstore = "models"\n')
    result = CliRunner().invoke(app, ["train", "ip", "--data", str(tmp_path / "ips.parquet")])
    assert isinstance(result.exception, DataError), result.output
    message = str(result.exception)
    assert "no better than chance" in message
    assert "not published" in message
    assert "[intel.sources]" in message
    assert not (tmp_path / "models" / "ip").exists()


def test_the_cli_prints_a_vigil_warning_as_one_line(
    trained_domain: Result, domain_project: Path
) -> None:
    vigil_exe = str(Path(sys.executable).with_name("vigil"))
    config = str(domain_project / "vigil.toml")
    proc = subprocess.run(
        [vigil_exe, "--config", config, "score", "domain", "--no-intel"],
        input="example.org\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    (line,) = proc.stderr.splitlines()
    assert line.startswith("warning: domain: domain@1 was trained with threat intelligence")
    assert line.endswith("configure the [intel.sources] it was trained with (and drop --no-intel)")
