"""The shipped hypothesis strategies make what they promise: nulls, chunks, odd text, pairs."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import pyarrow as pa
import pytest
from hypothesis import find, given, settings

from vigil.datasets.obfuscation import classify_flag
from vigil.testing.strategies import (
    command_lines,
    encoded_pairs,
    obfuscated_pairs,
    string_columns,
)


def undo_plain_obfuscation(text: str) -> str:
    """Remove ticks, carets and '+' concatenations, fold case."""
    text = re.sub(r"'\s*\+\s*'", "", re.sub(r'"\s*\+\s*"', "", text))
    return text.replace("`", "").replace("^", "").lower()


class TestCommandLines:
    @given(command_lines())
    def test_are_non_empty_text(self, line: str) -> None:
        assert isinstance(line, str)
        assert line.strip()

    def test_cover_both_classes(self) -> None:
        find(command_lines(malicious=True), lambda s: "downloadstring" in s.lower())
        find(command_lines(malicious=False), lambda s: "Get-Service" in s)


class TestObfuscatedPairs:
    @settings(max_examples=200)
    @given(obfuscated_pairs())
    def test_undoing_ticks_carets_concatenation_and_case_gives_the_plain_line(
        self, pair: tuple[str, str]
    ) -> None:
        plain, obfuscated = pair
        assert undo_plain_obfuscation(obfuscated) == undo_plain_obfuscation(plain)

    def test_do_obfuscate(self) -> None:
        find(obfuscated_pairs(), lambda p: "`" in p[1])
        find(obfuscated_pairs(), lambda p: "^" in p[1])
        find(obfuscated_pairs(), lambda p: "'+'" in p[1] or "' + '" in p[1])


class TestEncodedPairs:
    @given(encoded_pairs())
    def test_launcher_runs_exactly_the_script(self, pair: tuple[str, str]) -> None:
        script, launcher = pair
        *_, flag, payload = launcher.split(" ")
        assert classify_flag(flag[1:])[0] == "encodedcommand"
        assert base64.b64decode(payload).decode("utf-16-le") == script


class TestStringColumns:
    @given(string_columns())
    def test_are_arrow_string_columns(self, column: pa.Array | pa.ChunkedArray) -> None:
        assert isinstance(column, pa.Array | pa.ChunkedArray)
        assert column.type in (pa.string(), pa.large_string())
        assert len(column) <= 10

    def test_make_multi_chunk_columns_with_nulls(self) -> None:
        found = find(
            string_columns(chunked=True),
            lambda c: c.num_chunks >= 2 and c.null_count > 0 and len(c) >= 3,
        )
        assert isinstance(found, pa.ChunkedArray)

    @pytest.mark.parametrize(
        "odd",
        [
            lambda v: v == "",
            lambda v: not v.isascii(),
            lambda v: any(ord(ch) < 0x20 for ch in v),
            lambda v: len(v) >= 500,
        ],
        ids=["empty", "non-ascii", "control", "long"],
    )
    def test_make_odd_strings(self, odd: Callable[[str], bool]) -> None:
        find(string_columns(), lambda c: any(v is not None and odd(v) for v in c.to_pylist()))

    @given(string_columns(chunked=False, min_size=2, max_size=3))
    def test_sizes_and_plain_arrays_on_request(self, column: pa.Array | pa.ChunkedArray) -> None:
        assert isinstance(column, pa.Array)
        assert 2 <= len(column) <= 3
