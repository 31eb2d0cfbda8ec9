"""The model store: publish, list, resolve and load model versions under one root URL.

Layout under the root::

    <detection>/<version>/model.onnx
    <detection>/<version>/manifest.json     written last: a version without it is incomplete
    <detection>/aliases/<alias>.json        the only files ever rewritten, atomically
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from types import MappingProxyType
from typing import Any

import fsspec
from fsspec.core import url_to_fs

from vigil.errors import IntegrityError, MissingExtra, ModelNotFound, StoreError, VersionExists
from vigil.store import _io
from vigil.store.aliases import AliasRecord
from vigil.store.manifest import ModelManifest
from vigil.store.paths import LATEST, check_alias, check_name, parse_ref, parse_version

MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
ALIAS_DIR = "aliases"
DEFAULT_REF = "production"

_NOTHING: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class LoadedModel:
    """A model version's bytes, checked against the sha256 in its manifest."""

    manifest: ModelManifest
    model_bytes: bytes


class Store:
    """Versioned, write-once model files with movable aliases, on any fsspec URL.

    Args:
        url: a local directory (plain path or ``file://``) or any fsspec URL such as
            ``s3://bucket/models``. A local root is created on first publish.
        fs: an already configured filesystem; ``url`` is then a path on it.
        storage_options: passed to fsspec when ``fs`` is not given (credentials, endpoint).

    Raises:
        StoreError: the URL names no known filesystem.
        MissingExtra: the URL's filesystem package (e.g. ``s3fs``) is not installed.
    """

    def __init__(
        self,
        url: str | os.PathLike[str],
        *,
        fs: fsspec.AbstractFileSystem | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        text = os.fspath(url)
        try:
            if fs is None:
                fs, root = url_to_fs(text, **dict(storage_options or {}))
            else:
                root = fs._strip_protocol(text)
        except ImportError as exc:
            if text.startswith(("s3://", "s3a://")):
                raise MissingExtra("s3fs", "s3") from exc
            raise StoreError(f"cannot open model store {text!r}: {exc}") from exc
        except (ValueError, OSError) as exc:
            raise StoreError(
                f"cannot open model store {text!r}: {exc}; check the URL and storage_options"
            ) from exc
        self._fs = fs
        self._root: str = str(root).rstrip("/") or "/"
        self._url: str = str(fs.unstrip_protocol(self._root))

    @property
    def url(self) -> str:
        """The root as a full URL, e.g. ``file:///srv/models`` or ``s3://bucket/models``."""
        return self._url

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        return self._fs

    @property
    def is_local(self) -> bool:
        """True on a local disk, where re-reading an alias costs microseconds."""
        return _io.is_local(self._fs)

    def __repr__(self) -> str:
        return f"Store({self._url!r})"

    # -- writing -------------------------------------------------------------------------

    def publish(
        self,
        detection: str,
        model_bytes: bytes,
        *,
        feature_spec: str,
        threshold: float,
        metrics: Mapping[str, float] = _NOTHING,
        training_data: str = "",
        params: Mapping[str, Any] = _NOTHING,
        alias: str | None = None,
        version: int | str | None = None,
    ) -> ModelManifest:
        """Store ``model_bytes`` as the next version of ``detection``.

        The model file is written first and the manifest last, so readers never list a
        half-written version. ``version`` is for copying between stores; normally the
        store picks max(existing) + 1, counting incomplete versions so that their files
        are never reused.

        Args:
            alias: if given, moved to the new version once it is complete.
            version: publish under this number instead of the next free one.

        Raises:
            InvalidName: ``detection``, ``alias`` or ``version`` is not allowed.
            VersionExists: the version has files already, e.g. a concurrent publish won.
            StoreError: the manifest is invalid or the store cannot be written.
        """
        detection = check_name(detection)
        if alias is not None:
            alias = check_alias(alias)
        number = self._next_version(detection) if version is None else parse_version(version)
        manifest = ModelManifest(
            detection=detection,
            version=number,
            sha256=hashlib.sha256(model_bytes).hexdigest(),
            feature_spec=feature_spec,
            threshold=threshold,
            metrics=dict(metrics),
            training_data=training_data,
            vigil_version=_vigil_version(),
            params=dict(params),
        )
        try:
            text = manifest.to_json()
        except (TypeError, ValueError) as exc:
            raise StoreError(
                f"manifest for {manifest.ref} cannot be written: {exc}; metrics and params "
                "must be JSON values"
            ) from exc
        directory = self._path(detection, str(number))
        with self._mapped(f"write {manifest.ref}"):
            self._fs.makedirs(directory, exist_ok=True)
            try:
                _io.write_new(self._fs, posixpath.join(directory, MODEL_FILE), model_bytes)
                _io.write_new(self._fs, posixpath.join(directory, MANIFEST_FILE), text.encode())
            except FileExistsError as exc:
                raise VersionExists(
                    f"{manifest.ref} already exists in store {self.url}: versions are "
                    "write-once; publish again without version= to take the next free number"
                ) from exc
        if alias is not None:
            self.promote(detection, number, alias)
        return manifest

    def promote(self, detection: str, version: int | str, alias: str = DEFAULT_REF) -> int:
        """Point ``alias`` at ``version``; the version it left goes onto its history.

        Promoting to the version the alias already points at changes nothing. Two
        concurrent moves of one alias: the last one wins.

        Returns:
            The version the alias now points at.

        Raises:
            ModelNotFound: ``version`` is not a complete version of ``detection``.
        """
        detection = check_name(detection)
        alias = check_alias(alias)
        number = parse_version(version)
        if not self._has_version(detection, number):
            raise self._no_version(detection, number)
        current = self._read_alias(detection, alias)
        if current is None:
            self._write_alias(detection, alias, AliasRecord(number))
        elif current.version != number:
            self._write_alias(detection, alias, current.moved_to(number))
        return number

    def rollback(self, detection: str, alias: str = DEFAULT_REF) -> int:
        """Point ``alias`` back at the version it pointed at before its last move.

        Returns:
            The version the alias now points at.

        Raises:
            ModelNotFound: the alias does not exist or has no earlier version.
        """
        detection = check_name(detection)
        alias = check_alias(alias)
        current = self._read_alias(detection, alias)
        if current is None:
            raise self._no_alias(detection, alias)
        if not current.previous:
            raise ModelNotFound(
                f"alias {alias!r} of detection {detection!r} in store {self.url} has no "
                f"earlier version to roll back to (it points at {detection}@{current.version}); "
                f"move it with `vigil models promote {detection} <version> --alias {alias}`"
            )
        record = current.rolled_back()
        self._write_alias(detection, alias, record)
        return record.version

    # -- reading -------------------------------------------------------------------------

    def detections(self) -> list[str]:
        """Names of the detections with a folder in the store, sorted."""
        with self._mapped("list detections"):
            found = _io.names(self._fs, self._root, directories_only=True)
        return sorted(n for n in found if _is_name(n))

    def versions(self, detection: str) -> list[int]:
        """Complete versions of ``detection`` (those with a manifest), ascending."""
        detection = check_name(detection)
        return [n for n in self._version_dirs(detection) if self._has_version(detection, n)]

    def aliases(self, detection: str) -> dict[str, int]:
        """Every alias of ``detection`` and the version it points at."""
        detection = check_name(detection)
        with self._mapped(f"list the aliases of {detection!r}"):
            files = _io.names(self._fs, self._path(detection, ALIAS_DIR))
        found = {}
        for file in sorted(files):
            name, dot, suffix = file.rpartition(".")
            if dot and suffix == "json" and _is_name(name):
                record = self._read_alias(detection, name)
                if record is not None:
                    found[name] = record.version
        return found

    def resolve(self, detection: str, ref: int | str = DEFAULT_REF) -> int:
        """The version that ``ref`` (number, digit string, alias or ``"latest"``) means now.

        Raises:
            InvalidName: ``detection`` or ``ref`` is not allowed.
            ModelNotFound: no such version or alias, or no versions at all.
        """
        detection = check_name(detection)
        number = self._resolve(detection, ref)
        if not self._has_version(detection, number):
            raise self._no_version(detection, number)
        return number

    def manifest(self, detection: str, ref: int | str = DEFAULT_REF) -> ModelManifest:
        """The manifest of the version ``ref`` means now (see :meth:`resolve`)."""
        detection = check_name(detection)
        return self._read_manifest(detection, self._resolve(detection, ref))

    def load(self, detection: str, ref: int | str = DEFAULT_REF) -> LoadedModel:
        """The model ``ref`` means now, its bytes checked against its manifest's sha256.

        Raises:
            IntegrityError: the model file was changed or removed after publishing.
            ModelNotFound: no such version or alias, or no versions at all.
        """
        manifest = self.manifest(detection, ref)
        path = self._path(manifest.detection, str(manifest.version), MODEL_FILE)
        with self._mapped(f"read {self._uri(path)}"):
            try:
                data = _io.read(self._fs, path)
            except FileNotFoundError as exc:
                raise IntegrityError(
                    f"model {manifest.ref}: {self._uri(path)} is missing though its manifest "
                    "exists; re-publish it or move the alias to another version"
                ) from exc
        actual = hashlib.sha256(data).hexdigest()
        if actual != manifest.sha256.lower():
            raise IntegrityError(
                f"model {manifest.ref}: {MODEL_FILE} has sha256 {actual}, its manifest says "
                f"{manifest.sha256}; the file was changed after publishing — re-publish it or "
                "move the alias to another version"
            )
        return LoadedModel(manifest, data)

    def alias_token(self, detection: str, alias: str) -> str | None:
        """A string that changes whenever ``alias`` moves; None if it does not exist.

        Running scorers call this before every batch, so it costs one small read: the
        alias file's content, which names the version. A version number is its own token
        (versions never change); ``"latest"`` lists the versions.
        """
        detection = check_name(detection)
        ref = parse_ref(alias)
        if isinstance(ref, int):
            return f"version:{ref}" if self._has_version(detection, ref) else None
        if ref == LATEST:
            found = self.versions(detection)
            return f"latest:{found[-1]}" if found else None
        path = self._alias_path(detection, ref)
        with self._mapped(f"read {self._uri(path)}"):
            try:
                return _io.read(self._fs, path).decode("utf-8", "replace")
            except FileNotFoundError:
                return None

    # -- internals -----------------------------------------------------------------------

    def _path(self, *parts: str) -> str:
        return posixpath.join(self._root, *parts)

    def _uri(self, path: str) -> str:
        return str(self._fs.unstrip_protocol(path))

    def _alias_path(self, detection: str, alias: str) -> str:
        return self._path(detection, ALIAS_DIR, f"{alias}.json")

    @contextmanager
    def _mapped(self, doing: str) -> Iterator[None]:
        """Turn filesystem errors into StoreError, naming what failed and where."""
        try:
            yield
        except OSError as exc:
            raise StoreError(
                f"could not {doing} in store {self.url}: {exc!r}; check the store URL, "
                "that it is reachable, and that these credentials may read and write it"
            ) from exc

    def _version_dirs(self, detection: str) -> list[int]:
        """Every version folder, complete or not, ascending."""
        with self._mapped(f"list the versions of {detection!r}"):
            found = _io.names(self._fs, self._path(detection))
        return sorted(int(n) for n in found if n.isascii() and n.isdigit() and n[0] != "0")

    def _next_version(self, detection: str) -> int:
        return max(self._version_dirs(detection), default=0) + 1

    def _has_version(self, detection: str, number: int) -> bool:
        path = self._path(detection, str(number), MANIFEST_FILE)
        with self._mapped(f"check {self._uri(path)}"):
            return _io.exists(self._fs, path)

    def _resolve(self, detection: str, ref: int | str) -> int:
        """Like :meth:`resolve`, without checking that a version number exists."""
        parsed = parse_ref(ref)
        if isinstance(parsed, int):
            return parsed
        if parsed == LATEST:
            found = self.versions(detection)
            if not found:
                raise self._no_model(detection)
            return found[-1]
        record = self._read_alias(detection, parsed)
        if record is None:
            raise self._no_alias(detection, parsed)
        return record.version

    def _read_manifest(self, detection: str, number: int) -> ModelManifest:
        path = self._path(detection, str(number), MANIFEST_FILE)
        with self._mapped(f"read {self._uri(path)}"):
            try:
                text = _io.read(self._fs, path)
            except FileNotFoundError as exc:
                raise self._no_version(detection, number) from exc
        try:
            manifest = ModelManifest.from_json(text.decode("utf-8"))
        except (StoreError, TypeError, ValueError) as exc:
            raise StoreError(
                f"{self._uri(path)} is not a readable manifest: {exc}; re-publish the model "
                "or move the alias to another version"
            ) from exc
        if (manifest.detection, manifest.version) != (detection, number):
            raise IntegrityError(
                f"{self._uri(path)} describes {manifest.ref}, not {detection}@{number}; the "
                "store was edited by hand — re-publish the model or move the alias"
            )
        return manifest

    def _read_alias(self, detection: str, alias: str) -> AliasRecord | None:
        path = self._alias_path(detection, alias)
        with self._mapped(f"read {self._uri(path)}"):
            try:
                text = _io.read(self._fs, path)
            except FileNotFoundError:
                return None
        return AliasRecord.from_json(text, self._uri(path))

    def _write_alias(self, detection: str, alias: str, record: AliasRecord) -> None:
        path = self._alias_path(detection, alias)
        with self._mapped(f"write {self._uri(path)}"):
            self._fs.makedirs(posixpath.dirname(path), exist_ok=True)
            _io.replace(self._fs, path, record.to_json().encode())

    def _no_model(self, detection: str) -> ModelNotFound:
        return ModelNotFound(
            f"no model for detection {detection!r} in store {self.url}; train one with "
            f"`vigil train {detection}`"
        )

    def _no_version(self, detection: str, number: int) -> ModelNotFound:
        known = self.versions(detection)
        if not known:
            return self._no_model(detection)
        return ModelNotFound(
            f"detection {detection!r} has no version {number} in store {self.url}; known "
            f"versions: {', '.join(map(str, known))}"
        )

    def _no_alias(self, detection: str, alias: str) -> ModelNotFound:
        if not self.versions(detection):
            return self._no_model(detection)
        known = self.aliases(detection)
        listed = ", ".join(f"{a} (→ {v})" for a, v in known.items()) or "none"
        return ModelNotFound(
            f"detection {detection!r} has no alias {alias!r} in store {self.url}; known "
            f"aliases: {listed}; point it at a version with "
            f"`vigil models promote {detection} <version> --alias {alias}`"
        )


def _is_name(text: str) -> bool:
    try:
        check_name(text)
    except StoreError:
        return False
    return True


def _vigil_version() -> str:
    try:
        return package_version("vigil")
    except PackageNotFoundError:
        return "0+unknown"
