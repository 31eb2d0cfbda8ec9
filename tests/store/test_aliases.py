"""Aliases: the only mutable thing in a store, moved atomically and with history."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.errors import InvalidName, ModelNotFound, StoreError
from vigil.store import ModelManifest, Store
from vigil.store.aliases import HISTORY_LIMIT, AliasRecord

PublishFn = Callable[..., ModelManifest]


@pytest.fixture
def three_versions(publish: PublishFn) -> None:
    for payload in (b"one", b"two", b"three"):
        publish(payload=payload)


@pytest.mark.usefixtures("three_versions")
def test_promote_then_rollback_walks_the_history_back(store: Store) -> None:
    assert store.promote("powershell", 1) == 1
    assert store.promote("powershell", "2") == 2
    assert store.promote("powershell", 3) == 3
    assert store.load("powershell").model_bytes == b"three"

    assert store.rollback("powershell") == 2
    assert store.load("powershell").model_bytes == b"two"
    assert store.rollback("powershell") == 1
    with pytest.raises(ModelNotFound, match="no earlier version to roll back to"):
        store.rollback("powershell")
    assert store.resolve("powershell") == 1


@pytest.mark.usefixtures("three_versions")
def test_aliases_are_independent(store: Store) -> None:
    store.promote("powershell", 1)
    store.promote("powershell", 3, alias="staging")

    assert store.aliases("powershell") == {"production": 1, "staging": 3}
    store.promote("powershell", 2, alias="staging")
    assert store.rollback("powershell", "staging") == 3
    assert store.aliases("powershell") == {"production": 1, "staging": 3}


@pytest.mark.usefixtures("three_versions")
def test_promoting_to_the_current_version_changes_nothing(store: Store) -> None:
    store.promote("powershell", 1)
    token = store.alias_token("powershell", "production")

    store.promote("powershell", 1)

    assert store.alias_token("powershell", "production") == token


def test_publish_with_alias_moves_it_and_keeps_history(store: Store, publish: PublishFn) -> None:
    publish(alias="production")
    publish(alias="production")

    assert store.resolve("powershell") == 2
    assert store.rollback("powershell") == 1


@pytest.mark.usefixtures("three_versions")
def test_promoting_a_missing_version_lists_the_known_ones(store: Store) -> None:
    with pytest.raises(ModelNotFound, match=r"has no version 9 .*known versions: 1, 2, 3"):
        store.promote("powershell", 9)
    assert store.aliases("powershell") == {}


def test_promoting_without_any_model_says_how_to_train(store: Store) -> None:
    with pytest.raises(ModelNotFound, match="vigil train powershell"):
        store.promote("powershell", 1)


@pytest.mark.usefixtures("three_versions")
def test_rolling_back_a_missing_alias_lists_the_known_ones(store: Store) -> None:
    store.promote("powershell", 2, alias="staging")

    with pytest.raises(ModelNotFound, match=r"no alias 'production'.*known aliases: staging"):
        store.rollback("powershell")


@pytest.mark.usefixtures("three_versions")
def test_alias_named_latest_cannot_be_created(store: Store) -> None:
    with pytest.raises(InvalidName, match="reserved"):
        store.promote("powershell", 1, alias="latest")


class TestAliasToken:
    @pytest.mark.usefixtures("three_versions")
    def test_changes_whenever_the_alias_moves(self, store: Store) -> None:
        assert store.alias_token("powershell", "production") is None
        seen = []
        for version in (1, 2, 1, 2):
            store.promote("powershell", version)
            seen.append(store.alias_token("powershell", "production"))
        store.rollback("powershell")
        seen.append(store.alias_token("powershell", "production"))

        assert None not in seen
        assert all(a != b for a, b in itertools.pairwise(seen))

    @pytest.mark.usefixtures("three_versions")
    def test_is_stable_while_the_alias_stays(self, store: Store) -> None:
        store.promote("powershell", 2)
        first = store.alias_token("powershell", "production")

        store.promote("powershell", 3, alias="staging")
        store.load("powershell")

        assert store.alias_token("powershell", "production") == first

    def test_follows_latest_and_fixed_versions(self, store: Store, publish: PublishFn) -> None:
        assert store.alias_token("powershell", "latest") is None
        assert store.alias_token("powershell", "1") is None
        publish()
        latest = store.alias_token("powershell", "latest")
        fixed = store.alias_token("powershell", "1")
        publish()

        assert store.alias_token("powershell", "latest") != latest
        assert store.alias_token("powershell", "1") == fixed is not None


def test_corrupt_alias_file_names_itself_and_the_fix(local_store: Store, tmp_path: Path) -> None:
    local_store.publish("powershell", b"m", feature_spec="s", threshold=0.5, alias="production")
    (tmp_path / "models" / "powershell" / "aliases" / "production.json").write_text("[1]")

    with pytest.raises(StoreError, match=r"aliases/production.json is not a vigil alias.*promot"):
        local_store.resolve("powershell")


def test_alias_history_is_bounded() -> None:
    record = AliasRecord(1)
    for version in range(2, HISTORY_LIMIT + 10):
        record = record.moved_to(version)

    assert len(record.previous) == HISTORY_LIMIT
    assert record.previous[-1] == HISTORY_LIMIT + 8
    assert AliasRecord.from_json(record.to_json(), "x") == record


@pytest.mark.parametrize(
    "text", ['{"version": 0}', '{"version": "1"}', '{"version": 2, "previous": ["1"]}', "{}", "3"]
)
def test_alias_files_with_bad_versions_are_refused(text: str) -> None:
    with pytest.raises(StoreError, match="promoting a version again"):
        AliasRecord.from_json(text, "memory:///x/aliases/production.json")


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_readers_never_see_a_torn_alias_while_it_moves(
    kind: str, request: pytest.FixtureRequest
) -> None:
    store: Store = request.getfixturevalue(f"{kind}_store")
    store.publish("powershell", b"one", feature_spec="s", threshold=0.5)
    store.publish("powershell", b"two", feature_spec="s", threshold=0.5)
    store.promote("powershell", 1)
    stop = threading.Event()
    moved = threading.Event()
    moves = 0
    failures: list[BaseException] = []

    def writer() -> None:
        nonlocal moves
        try:
            while not stop.is_set():
                store.promote("powershell", 2 if moves % 2 == 0 else 1)
                moves += 1
                moved.set()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            moved.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert moved.wait(10)
        seen = set()
        for _ in range(500):
            token = store.alias_token("powershell", "production")
            assert token is not None
            assert json.loads(token)["version"] in {1, 2}
            seen.add(store.resolve("powershell"))
            if kind == "local":
                # Listing the directory while temporary files come and go: local only,
                # fsspec's memory filesystem is not safe to list during writes.
                assert store.aliases("powershell")["production"] in {1, 2}
    finally:
        stop.set()
        thread.join()

    assert not failures
    assert moves >= 2
    assert seen <= {1, 2}
