"""A PostgreSQL cluster of the test's own (initdb + pg_ctl in a temp dir, its own port), for
tests that stop a database or make it read-only: never the shared server on 5432."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

RELOAD_TIMEOUT_SECONDS = 30.0


def postgres_bin() -> Path | None:
    """The newest server binaries installed under /usr/lib/postgresql (None: none)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(
        Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


def as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run ``command`` as the ``postgres`` user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OwnPostgres:
    """A private cluster: ``url`` (database ``app``), ``stop()``, ``start()``,
    ``set_read_only(flag)`` (``ALTER SYSTEM`` + reload: open sessions follow)."""

    bin_dir: Path
    data_dir: Path
    socket_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/app"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-w",
                            "-t", "60", *args]),
            check=True, capture_output=True,
        )

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=40")
        self._pg_ctl("-o", options, "-l", str(self.data_dir / "server.log"), "start")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def set_read_only(self, read_only: bool) -> None:
        # NullPool: every connect() below is a new backend, forked with the current settings
        admin = create_engine(self.url.replace("/app", "/postgres"), isolation_level="AUTOCOMMIT",
                              poolclass=NullPool)
        try:
            with admin.connect() as conn:
                flag = "on" if read_only else "off"
                conn.execute(text(f"ALTER SYSTEM SET default_transaction_read_only = {flag}"))
                conn.execute(text("SELECT pg_reload_conf()"))
            # pg_reload_conf() only signals the postmaster: wait until it has re-read the file
            # (a new backend, forked from it, shows the new value); it signals the running
            # backends right after, and each applies the change before its next statement.
            deadline = time.monotonic() + RELOAD_TIMEOUT_SECONDS
            while True:
                with admin.connect() as conn:
                    shown = conn.execute(text("SHOW default_transaction_read_only")).scalar()
                if shown == flag:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"read-only {flag} not applied after "
                                         f"{RELOAD_TIMEOUT_SECONDS:.0f} s")
                time.sleep(0.05)
            time.sleep(0.2)  # the running backends' signal handling
        finally:
            admin.dispose()


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """initdb a fresh cluster in a new temp dir (under /tmp: the server user must reach it),
    start it, create database ``app``; stopped and deleted afterwards. Skips the test when no
    PostgreSQL server binaries are installed."""
    bin_dir = postgres_bin()
    if bin_dir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql (or, as root, "
                    "no runuser to start them as postgres)")
    assert bin_dir is not None
    workdir = Path(tempfile.mkdtemp(prefix="creditrisk-pg-"))
    data_dir = workdir / "pgdata"
    socket_dir = workdir / "pgsock"
    socket_dir.mkdir()
    data_dir.mkdir()
    if os.geteuid() == 0:
        for path in (workdir, data_dir, socket_dir):
            shutil.chown(path, "postgres", "postgres")
        os.chmod(workdir, 0o755)
    subprocess.run(
        as_server_user([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres",
                        "-A", "trust", "--no-sync", "-E", "UTF8"]),
        check=True, capture_output=True,
    )
    cluster = OwnPostgres(bin_dir, data_dir, socket_dir, free_port())
    cluster.start()
    try:
        admin = create_engine(cluster.url.replace("/app", "/postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE app"))
        admin.dispose()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped by the test
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
