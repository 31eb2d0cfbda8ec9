"""HTTPSource against a real local server: caching, revalidation, retries, stale copies."""

from __future__ import annotations

import gzip
import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vigil.errors import SourceUnavailable, StaleIntelWarning
from vigil.intel import HTTPSource

from .conftest import FeedServer

HOSTS = b"# feed\n0.0.0.0 evil.example\n0.0.0.0 phish.test\n"


def source(feed: FeedServer, tmp_path: Path, **options: Any) -> HTTPSource:
    settings: dict[str, Any] = {
        "format": "hosts",
        "cache_dir": tmp_path / "cache",
        "max_age": 3600.0,
        "timeout": 2.0,
        "retries": 2,
        "backoff": 0.001,
    }
    settings.update(options)
    return HTTPSource("feed", feed.url, "domain", "malware", **settings)


def test_first_load_fetches_and_caches(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, etag='"v1"')
    snapshot = source(feed, tmp_path).load()
    assert snapshot.entries == ("evil.example", "phish.test")
    assert snapshot.skipped == 1
    assert len(feed.requests) == 1
    assert "if-none-match" not in feed.requests[0]
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 2  # body and note, no temporary files left behind
    assert {Path(f).suffix for f in files} == {".body", ".json"}


def test_a_fresh_cache_is_served_without_asking(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, etag='"v1"')
    first = source(feed, tmp_path).load()
    second = source(feed, tmp_path).load()
    assert len(feed.requests) == 1
    assert second.entries == first.entries
    assert second.fetched_at == first.fetched_at


def test_revalidation_with_etag_keeps_the_body_on_304(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, etag='"v1"')
    first = source(feed, tmp_path, max_age=0).load()
    feed.body = b"this body must not be downloaded again"
    second = source(feed, tmp_path, max_age=0).load()
    assert len(feed.requests) == 2
    assert feed.requests[1]["if-none-match"] == '"v1"'
    assert second.entries == first.entries
    assert second.fingerprint == first.fingerprint
    assert second.fetched_at >= first.fetched_at


def test_revalidation_with_last_modified(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, last_modified="Wed, 01 May 2024 12:00:00 GMT")
    source(feed, tmp_path, max_age=0).load()
    second = source(feed, tmp_path, max_age=0).load()
    assert feed.requests[1]["if-modified-since"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert "if-none-match" not in feed.requests[1]
    assert second.entries == ("evil.example", "phish.test")


def test_a_changed_feed_replaces_the_cache(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, etag='"v1"')
    source(feed, tmp_path, max_age=0).load()
    feed.publish(b"0.0.0.0 new.example\n", etag='"v2"')
    assert source(feed, tmp_path, max_age=0).load().entries == ("new.example",)
    feed.fail_next = 99
    with pytest.warns(StaleIntelWarning):
        assert source(feed, tmp_path, max_age=0, retries=0).load().entries == ("new.example",)


def test_server_errors_are_retried_then_succeed(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS)
    feed.fail_next = 2
    snapshot = source(feed, tmp_path, retries=2).load()
    assert snapshot.entries == ("evil.example", "phish.test")
    assert len(feed.requests) == 3


def test_a_failing_server_serves_the_stale_copy_with_a_warning(
    feed: FeedServer, tmp_path: Path
) -> None:
    feed.publish(HOSTS, etag='"v1"')
    first = source(feed, tmp_path).load()
    feed.fail_next = 99
    with pytest.warns(StaleIntelWarning, match=r"'feed'.*HTTP 500.*serving the copy fetched at"):
        stale = source(feed, tmp_path, max_age=0, retries=2).load()
    assert stale.entries == first.entries
    assert stale.fetched_at == first.fetched_at
    assert len(feed.requests) == 1 + 3


def test_client_errors_are_not_retried(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS)
    feed.status = 404
    with pytest.raises(SourceUnavailable, match=r"'feed'.*HTTP 404.*no cached copy"):
        source(feed, tmp_path, retries=3).load()
    assert len(feed.requests) == 1


def test_failing_without_a_cache_is_unavailable(feed: FeedServer, tmp_path: Path) -> None:
    feed.fail_next, feed.fail_status = 99, 503
    with pytest.raises(SourceUnavailable, match=r"failed after 2 attempts \(HTTP 503\)"):
        source(feed, tmp_path, retries=1).load()
    assert len(feed.requests) == 2


def test_a_hanging_server_times_out(feed: FeedServer, tmp_path: Path) -> None:
    feed.hang = True
    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        source(feed, tmp_path, timeout=0.2, retries=1).load()
    assert len(feed.requests) == 2


def test_a_hanging_server_serves_the_stale_copy(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS)
    source(feed, tmp_path).load()
    feed.hang = True
    with pytest.warns(StaleIntelWarning, match="ReadTimeout"):
        snapshot = source(feed, tmp_path, max_age=0, timeout=0.2, retries=0).load()
    assert snapshot.entries == ("evil.example", "phish.test")


def test_refused_connections_are_unavailable(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = HTTPSource(
        "dead",
        f"http://127.0.0.1:{port}/x",
        "ip",
        "c2",
        cache_dir=tmp_path,
        retries=1,
        backoff=0.001,
        timeout=1.0,
    )
    with pytest.raises(SourceUnavailable, match="ConnectError"):
        dead.load()


def test_an_empty_answer_does_not_replace_a_good_copy(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, etag='"v1"')
    source(feed, tmp_path).load()
    feed.publish(b"<html>maintenance</html>", etag='"v2"')
    with pytest.warns(StaleIntelWarning, match="no usable entries"):
        snapshot = source(feed, tmp_path, max_age=0).load()
    assert snapshot.entries == ("evil.example", "phish.test")


def test_gzip_bodies_are_read(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(gzip.compress(HOSTS))
    assert source(feed, tmp_path).load().entries == ("evil.example", "phish.test")


def test_a_damaged_cache_counts_as_none(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, etag='"v1"')
    http = source(feed, tmp_path)
    http.load()
    http.cache.body_path.write_bytes(b"0.0.0.0 tampered.example\n")
    assert http.load().entries == ("evil.example", "phish.test")
    assert len(feed.requests) == 2
    assert "if-none-match" not in feed.requests[1]


def test_max_age_is_measured_from_the_last_fetch(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS, etag='"v1"')
    http = source(feed, tmp_path, max_age=60)
    http.load()
    note = json.loads(http.cache.meta_path.read_text())
    note["fetched_at"] = (datetime.now(UTC) - timedelta(seconds=61)).isoformat()
    http.cache.meta_path.write_text(json.dumps(note))
    http.load()
    assert len(feed.requests) == 2
    assert feed.requests[1]["if-none-match"] == '"v1"'


def test_configured_headers_are_sent(feed: FeedServer, tmp_path: Path) -> None:
    feed.publish(HOSTS)
    source(feed, tmp_path, headers={"Auth-Key": "secret"}).load()
    assert feed.requests[0]["auth-key"] == "secret"
    assert feed.requests[0]["user-agent"].startswith("vigil")
