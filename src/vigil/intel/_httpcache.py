"""The last good copy of an HTTP feed on disk: its body, and a JSON note of how to revalidate it.

Both files are written to a temporary name and moved into place, so a reader sees the old
copy or the new one, never half of one. The note records the body's sha256; a body that does
not match its note (two writers raced, a disk filled) counts as no copy at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class CachedBody:
    """One cached response body and the validators the server sent with it."""

    url: str
    body: bytes
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None

    def age_seconds(self, now: datetime) -> float:
        return (now - self.fetched_at).total_seconds()

    def validators(self) -> dict[str, str]:
        """Headers that ask the server for the body only if it changed."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class HTTPCache:
    """``<directory>/<key>.body`` and ``<key>.json`` for one source."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.body_path = directory / f"{key}.body"
        self.meta_path = directory / f"{key}.json"

    def read(self, url: str) -> CachedBody | None:
        """The cached copy of ``url``, or ``None`` when absent, for another URL, or damaged."""
        try:
            meta = json.loads(self.meta_path.read_text("utf-8"))
            body = self.body_path.read_bytes()
            if meta.get("url") != url or meta.get("sha256") != hashlib.sha256(body).hexdigest():
                return None
            return CachedBody(
                url=url,
                body=body,
                fetched_at=datetime.fromisoformat(meta["fetched_at"]),
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def write(self, entry: CachedBody, *, body_changed: bool = True) -> None:
        """Store ``entry``; with ``body_changed=False`` only the note is rewritten."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if body_changed:
            _write_atomically(self.body_path, entry.body)
        meta = {
            "url": entry.url,
            "fetched_at": entry.fetched_at.isoformat(),
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "sha256": hashlib.sha256(entry.body).hexdigest(),
            "bytes": len(entry.body),
        }
        _write_atomically(self.meta_path, json.dumps(meta, indent=2).encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
