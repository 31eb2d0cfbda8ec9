"""Generated PowerShell data: deterministic, labelled as asked, realistic on both sides."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from vigil.datasets.obfuscation import OBFUSCATIONS, classify_flag, split_launcher
from vigil.datasets.powershell import (
    BENIGN_FAMILIES,
    MALICIOUS_FAMILIES,
    content_key,
    generate_commands,
    generate_events,
    split_by_content,
)

ENCODED_FLAG_RE = re.compile(r"(?:^|\s)[-/](e|ec|en[a-z]*)\s+([A-Za-z0-9+/=]{8,})", re.IGNORECASE)


def is_encoded_launch(line: str) -> bool:
    match = ENCODED_FLAG_RE.search(line)
    return match is not None and classify_flag(match.group(1))[0] == "encodedcommand"


@pytest.fixture(scope="module")
def commands() -> pa.Table:
    return generate_commands(4000, malicious_share=0.4, seed=11)


@pytest.fixture(scope="module")
def events() -> pa.Table:
    return generate_events(20_000, malicious_share=0.01, seed=5)


def rows(table: pa.Table, label: int) -> list[str]:
    return [r["command_line"] for r in table.to_pylist() if r["label"] == label]


class TestGenerateCommands:
    def test_schema(self, commands: pa.Table) -> None:
        assert commands.schema == pa.schema(
            [
                ("command_line", pa.large_string()),
                ("label", pa.int8()),
                ("family", pa.string()),
                ("obfuscations", pa.string()),
            ]
        )
        assert all(c.null_count == 0 for c in commands.columns)

    def test_same_seed_same_table_other_seed_other_table(self) -> None:
        assert generate_commands(300, seed=3).equals(generate_commands(300, seed=3))
        assert not generate_commands(300, seed=3).equals(generate_commands(300, seed=4))

    @pytest.mark.parametrize(
        ("n", "share"), [(1000, 0.1), (999, 0.3), (10, 0.0), (10, 1.0), (0, 0.5)]
    )
    def test_malicious_count_is_the_share_rounded(self, n: int, share: float) -> None:
        table = generate_commands(n, malicious_share=share, seed=1)
        assert table.num_rows == n
        assert (pc.sum(table["label"]).as_py() or 0) == round(n * share)

    def test_every_family_appears_with_its_label(self, commands: pa.Table) -> None:
        pairs = set(zip(commands["family"].to_pylist(), commands["label"].to_pylist(), strict=True))
        assert pairs == {(f, 0) for f in BENIGN_FAMILIES} | {(f, 1) for f in MALICIOUS_FAMILIES}
        assert len(BENIGN_FAMILIES) >= 20
        assert len(MALICIOUS_FAMILIES) >= 15

    def test_obfuscations_name_registered_transforms(self, commands: pa.Table) -> None:
        names = {n for value in commands["obfuscations"].to_pylist() for n in value.split(",") if n}
        assert names <= set(OBFUSCATIONS)
        assert names == set(OBFUSCATIONS)

    @pytest.mark.parametrize(
        ("rate", "low", "high"), [(0.0, 0.0, 0.0), (0.5, 0.35, 0.65), (1.0, 0.9, 1.0)]
    )
    def test_obfuscation_rate_sets_the_obfuscated_share_of_malicious_rows(
        self, rate: float, low: float, high: float
    ) -> None:
        table = generate_commands(1000, malicious_share=0.5, seed=2, obfuscation_rate=rate)
        applied = [
            o
            for o, y in zip(
                table["obfuscations"].to_pylist(), table["label"].to_pylist(), strict=True
            )
            if y == 1
        ]
        share = sum(bool(o) for o in applied) / len(applied)
        assert low <= share <= high

    def test_benign_lines_carry_the_suspicious_tokens_admins_use(self, commands: pa.Table) -> None:
        benign = rows(commands, 0)
        lowered = [line.lower() for line in benign]

        def share(pattern: str) -> float:
            return sum(bool(re.search(pattern, line)) for line in lowered) / len(lowered)

        assert share(r"bypass") >= 0.05
        assert share(r"-noprofile|-nop\b") >= 0.05
        assert share(r"-windowstyle hidden|-w hidden|-w 1\b") > 0.005
        assert share(r"invoke-webrequest|downloadfile|downloadstring|start-bitstransfer") > 0.02
        assert share(r"new-object (system\.)?net\.webclient") > 0.005
        for token in (
            "add-type",
            "tobase64string",
            "get-credential",
            "schtasks /create",
            "start-process",
        ):
            assert share(re.escape(token)) > 0.001, token

    def test_a_good_share_of_benign_lines_are_encoded_launches(self, commands: pa.Table) -> None:
        benign = rows(commands, 0)
        encoded = [line for line in benign if is_encoded_launch(line)]
        assert 0.08 <= len(encoded) / len(benign) <= 0.18
        for line in encoded[:50]:
            payload = ENCODED_FLAG_RE.search(line).group(2)  # type: ignore[union-attr]
            assert base64.b64decode(payload).decode("utf-16-le")

    def test_malicious_lines_come_plain_and_encoded(self, commands: pa.Table) -> None:
        malicious = rows(commands, 1)
        encoded = sum(is_encoded_launch(line) for line in malicious) / len(malicious)
        assert 0.1 <= encoded <= 0.5
        assert sum("downloadstring(" in line.lower() for line in malicious) > 0.05 * len(malicious)

    def test_payloads_differ_from_row_to_row(self, commands: pa.Table) -> None:
        assert pc.count_distinct(commands["command_line"]).as_py() >= 0.9 * commands.num_rows

    def test_bad_arguments_are_refused(self) -> None:
        with pytest.raises(ValueError, match="malicious_share"):
            generate_commands(10, malicious_share=1.5)
        with pytest.raises(ValueError, match="n must be"):
            generate_commands(-1)


class TestGenerateEvents:
    def test_schema(self, events: pa.Table) -> None:
        assert events.schema == pa.schema(
            [
                ("event_id", pa.int64()),
                ("ts", pa.timestamp("us", tz="UTC")),
                ("host", pa.string()),
                ("user", pa.string()),
                ("parent_image", pa.string()),
                ("image", pa.string()),
                ("cmd", pa.large_string()),
                ("label", pa.int8()),
            ]
        )
        assert all(c.null_count == 0 for c in events.columns)

    def test_ids_count_from_first_id_and_times_strictly_increase_over_a_week(self) -> None:
        start = datetime(2025, 1, 6, tzinfo=UTC)
        table = generate_events(5000, seed=1, start=start, first_id=1001)
        assert table["event_id"].to_pylist() == list(range(1001, 6001))
        ts = table["ts"].cast(pa.int64()).to_numpy()
        assert (np.diff(ts) > 0).all()
        first, last = table["ts"][0].as_py(), table["ts"][-1].as_py()
        assert start <= first < start + timedelta(hours=6)
        assert start + timedelta(days=6) < last <= start + timedelta(days=7)

    def test_same_seed_same_events(self) -> None:
        assert generate_events(2000, seed=9).equals(generate_events(2000, seed=9))

    def test_labels_hosts_and_images(self, events: pa.Table) -> None:
        assert pc.sum(events["label"]).as_py() == 200
        assert 200 <= pc.count_distinct(events["host"]).as_py() <= 500
        for cmd, image in zip(events["cmd"].to_pylist(), events["image"].to_pylist(), strict=True):
            exe = cmd.split(" -", 1)[0].lower()
            assert image.lower().endswith("pwsh.exe") == ("pwsh" in exe)

    def test_every_cmd_is_a_process_command_line(self, events: pa.Table) -> None:
        assert all(split_launcher(cmd)[0] for cmd in events["cmd"].to_pylist())

    def test_benign_events_repeat_like_scheduled_work(self, events: pa.Table) -> None:
        benign = events.filter(pc.equal(events["label"], 0))["cmd"]
        counts = pc.value_counts(benign).field("counts").to_numpy()
        repeated_rows = counts[counts > 1].sum() / len(benign)
        assert 0.5 <= repeated_rows <= 0.8

    def test_some_benign_events_are_encoded_launches(self, events: pa.Table) -> None:
        benign = events.filter(pc.equal(events["label"], 0))["cmd"].to_pylist()
        assert 0.05 <= sum(is_encoded_launch(c) for c in benign) / len(benign) <= 0.3


class TestSplitByContent:
    def test_no_content_on_both_sides_and_no_row_lost(self, commands: pa.Table) -> None:
        train, test = split_by_content(commands, test_share=0.25, seed=1)
        assert train.num_rows + test.num_rows == commands.num_rows
        train_keys = set(content_key(train["command_line"]).to_pylist())
        test_keys = set(content_key(test["command_line"]).to_pylist())
        assert not train_keys & test_keys
        assert 0.18 <= test.num_rows / commands.num_rows <= 0.32

    def test_case_and_spacing_variants_land_together(self) -> None:
        lines = [
            "Get-Service  W3SVC",
            "get-service w3svc",
            " GET-SERVICE\tW3SVC ",
            "Get-Process",
        ] * 10
        table = pa.table({"cmd": pa.array(lines), "n": pa.array(range(len(lines)))})
        for seed in range(10):
            _, test = split_by_content(table, 0.5, seed)
            kinds = {n % 4 for n in test["n"].to_pylist()}
            assert kinds & {0, 1, 2} in (set(), {0, 1, 2})

    def test_events_split_on_cmd_and_nulls_go_to_train(self) -> None:
        table = pa.table({"cmd": pa.array(["a", None, "b", None], type=pa.large_string())})
        train, test = split_by_content(table, test_share=1.0, seed=0)
        assert train["cmd"].to_pylist() == [None, None]
        assert test["cmd"].to_pylist() == ["a", "b"]

    def test_multi_chunk_tables_split_like_their_concatenation(self, commands: pa.Table) -> None:
        chunked = pa.concat_tables([commands.slice(0, 1000), commands.slice(1000)])
        assert chunked["command_line"].num_chunks == 2
        assert split_by_content(chunked, 0.2, 1)[1].equals(split_by_content(commands, 0.2, 1)[1])

    def test_deterministic_for_a_seed(self, commands: pa.Table) -> None:
        assert split_by_content(commands, 0.2, 3)[1].equals(split_by_content(commands, 0.2, 3)[1])
        assert not split_by_content(commands, 0.2, 3)[1].equals(
            split_by_content(commands, 0.2, 4)[1]
        )
