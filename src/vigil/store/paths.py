"""Checks that detection names, aliases and versions are each one safe path component."""

from __future__ import annotations

import re

from vigil.errors import InvalidName

#: Lower-case, starts with a letter, at most 64 characters: safe on every filesystem and
#: object store, never "..", never a path separator, never confused with a version number.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,63}")
ALLOWED = "1-64 characters of a-z, 0-9, '_' or '-', starting with a letter"

#: The reference that means "the highest complete version"; so no alias may be called this.
LATEST = "latest"

# 18 digits keep int() fast and far below any real version count.
_DIGITS = re.compile(r"[0-9]{1,18}")


def check_name(value: object, kind: str = "detection name") -> str:
    """Return ``value`` if it is a safe name, else raise.

    Raises:
        InvalidName: ``value`` is not a string matching :data:`NAME_PATTERN`.
    """
    if isinstance(value, str) and NAME_PATTERN.fullmatch(value):
        return value
    raise InvalidName(f"{kind} {value!r} is not allowed: use {ALLOWED}")


def check_alias(value: object) -> str:
    """Return ``value`` if it can name an alias: a safe name other than ``"latest"``."""
    name = check_name(value, "alias")
    if name == LATEST:
        raise InvalidName(f"alias {LATEST!r} is reserved for the highest version; pick another")
    return name


def parse_version(value: object) -> int:
    """A version number from an int or a string of digits; versions start at 1.

    Raises:
        InvalidName: ``value`` is not a positive integer or a string of its digits.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        number = 0
    if number < 1:
        raise InvalidName(f"version {value!r} is not allowed: use a whole number from 1 up")
    return number


def is_version(value: object) -> bool:
    """True if ``value`` is meant as a version number (valid or not), not an alias."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and bool(_DIGITS.fullmatch(value))
    )


def parse_ref(ref: object) -> int | str:
    """A version number, ``"latest"``, or a checked alias name.

    Raises:
        InvalidName: ``ref`` is none of those.
    """
    if is_version(ref):
        return parse_version(ref)
    if isinstance(ref, str) and NAME_PATTERN.fullmatch(ref):
        return ref
    raise InvalidName(
        f"model reference {ref!r} is not allowed: use a version number (1, 2, …), "
        f"{LATEST!r}, or an alias name ({ALLOWED})"
    )
