"""A real feed server on 127.0.0.1 and real SQL databases, for the intel source tests."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class FeedServer:
    """What the feed server answers, and what it was asked.

    ``fail_next`` answers that many requests with ``fail_status`` before serving again;
    ``hang`` holds every request open until the test ends (the client times out).
    """

    url: str = ""
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    fail_next: int = 0
    fail_status: int = 500
    hang: bool = False
    requests: list[dict[str, str]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def publish(
        self, body: bytes, etag: str | None = None, last_modified: str | None = None
    ) -> None:
        self.body, self.etag, self.last_modified = body, etag, last_modified


def _handler(feed: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            feed.requests.append({k.lower(): v for k, v in self.headers.items()})
            if feed.hang:
                feed.released.wait(10)
                return  # close without answering
            if feed.fail_next:
                feed.fail_next -= 1
                self._send(feed.fail_status, b"server trouble")
                return
            matches_etag = feed.etag and self.headers.get("If-None-Match") == feed.etag
            matches_date = (
                feed.last_modified and self.headers.get("If-Modified-Since") == feed.last_modified
            )
            if matches_etag or matches_date:
                self._send(304, b"")
                return
            self._send(feed.status, feed.body)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            if feed.etag:
                self.send_header("ETag", feed.etag)
            if feed.last_modified:
                self.send_header("Last-Modified", feed.last_modified)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    """A ThreadingHTTPServer on a free port of 127.0.0.1 serving ``feed.body`` at ``feed.url``."""
    state = FeedServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}/list.txt"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class ServerTable:
    """A freshly created table on a real server, dropped after the test."""

    url: str
    name: str
    execute: Callable[[str], None]


def _server_table(url: str, create: str) -> Iterator[ServerTable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as exc:
            pytest.skip(f"no database server at {url} ({type(exc).__name__}); start it to run")
        name = f"vigil_intel_{uuid.uuid4().hex[:12]}"

        def execute(statement: str) -> None:
            with engine.begin() as connection:
                connection.execute(text(statement.format(table=name)))

        execute(create)
        try:
            yield ServerTable(url, name, execute)
        finally:
            with contextlib.suppress(SQLAlchemyError):
                execute("DROP TABLE {table}")
    finally:
        engine.dispose()


@pytest.fixture
def mariadb_table() -> Iterator[ServerTable]:
    yield from _server_table(MARIADB_URL, "CREATE TABLE {table} (id INT, domain VARCHAR(255))")


@pytest.fixture
def postgres_table() -> Iterator[ServerTable]:
    yield from _server_table(POSTGRES_URL, "CREATE TABLE {table} (id INT, address INET)")
