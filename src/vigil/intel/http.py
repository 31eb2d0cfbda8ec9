"""A list downloaded over HTTP(S), cached on disk and revalidated politely.

Feeds ask to be fetched rarely and conditionally; a scorer must keep working when one is
down. So a load serves the cached copy while it is younger than ``max_age``; after that it
asks with ``If-None-Match`` / ``If-Modified-Since`` (a 304 keeps the copy), retries connect
errors, timeouts and 5xx a few times with exponential backoff, and when the server still
fails serves the cached copy with a :class:`~vigil.errors.StaleIntelWarning`. Only a source
that has never been fetched raises :class:`~vigil.errors.SourceUnavailable`.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.errors import IntelError, SourceUnavailable, StaleIntelWarning
from vigil.intel._httpcache import CachedBody, HTTPCache
from vigil.intel.formats import Format, Kind, ParsedList, decode_text, parse_list
from vigil.intel.sources import SourceSnapshot, check_format, check_source

if TYPE_CHECKING:
    import httpx

    from vigil.intel.config import SourceTable

#: Where feeds are cached unless a source says otherwise, beside the default warehouse.
DEFAULT_CACHE_DIR = ".vigil/intel"
#: abuse.ch and most feed hosts regenerate lists every 5-60 minutes and ask clients not to
#: poll faster; an hour keeps detections fresh without being throttled.
DEFAULT_MAX_AGE = 3600.0
#: Seconds for connecting and for each read; a feed that stalls longer is treated as down.
DEFAULT_TIMEOUT = 30.0
#: Extra attempts after a connect error, timeout or 5xx, waiting backoff * 2**attempt between.
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 1.0
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_USER_AGENT = "vigil-intel (+https://github.com/vigil)"


class _FetchFailed(Exception):
    """The server gave no usable answer after every attempt."""


@dataclass(frozen=True)
class HTTPSource:
    """A feed at ``url``; see the module docstring for the caching and retry rules."""

    name: str
    url: str
    kind: Kind
    category: str
    format: Format = "plain"
    column: str | None = None
    cache_dir: str | Path = DEFAULT_CACHE_DIR
    max_age: float = DEFAULT_MAX_AGE
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_source(self.name, self.kind, self.category)
        check_format(self.name, self.kind, self.format, self.column)
        if not self.url.startswith(("http://", "https://")):
            raise IntelError(f"intel source {self.name!r}: url {self.url!r} is not http(s)")
        for key in ("max_age", "timeout", "backoff", "retries"):
            if getattr(self, key) < 0:
                raise IntelError(f"intel source {self.name!r}: {key} must not be negative")

    @property
    def cache(self) -> HTTPCache:
        key = f"{self.name}-{hashlib.sha256(self.url.encode()).hexdigest()[:12]}"
        return HTTPCache(Path(self.cache_dir), key)

    def load(self) -> SourceSnapshot:
        cache = self.cache
        cached = cache.read(self.url)
        now = datetime.now(UTC)
        if cached is not None and cached.age_seconds(now) < self.max_age:
            return self._snapshot(self._parse(cached.body), cached.fetched_at)
        try:
            response = self._fetch({} if cached is None else cached.validators())
        except _FetchFailed as exc:
            return self._stale(cached, str(exc))
        if response.status_code == 304 and cached is not None:
            refreshed = CachedBody(
                url=self.url,
                body=cached.body,
                fetched_at=now,
                etag=response.headers.get("ETag", cached.etag),
                last_modified=response.headers.get("Last-Modified", cached.last_modified),
            )
            cache.write(refreshed, body_changed=False)
            return self._snapshot(self._parse(cached.body), now)
        if response.status_code != 200:
            return self._stale(cached, f"HTTP {response.status_code} from {self.url}")
        try:
            parsed = self._parse(response.content)
        except IntelError as exc:
            return self._stale(cached, str(exc))
        if not parsed.entries and cached is not None and self._parse(cached.body).entries:
            # An empty 200 is far more often an error page than a feed that emptied overnight.
            return self._stale(cached, f"{self.url} answered with no usable entries")
        fresh = CachedBody(
            url=self.url,
            body=response.content,
            fetched_at=now,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )
        cache.write(fresh)
        return self._snapshot(parsed, now)

    def _fetch(self, validators: Mapping[str, str]) -> httpx.Response:
        import httpx

        headers = {"User-Agent": _USER_AGENT, **self.headers, **validators}
        problem = "no attempt made"
        with httpx.Client(timeout=self.timeout, follow_redirects=True) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                try:
                    response = client.get(self.url, headers=headers)
                except httpx.TransportError as exc:  # connect errors, timeouts, broken replies
                    problem = f"{type(exc).__name__}: {exc or 'no detail'}"
                    continue
                if response.status_code not in _RETRY_STATUS:
                    return response
                problem = f"HTTP {response.status_code}"
        raise _FetchFailed(f"{self.url} failed after {self.retries + 1} attempts ({problem})")

    def _stale(self, cached: CachedBody | None, problem: str) -> SourceSnapshot:
        if cached is None:
            raise SourceUnavailable(
                f"intel source {self.name!r}: {problem}, and there is no cached copy in "
                f"{self.cache_dir}; check the URL and network, or load it once when it is up"
            )
        age = datetime.now(UTC) - cached.fetched_at
        warnings.warn(
            StaleIntelWarning(
                f"intel source {self.name!r}: {problem}; serving the copy fetched at "
                f"{cached.fetched_at.isoformat(timespec='seconds')} "
                f"({age.total_seconds() / 3600:.1f} h old)"
            ),
            stacklevel=3,
        )
        return self._snapshot(self._parse(cached.body), cached.fetched_at)

    def _parse(self, body: bytes) -> ParsedList:
        try:
            return parse_list(
                decode_text(body), format=self.format, kind=self.kind, column=self.column
            )
        except IntelError as exc:
            raise IntelError(f"intel source {self.name!r} ({self.url}): {exc}") from exc

    def _snapshot(self, parsed: ParsedList, fetched_at: datetime) -> SourceSnapshot:
        return SourceSnapshot.from_parsed(self, parsed, fetched_at)

    @classmethod
    def from_config(cls, table: SourceTable) -> HTTPSource:
        table.check_keys(
            frozenset(
                {
                    "url",
                    "format",
                    "column",
                    "cache_dir",
                    "max_age",
                    "timeout",
                    "retries",
                    "backoff",
                    "headers",
                }
            )
        )
        options: dict[str, Any] = {
            "format": table.get("format", str, "plain"),
            "column": table.optional("column"),
            "cache_dir": table.path("cache_dir", DEFAULT_CACHE_DIR),
            "max_age": table.get("max_age", float, DEFAULT_MAX_AGE),
            "timeout": table.get("timeout", float, DEFAULT_TIMEOUT),
            "retries": table.get("retries", int, DEFAULT_RETRIES),
            "backoff": table.get("backoff", float, DEFAULT_BACKOFF),
            "headers": table.strings("headers"),
        }
        return cls(
            name=table.name,
            url=table.get("url", str),
            kind=table.get("kind", str),  # type: ignore[arg-type]
            category=table.get("category", str),
            **options,
        )
