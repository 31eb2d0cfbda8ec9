"""Publishing, listing and loading versions: write-once, complete-or-absent, verified."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import fsspec
import pytest

from vigil.errors import (
    IntegrityError,
    MissingExtra,
    ModelNotFound,
    StoreError,
    VersionExists,
)
from vigil.store import LoadedModel, ModelManifest, Store

PublishFn = Callable[..., ModelManifest]


def test_published_model_loads_back_byte_for_byte(store: Store, publish: PublishFn) -> None:
    payload = bytes(range(256)) * 10
    manifest = publish(
        payload=payload,
        metrics={"roc_auc": 0.99},
        training_data="fp-123",
        params={"epochs": 3, "layers": [8, 4]},
        alias="production",
    )

    loaded = store.load("powershell")

    assert loaded == LoadedModel(manifest, payload)
    assert manifest.sha256 == hashlib.sha256(payload).hexdigest()
    assert manifest.ref == "powershell@1"
    assert manifest.metrics == {"roc_auc": 0.99}
    assert manifest.params == {"epochs": 3, "layers": [8, 4]}
    assert manifest.vigil_version


def test_manifest_reads_back_equal_to_what_publish_returned(
    store: Store, publish: PublishFn
) -> None:
    published = publish(metrics={"tpr": 0.8}, params={"nested": {"a": [1, 2]}})

    assert store.manifest("powershell", 1) == published
    assert ModelManifest.from_json(published.to_json()) == published


def test_files_follow_the_documented_layout(local_store: Store, tmp_path: Path) -> None:
    local_store.publish("powershell", b"m", feature_spec="s", threshold=0.1, alias="production")

    root = tmp_path / "models" / "powershell"
    assert (root / "1" / "model.onnx").read_bytes() == b"m"
    assert json.loads((root / "1" / "manifest.json").read_text())["version"] == 1
    alias = json.loads((root / "aliases" / "production.json").read_text())
    assert alias["version"] == 1
    assert alias["previous"] == []
    assert "updated_at" in alias
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_versions_count_up_from_one(store: Store, publish: PublishFn) -> None:
    assert [publish(payload=bytes([i])).version for i in range(3)] == [1, 2, 3]
    assert store.versions("powershell") == [1, 2, 3]
    assert store.detections() == ["powershell"]


def test_detections_are_independent(store: Store, publish: PublishFn) -> None:
    publish("powershell")
    publish("dns-tunnel")
    publish("dns-tunnel")

    assert store.detections() == ["dns-tunnel", "powershell"]
    assert store.versions("powershell") == [1]
    assert store.versions("dns-tunnel") == [1, 2]


def test_an_existing_version_is_never_overwritten(store: Store, publish: PublishFn) -> None:
    publish(payload=b"first")

    with pytest.raises(VersionExists, match=r"powershell@1 already exists.*write-once"):
        publish(payload=b"second", version=1)

    assert store.load("powershell", 1).model_bytes == b"first"
    assert publish(payload=b"second").version == 2


def test_half_written_version_is_not_listed_and_its_number_not_reused(
    store: Store, publish: PublishFn
) -> None:
    publish()
    store.fs.makedirs(f"{store.url}/powershell/2", exist_ok=True)
    store.fs.pipe_file(f"{store.url}/powershell/2/model.onnx", b"crashed before manifest")

    assert store.versions("powershell") == [1]
    assert store.resolve("powershell", "latest") == 1
    with pytest.raises(ModelNotFound, match="known versions: 1"):
        store.load("powershell", 2)
    assert publish().version == 3


def test_latest_is_the_highest_complete_version(store: Store, publish: PublishFn) -> None:
    publish(alias="production")
    publish()

    assert store.resolve("powershell", "latest") == 2
    assert store.resolve("powershell") == 1
    assert store.manifest("powershell", "latest").version == 2
    assert store.load("powershell", "2").manifest.version == 2


def test_tampered_model_is_refused_naming_both_hashes(store: Store, publish: PublishFn) -> None:
    manifest = publish(payload=b"genuine", alias="production")
    store.fs.pipe_file(f"{store.url}/powershell/1/model.onnx", b"evil")
    evil = hashlib.sha256(b"evil").hexdigest()

    with pytest.raises(IntegrityError, match=rf"powershell@1.*{evil}.*{manifest.sha256}"):
        store.load("powershell")


def test_missing_model_file_is_an_integrity_error(store: Store, publish: PublishFn) -> None:
    publish()
    store.fs.rm_file(f"{store.url}/powershell/1/model.onnx")

    with pytest.raises(IntegrityError, match="missing"):
        store.load("powershell", 1)


def test_manifest_moved_from_another_version_is_refused(store: Store, publish: PublishFn) -> None:
    publish()
    publish()
    first = store.fs.cat_file(f"{store.url}/powershell/1/manifest.json")
    store.fs.pipe_file(f"{store.url}/powershell/2/manifest.json", first)

    with pytest.raises(IntegrityError, match="describes powershell@1, not powershell@2"):
        store.load("powershell", 2)


def test_corrupt_manifest_names_its_file(store: Store, publish: PublishFn) -> None:
    publish()
    store.fs.pipe_file(f"{store.url}/powershell/1/manifest.json", b"{not json")

    with pytest.raises(StoreError, match=r"powershell/1/manifest.json is not a readable manifest"):
        store.manifest("powershell", 1)


def test_unknown_detection_says_how_to_train_one(store: Store) -> None:
    expected = r"no model for detection 'powershell' in store .*; train one with `vigil train"
    with pytest.raises(ModelNotFound, match=expected):
        store.load("powershell")
    with pytest.raises(ModelNotFound, match="no model for detection"):
        store.resolve("powershell", "latest")
    with pytest.raises(ModelNotFound, match="no model for detection"):
        store.manifest("powershell", 3)
    assert store.versions("powershell") == []
    assert store.aliases("powershell") == {}
    assert store.detections() == []


def test_unknown_version_lists_the_known_versions(store: Store, publish: PublishFn) -> None:
    publish()
    publish()

    with pytest.raises(ModelNotFound, match=r"has no version 7 .*known versions: 1, 2"):
        store.load("powershell", 7)
    with pytest.raises(ModelNotFound, match="known versions: 1, 2"):
        store.resolve("powershell", "7")


def test_unknown_alias_lists_the_known_aliases(store: Store, publish: PublishFn) -> None:
    publish(alias="staging")

    with pytest.raises(
        ModelNotFound,
        match=r"no alias 'production' .*known aliases: staging \(→ 1\).*--alias production",
    ):
        store.load("powershell")


def test_error_messages_name_the_store_url(store: Store) -> None:
    with pytest.raises(ModelNotFound) as info:
        store.load("powershell")
    assert store.url in str(info.value)


def test_invalid_threshold_writes_nothing(store: Store) -> None:
    with pytest.raises(StoreError, match="outside"):
        store.publish("powershell", b"m", feature_spec="s", threshold=1.5)
    assert store.versions("powershell") == []
    assert store.detections() == []


def test_params_that_are_not_json_write_nothing(store: Store) -> None:
    with pytest.raises(StoreError, match="JSON"):
        store.publish("powershell", b"m", feature_spec="s", threshold=0.5, params={"x": object()})
    assert store.detections() == []


class TestUrls:
    def test_plain_path_and_file_url_are_the_same_store(self, tmp_path: Path) -> None:
        Store(tmp_path).publish("powershell", b"m", feature_spec="s", threshold=0.5)

        by_url = Store(f"file://{tmp_path}")
        assert by_url.url == f"file://{tmp_path}"
        assert by_url.is_local
        assert by_url.load("powershell", 1).model_bytes == b"m"
        assert Store(str(tmp_path)).versions("powershell") == [1]

    def test_local_root_is_created_on_first_publish(self, tmp_path: Path) -> None:
        root = tmp_path / "not" / "yet" / "there"
        store = Store(root)
        assert store.detections() == []
        assert not root.exists()

        store.publish("powershell", b"m", feature_spec="s", threshold=0.5)

        assert (root / "powershell" / "1" / "manifest.json").is_file()

    def test_an_explicit_filesystem_is_used_as_given(self, memory_store: Store) -> None:
        fs = fsspec.filesystem("memory")
        store = Store(memory_store.url, fs=fs)
        store.publish("powershell", b"m", feature_spec="s", threshold=0.5)

        assert store.url == memory_store.url
        assert not store.is_local
        assert memory_store.versions("powershell") == [1]

    def test_unknown_protocol_is_a_store_error(self) -> None:
        with pytest.raises(StoreError, match="nosuchfs://x"):
            Store("nosuchfs://x")


def test_filesystem_failures_become_store_errors_naming_the_url(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"not a directory")
    store = Store(blocker / "models")

    with pytest.raises(StoreError, match=r"could not write powershell@1 in store file://") as info:
        store.publish("powershell", b"m", feature_spec="s", threshold=0.5)
    assert isinstance(info.value.__cause__, OSError)


@pytest.mark.skipif(importlib.util.find_spec("s3fs") is not None, reason="s3fs is installed here")
def test_s3_without_s3fs_names_the_extra_to_install() -> None:
    with pytest.raises(MissingExtra, match=r"vigil\[s3\]"):
        Store("s3://bucket/models")
