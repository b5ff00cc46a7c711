"""A private PostgreSQL cluster with TimescaleDB preloaded, started with pg_ctl.

The data directory is kept between runs (initdb only when it is not initialised), so `vigie up`
is restartable and fast. PostgreSQL refuses to run as root: when we are root, every server
binary runs as the `postgres` OS user through `runuser`, and the directories are chowned to it.
"""

from __future__ import annotations

import functools
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import errors, sql

from gateway.runtime.errors import ServiceStartError, log_tail
from gateway.runtime.ports import port_is_free, wait_for_port

logger = logging.getLogger(__name__)

_OS_USER = "postgres"
_INSTALL_HINT = "run `make install` (scripts/install-system.sh)"
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, including the terminating NUL


@functools.cache
def pg_config(flag: str) -> str:
    """Ask `pg_config` for one of its values (`--bindir`, `--pkglibdir`)."""
    binary = shutil.which("pg_config")
    if binary is None:
        raise ServiceStartError(f"pg_config not found (PostgreSQL server not installed): {_INSTALL_HINT}")
    return subprocess.run([binary, flag], check=True, capture_output=True, text=True).stdout.strip()


def _pid_alive(pid: int) -> bool:
    """True if `pid` is a live process; a zombie, which nobody may ever reap here, counts as dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in {"Z", "X"}


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            found.append(int(stat.parent.name))
    return found


class PostgresCluster:
    """One PostgreSQL cluster: data in `data_dir`, log next to it in `postgres.log`."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        host: str = "127.0.0.1",
        socket_dir: Path | None = None,
        *,
        fast_unsafe: bool = False,
    ) -> None:
        """`fast_unsafe` (tests only) turns off fsync, synchronous_commit and full_page_writes:
        an acknowledged commit can then be lost if the postmaster is killed, so reliability tests
        that kill PostgreSQL must leave it False, as the demo does."""
        self.data_dir = data_dir.absolute()
        self.port = port
        self.host = host
        self.fast_unsafe = fast_unsafe
        self.socket_dir = (socket_dir or self.data_dir.parent / "run").absolute()
        if len(f"{self.socket_dir}/.s.PGSQL.{port}.lock") > _MAX_SOCKET_PATH:
            # A deep project path would not fit in a Unix socket address; the port keeps it unique.
            self.socket_dir = Path(tempfile.gettempdir()) / f"vigie-pg-{port}"
        self.log_path = self.data_dir.parent / "postgres.log"
        self._as_root = os.geteuid() == 0

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "postmaster.pid"

    @property
    def is_running(self) -> bool:
        return self._live_postmaster() is not None

    def url(self, dbname: str = "vigie") -> str:
        """libpq URL for `dbname` as the `postgres` superuser (trust authentication, loopback)."""
        return f"postgresql://postgres@{self.host}:{self.port}/{dbname}"

    def initdb(self) -> bool:
        """Create the cluster unless `data_dir` already holds one; return True if it was created."""
        if (self.data_dir / "PG_VERSION").is_file():
            return False
        self._prepare_dirs()
        started = time.monotonic()
        argv = [self._bin("initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", "postgres"]
        # C collation: deterministic ordering everywhere, and no dependency on installed locales.
        argv += ["-E", "UTF8", "--locale=C"]
        if self.fast_unsafe:
            argv.append("--no-sync")
        result = self._run(argv, timeout_s=120)
        if result.returncode != 0:
            raise ServiceStartError(f"initdb failed for {self.data_dir}:\n{result.stdout}")
        logger.info("initdb %s (%.1f s)", self.data_dir, time.monotonic() - started)
        return True

    def start(self, timeout_s: float = 30.0) -> None:
        """Initialise if needed, start the server, return once it accepts TCP connections."""
        live = self._live_postmaster()
        if live is not None and live[1] == self.port:
            return  # left running by a previous `vigie up`: same data, same port
        if live is not None:
            raise ServiceStartError(
                f"a PostgreSQL server (pid {live[0]}) already runs on {self.data_dir}, on port {live[1]} "
                f"instead of {self.port}: stop it with `pg_ctl -D {self.data_dir} stop -m fast`"
            )
        library = Path(pg_config("--pkglibdir")) / "timescaledb.so"
        if not library.is_file():
            raise ServiceStartError(f"TimescaleDB is not installed ({library} missing): {_INSTALL_HINT}")
        if not port_is_free(self.port, self.host):
            raise ServiceStartError(f"port {self.port} is already in use on {self.host}: pass --pg-port or free it")
        self.initdb()
        self._prepare_dirs()
        self._remove_stale_lock_files()
        started = time.monotonic()
        argv = [self._bin("pg_ctl"), "-D", str(self.data_dir), "-w", "-t", str(max(1, int(timeout_s)))]
        argv += ["-l", str(self.log_path), "-o", self._server_options(), "start"]
        result = self._run(argv, timeout_s=timeout_s + 5)
        if result.returncode != 0:
            raise ServiceStartError(
                f"PostgreSQL did not start on {self.host}:{self.port}: {result.stdout.strip()}\n"
                f"log {self.log_path}:\n{log_tail(self.log_path)}"
            )
        try:
            wait_for_port(self.host, self.port, timeout_s)
        except ServiceStartError as exc:
            self.stop()
            raise ServiceStartError(f"{exc}; log {self.log_path}:\n{log_tail(self.log_path)}") from exc
        logger.info("postgres on %s:%s (%.1f s)", self.host, self.port, time.monotonic() - started)

    def _server_options(self) -> str:
        settings = {
            "listen_addresses": self.host,
            "shared_preload_libraries": "timescaledb",
            "timescaledb.telemetry_level": "off",
        }
        if self.fast_unsafe:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        # pg_ctl hands this string to /bin/sh, hence the quoting.
        options = ["-p", str(self.port), "-k", shlex.quote(str(self.socket_dir))]
        for name, value in settings.items():
            options += ["-c", shlex.quote(f"{name}={value}")]
        return " ".join(options)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fast shutdown (disconnects clients, checkpoints); immediate mode if that times out."""
        if not self.is_running:
            return
        for mode in ("fast", "immediate"):
            argv = [self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w"]
            result = self._run([*argv, "-t", str(max(1, int(timeout_s))), "stop"], timeout_s=timeout_s + 5)
            if result.returncode == 0:
                return
            logger.warning("pg_ctl stop -m %s failed: %s", mode, result.stdout.strip())
        self.kill()

    def kill(self, timeout_s: float = 10.0) -> None:
        """SIGKILL the postmaster, as a crash would, and wait for its backends to exit on their own.

        Waiting matters: a new postmaster must not start while old backends still hold the
        shared memory. The stale postmaster.pid is left behind, as after a real crash.
        """
        live = self._live_postmaster()
        if live is None:
            return
        pid = live[0]
        children = _children(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout_s
        while any(_pid_alive(p) for p in [pid, *children]):
            if time.monotonic() >= deadline:
                raise ServiceStartError(f"postmaster {pid} or its backends still alive {timeout_s:.0f} s after SIGKILL")
            time.sleep(0.02)

    def ensure_database(self, name: str) -> bool:
        """Create database `name` unless it exists; return True if it was created."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return False
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except errors.DuplicateDatabase:
                return False  # created concurrently by another process: same outcome
        return True

    def _bin(self, name: str) -> str:
        return str(Path(pg_config("--bindir")) / name)

    def _prepare_dirs(self) -> None:
        """Create the directories and log file, owned by the OS user that runs the server."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log_path.touch(exist_ok=True)
        for path in (self.data_dir, self.socket_dir, self.log_path):
            self._chown(path)
        if self._as_root and self._run(["test", "-w", str(self.data_dir)], timeout_s=10).returncode != 0:
            private = next((d for d in reversed(self.data_dir.parents) if not d.stat().st_mode & 0o001), None)
            raise ServiceStartError(
                f"the `{_OS_USER}` OS user cannot reach {self.data_dir}: {private or 'a parent'} is private; "
                f"put the cluster under a directory others can traverse, or `chmod o+x {private or '<parent>'}`"
            )

    def _chown(self, path: Path) -> None:
        if self._as_root:
            try:
                shutil.chown(path, user=_OS_USER, group=_OS_USER)
            except LookupError as exc:
                raise ServiceStartError(f"no `{_OS_USER}` OS user to run PostgreSQL as: {_INSTALL_HINT}") from exc

    def _live_postmaster(self) -> tuple[int, int] | None:
        """(pid, port) of the postmaster that owns `data_dir`, if one is alive.

        A live pid is checked to be a postgres process: after a reboot the pid in a stale file
        may belong to anything.
        """
        try:
            lines = self.pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            is_postgres = b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, IndexError, ValueError):
            return None
        return (pid, port) if is_postgres and _pid_alive(pid) else None

    def _remove_stale_lock_files(self) -> None:
        """Remove the lock files of a killed run (call only when no postmaster is alive).

        PostgreSQL ignores a stale lock only when its pid is gone entirely; a zombie (nothing
        reaps the killed postmaster here) or a pid reused after a reboot makes it refuse to start
        with "lock file already exists". Both postmaster.pid and the socket lock carry that pid.
        """
        socket_lock = self.socket_dir / f".s.PGSQL.{self.port}.lock"
        for lock in (self.pid_file, socket_lock, socket_lock.with_suffix("")):
            if lock.exists():
                logger.warning("removing stale %s left by a previous run", lock)
                lock.unlink()

    def _run(self, argv: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        if self._as_root:
            argv = ["runuser", "-u", _OS_USER, "--", *argv]
        # cwd "/": the postgres user may not be allowed into the caller's working directory.
        return subprocess.run(
            argv,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout_s,
            check=False,
        )

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
