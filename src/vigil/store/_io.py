"""Whole-file reads and writes on any fsspec filesystem, with local fast and safe paths.

Readers must never see half a file: new files appear complete or not at all, and an alias
file is replaced in one step. Local disks get ``os.link``/``os.replace``; other filesystems
write a temporary object and move it.
"""

from __future__ import annotations

import os
import posixpath
import uuid
from contextlib import suppress
from typing import Any

from fsspec.implementations.local import LocalFileSystem


def is_local(fs: Any) -> bool:
    return isinstance(fs, LocalFileSystem)


def read(fs: Any, path: str) -> bytes:
    """All bytes of ``path``; raises FileNotFoundError (or another OSError) like ``open``."""
    if is_local(fs):
        with open(path, "rb") as file:
            return file.read()
    return bytes(fs.cat_file(path))


def exists(fs: Any, path: str) -> bool:
    # Object-store filesystems cache listings; another process may have written since.
    fs.invalidate_cache(posixpath.dirname(path))
    return bool(fs.exists(path))


def names(fs: Any, path: str, *, directories_only: bool = False) -> list[str]:
    """Base names of the entries in directory ``path``; empty if it does not exist."""
    fs.invalidate_cache(path)
    try:
        entries = fs.ls(path, detail=directories_only)
    except (FileNotFoundError, NotADirectoryError):
        return []
    if directories_only:
        entries = [e["name"] for e in entries if e.get("type") == "directory"]
    return [posixpath.basename(str(e).rstrip("/")) for e in entries]


def write_new(fs: Any, path: str, data: bytes) -> None:
    """Create ``path`` holding ``data``; never overwrite.

    Raises:
        FileExistsError: ``path`` exists already.
    """
    if is_local(fs):
        temp = _temp_name(path)
        _write_local(temp, data)
        try:
            # A hard link appears complete and fails if the target exists: exclusive and atomic.
            os.link(temp, path)
        except FileExistsError:
            raise
        except OSError:
            # Filesystems without hard links (some network and FAT mounts): exclusive create.
            _write_local(path, data)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp)
        return
    if exists(fs, path):
        raise FileExistsError(path)
    try:
        with fs.open(path, "xb") as file:
            file.write(data)
    except (NotImplementedError, ValueError):
        # This filesystem has no exclusive create; the exists() check above is all we have.
        fs.pipe_file(path, data)


def replace(fs: Any, path: str, data: bytes) -> None:
    """Make ``path`` hold ``data`` in one step: a reader sees the old content or the new."""
    temp = _temp_name(path)
    try:
        if is_local(fs):
            _write_local(temp, data)
            # os.replace, not fs.mv: shutil.move is not an atomic overwrite on Windows.
            os.replace(temp, path)
        else:
            fs.pipe_file(temp, data)
            fs.mv(temp, path)
    except BaseException:
        with suppress(OSError):
            if fs.exists(temp):
                fs.rm_file(temp)
        raise


def _temp_name(path: str) -> str:
    parent, name = posixpath.split(path)
    return posixpath.join(parent, f".{name}.{uuid.uuid4().hex}.tmp")


def _write_local(path: str, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(path, flags, 0o644), "wb") as file:
        file.write(data)
        file.flush()
        # On disk before it becomes visible, so a crash cannot leave a named, empty file.
        os.fsync(file.fileno())
