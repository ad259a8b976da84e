"""Throwaway PostgreSQL and Redis servers for the tests, started from the Debian binaries."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _install_missing() -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "system-deps.sh")], check=True)


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PostgresServer:
    base: Path
    port: int
    bindir: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def stop(self) -> None:
        self.pause("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def pause(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data (an outage). "fast" flushes what was committed:
        the server runs with synchronous_commit off, so "immediate" can lose the last commits."""
        subprocess.run(
            _as_postgres(
                [str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), "-m", mode, "stop"]
            ),
            capture_output=True,
        )

    def resume(self) -> None:
        _pg_start(self.bindir, self.base, self.port)


def start_postgres() -> PostgresServer:
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        _install_missing()
    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
    base = Path(tempfile.mkdtemp(prefix="livetally-pg-"))
    base.chmod(0o755)
    (base / "data").mkdir()
    if os.geteuid() == 0:
        shutil.chown(base / "data", "postgres", "postgres")
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(base / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    _pg_start(bindir, base, port)
    return PostgresServer(base, port, bindir)


def _pg_start(bindir: Path, base: Path, port: int) -> None:
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(base / "data"),
                "-o",
                options,
                "-l",
                str(base / "server.log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )


@dataclass
class RedisServer:
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def flush(self) -> None:
        redis.Redis(port=self.port).flushall()


def start_redis() -> RedisServer:
    if shutil.which("redis-server") is None:
        _install_missing()
    server = RedisServer(free_port(), Path(tempfile.mkdtemp(prefix="livetally-redis-")))
    server.start()
    return server
