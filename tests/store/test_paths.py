"""Names and versions are single safe path components; anything else is refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.errors import InvalidName
from vigil.store import Store
from vigil.store.paths import check_alias, check_name, parse_ref, parse_version

SPEC = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _matches_spec(text: str) -> bool:
    # fullmatch: a trailing newline, which "$" alone would let through, is not a name.
    return SPEC.fullmatch(text) is not None


@given(st.text())
def test_any_string_outside_the_pattern_is_refused(text: str) -> None:
    if _matches_spec(text):
        assert check_name(text) == text
    else:
        with pytest.raises(InvalidName, match="a-z, 0-9"):
            check_name(text)


@given(st.from_regex(r"[a-z][a-z0-9_-]{0,63}", fullmatch=True))
def test_any_string_inside_the_pattern_is_accepted(text: str) -> None:
    assert check_name(text) == text


@given(st.from_regex(r"[a-z][a-z0-9_-]{0,63}", fullmatch=True))
def test_store_accepts_every_valid_detection_name(text: str) -> None:
    assert Store("memory://vigil-test-names-never-written").versions(text) == []


@pytest.mark.parametrize(
    "bad",
    ["", "..", ".", "a/b", "a\\b", "Powershell", "1abc", "_x", "abc\n", "é", "a" * 65, "a b"],
)
def test_path_tricks_are_refused_everywhere(bad: str, local_store: Store) -> None:
    with pytest.raises(InvalidName, match="is not allowed"):
        local_store.publish(bad, b"x", feature_spec="s", threshold=0.5)
    with pytest.raises(InvalidName):
        local_store.load(bad)
    with pytest.raises(InvalidName):
        local_store.promote("powershell", 1, alias=bad)


def test_latest_is_reserved_as_an_alias_name() -> None:
    with pytest.raises(InvalidName, match="reserved"):
        check_alias("latest")


@pytest.mark.parametrize(("given_", "expected"), [(1, 1), ("1", 1), ("007", 7), (42, 42)])
def test_versions_are_ints_or_digit_strings(given_: int | str, expected: int) -> None:
    assert parse_version(given_) == expected


@pytest.mark.parametrize("bad", [0, -1, "0", "-1", "1.0", "", " 1", "١", True, 1.0, None])
def test_versions_below_one_or_not_digits_are_refused(bad: object) -> None:
    with pytest.raises(InvalidName, match="whole number from 1 up"):
        parse_version(bad)


@pytest.mark.parametrize("bad", ["../x", "-1", "Production", "", "1.5"])
def test_refs_that_are_neither_version_nor_alias_are_refused(bad: str) -> None:
    with pytest.raises(InvalidName, match="version number"):
        parse_ref(bad)
