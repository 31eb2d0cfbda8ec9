"""Alias files: which version a name points at now, and where it pointed before."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from vigil.errors import StoreError

#: Rollback depth kept per alias. The file is re-read before every batch, so it stays small.
HISTORY_LIMIT = 100


def _now() -> str:
    # Microseconds, so two moves in one second still write different files.
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class AliasRecord:
    """The content of ``<detection>/aliases/<alias>.json``.

    ``previous`` is a stack: :meth:`moved_to` pushes the version being left,
    :meth:`rolled_back` pops it.
    """

    version: int
    previous: tuple[int, ...] = ()
    updated_at: str = field(default_factory=_now)

    def moved_to(self, version: int) -> AliasRecord:
        """This alias pointing at ``version``, remembering where it pointed before."""
        history = (*self.previous, self.version)[-HISTORY_LIMIT:]
        return AliasRecord(version, history)

    def rolled_back(self) -> AliasRecord:
        """This alias pointing back at the last version it left; needs a history."""
        if not self.previous:
            raise ValueError("alias has no earlier version")
        return AliasRecord(self.previous[-1], self.previous[:-1])

    def to_json(self) -> str:
        data = {
            "version": self.version,
            "previous": list(self.previous),
            "updated_at": self.updated_at,
        }
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str | bytes, where: str) -> AliasRecord:
        """Parse an alias file; ``where`` (its URI) goes into the error message.

        Raises:
            StoreError: the text is not an alias file written by vigil.
        """
        try:
            data = json.loads(text)
            version = data["version"]
            previous = data.get("previous", [])
            updated_at = str(data.get("updated_at", ""))
            numbers = [version, *previous]
            valid = all(type(n) is int and n >= 1 for n in numbers)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StoreError(
                f"alias file {where} is not a vigil alias ({exc!r}); rewrite it by promoting "
                "a version again"
            ) from exc
        if not valid:
            raise StoreError(
                f"alias file {where} holds versions {numbers!r}, not whole numbers from 1 up; "
                "rewrite it by promoting a version again"
            )
        return cls(version, tuple(previous), updated_at)
