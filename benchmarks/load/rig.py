"""The real path under test, on this machine: a private Mosquitto, a private TimescaleDB, gateway processes.

Built from the same parts as ``vigie up`` (gateway/stack.py): the broker refuses anonymous clients, the
gateway has its own MQTT account and the load generator a fleet account (allowed to publish for every
wearable and robot, like the demo's ``vigie-simulator``). The gateway runs as separate OS processes
(``vigie serve``; or K ``vigie ingest`` workers and an API-only ``vigie serve``) so that its CPU and memory
can be read from /proc, and so it can be stopped while the broker keeps its session's queue (drain mode).
PostgreSQL keeps its durable defaults (fsync, synchronous commit), as in the demo and in production.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from benchmarks.load import payloads
from gateway.auth.tokens import issue_jwt
from gateway.db import migrations, mqtt_accounts
from gateway.mqtt.accounts import AccountKind, BrokerAuthFiles
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port
from gateway.runtime.postgres import PostgresCluster
from services.access import Principal, Role

log = logging.getLogger(__name__)
CREW_SIZE = 25
GATEWAY_CLIENT_ID = "vigie-bench-ingest"
SHARE_GROUP = "vigie"


@dataclass
class Services:
    """Broker and database for one benchmark run, and the credentials to reach them."""

    workdir: Path
    broker: MosquittoBroker
    cluster: PostgresCluster
    database_url: str
    gateway_mqtt: tuple[str, str]
    fleet_mqtt: tuple[str, str]
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    pseudonym_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def mqtt_host(self) -> str:
        return self.broker.host

    @property
    def mqtt_port(self) -> int:
        return self.broker.port

    def admin_token(self) -> str:
        return issue_jwt(Principal("bench-admin", Role.ADMIN), self.jwt_secret, datetime.now(UTC), 24 * 3600)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.cluster.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        self.broker.stop()
        self.cluster.stop()


def make_workdir(requested: Path | None) -> Path:
    # PostgreSQL runs as `postgres` when we are root: its directory must be traversable by others.
    path = requested or Path(tempfile.mkdtemp(prefix="vigie-bench-load-"))
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o711)
    return path


def start_services(workdir: Path, *, fast_unsafe: bool = False) -> Services:
    """Start PostgreSQL (migrated), issue the accounts, then start the broker with its password and ACL files."""
    cluster = PostgresCluster(workdir / "pg" / "data", free_port(), fast_unsafe=fast_unsafe)
    cluster.start()
    cluster.ensure_database("vigie")
    url = cluster.url("vigie")
    migrations.apply(url)
    auth = BrokerAuthFiles(workdir / "mosquitto" / "auth")
    with psycopg.connect(url) as conn:
        gateway_pw = mqtt_accounts.issue_sync(conn, "vigie-gateway", AccountKind.GATEWAY)
        fleet_pw = mqtt_accounts.issue_sync(conn, "vigie-simulator", AccountKind.FLEET)
        auth.write(mqtt_accounts.active_sync(conn))
    broker = MosquittoBroker(workdir / "mosquitto", free_port(), auth=auth)
    broker.start()
    return Services(workdir, broker, cluster, url, ("vigie-gateway", gateway_pw), ("vigie-simulator", fleet_pw))


def register_roster(database_url: str, wearables: int, robots: int, valid_from: datetime) -> None:
    """Crews of 25, one agent per wearable with an open assignment from ``valid_from`` (a shift), robots.

    Bulk (COPY) rather than 10,000 API calls: this is set-up, not what is measured.
    """
    crews = max(1, -(-wearables // CREW_SIZE))
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        with cur.copy("COPY crews (crew_id, site_id, name) FROM STDIN") as copy:
            for c in range(crews):
                copy.write_row((f"bench-c{c:04d}", "paris", f"Bench crew {c}"))
        with cur.copy("COPY agents (agent_id, display_name, crew_id) FROM STDIN") as copy:
            for i in range(wearables):
                copy.write_row((payloads.agent_id(i), f"Agent {i}", f"bench-c{i // CREW_SIZE:04d}"))
        with cur.copy("COPY assignments (device_id, agent_id, valid_from) FROM STDIN") as copy:
            for i in range(wearables):
                copy.write_row((payloads.device_id(i), payloads.agent_id(i), valid_from))
        with cur.copy("COPY robots (robot_id, kind, crew_id) FROM STDIN") as copy:
            for r in range(robots):
                copy.write_row((payloads.robot_id(r), "follower", f"bench-c{r % crews:04d}"))


def create_database(services: Services, name: str) -> str:
    """An empty database of the same cluster (for a baseline's own tables)."""
    with psycopg.connect(services.cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return services.cluster.url(name)


def ingest_command_available() -> bool:
    """Whether this checkout has ``vigie ingest`` (partitioned ingest workers, issue 8)."""
    from gateway.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return "ingest" in (sub.choices or {})


@dataclass
class Gateway:
    """The gateway's OS processes: one ``vigie serve`` (API, and ingest when ``workers == 1``), plus
    ``workers`` ``vigie ingest`` processes when ``workers > 1``."""

    services: Services
    workers: int = 1
    http_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Each run its own MQTT session: a session left at the broker by an earlier run keeps receiving (and
    # queueing) everything published after it, which the next gateway with that id would then ingest.
    client_id: str = field(default_factory=lambda: f"{GATEWAY_CLIENT_ID}-{secrets.token_hex(3)}")
    api: subprocess.Popen[bytes] | None = None
    ingest: list[subprocess.Popen[bytes]] = field(default_factory=list)
    metrics_urls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._token = self.services.admin_token()  # /metrics is for administrators

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in [*([self.api] if self.api else []), *self.ingest]]

    @property
    def ingest_pids(self) -> list[int]:
        return [p.pid for p in self.ingest] if self.ingest else self.pids

    def _env(self, **more: str) -> dict[str, str]:
        s = self.services
        user, password = s.gateway_mqtt
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
        env.update({
            "VIGIE_MQTT_URL": f"mqtt://{user}:{password}@{s.mqtt_host}:{s.mqtt_port}",
            "VIGIE_DATABASE_URL": s.database_url, "VIGIE_HTTP_HOST": "127.0.0.1",
            "VIGIE_HTTP_PORT": str(self.http_port), "VIGIE_STATE_DIR": str(s.workdir / "state"),
            "VIGIE_MODE": "production", "VIGIE_JWT_SECRET": s.jwt_secret,
            "VIGIE_PSEUDONYM_SECRET": s.pseudonym_secret, "VIGIE_LOG_LEVEL": "WARNING",
            "VIGIE_MQTT_CLIENT_ID": self.client_id,
        })  # fmt: skip
        env.update(self.extra_env)
        env.update(more)
        return env

    def _spawn(self, argv: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
        with (self.services.workdir / log_name).open("ab") as out:
            return subprocess.Popen([sys.executable, "-m", "gateway.cli", "--log-level", "WARNING", *argv],
                                    env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, timeout_s: float = 60.0, *, wait: bool = True) -> None:
        if self.workers > 1:
            for k in range(self.workers):
                port = free_port()
                env = self._env(VIGIE_INGEST_PARTITIONS=str(self.workers), VIGIE_INGEST_PARTITION=str(k),
                                VIGIE_MQTT_CLIENT_ID=f"{self.client_id}-{k}", VIGIE_MQTT_SHARE_GROUP=SHARE_GROUP)
                argv = ["ingest", "--metrics-host", "127.0.0.1", "--metrics-port", str(port)]
                self.ingest.append(self._spawn(argv, env, f"gateway-ingest-{k}.log"))
                self.metrics_urls.append(f"http://127.0.0.1:{port}")
            self.api = self._spawn(["serve", "--no-ingest"], self._env(VIGIE_RUN_INGEST="false"), "gateway-api.log")
        else:
            self.api = self._spawn(["serve"], self._env(), "gateway.log")
            self.metrics_urls.append(self.url)
        if wait:
            self._wait_healthy(timeout_s)

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for p in [*([self.api] if self.api else []), *self.ingest]:
                if p.poll() is not None:
                    raise RuntimeError(f"gateway process {p.args!r} exited with {p.returncode}: see "
                                       f"{self.services.workdir}/gateway*.log")  # fmt: skip
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the gateway did not become healthy at {self.url} within {timeout_s:.0f} s")

    def metrics(self) -> dict[str, float]:
        """The ingest processes' Prometheus samples (unlabelled), summed over workers (lag: the worst);
        {} when none answers."""
        total: dict[str, float] = {}
        headers = {"Authorization": f"Bearer {self._token}"}
        for url in self.metrics_urls:
            try:
                response = httpx.get(f"{url}/metrics", timeout=2, headers=headers)
                response.raise_for_status()
                text = response.text
            except httpx.HTTPError:
                continue
            for name, value in parse_metrics(text).items():
                worst = name.endswith("lag_seconds")
                total[name] = max(total.get(name, value), value) if worst else total.get(name, 0.0) + value
        return total

    @property
    def client_ids(self) -> list[str]:
        return [f"{self.client_id}-{k}" for k in range(self.workers)] if self.workers > 1 else [self.client_id]

    def discard_sessions(self) -> None:
        """End this gateway's sessions at the broker (MQTT 5 Clean Start with no expiry, §3.1.2.4)."""
        from benchmarks.baselines.session import BrokerAccount, discard_session

        user, password = self.services.gateway_mqtt
        for client_id in self.client_ids:
            discard_session(BrokerAccount(self.services.mqtt_host, self.services.mqtt_port, user, password),
                            client_id)  # fmt: skip

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM (the ingest finishes its batch and leaves its session at the broker), then wait."""
        procs = [*self.ingest, *([self.api] if self.api else [])]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout_s)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.api, self.ingest, self.metrics_urls = None, [], []


def parse_metrics(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "{" in line:
            continue
        name, _, value = line.partition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            continue
    return out


def table_bytes(conn: psycopg.Connection[Any], table: str) -> int | None:
    """Bytes of a table with its indexes (every chunk for a hypertable); None when it does not exist."""
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    if not exists or not exists[0]:
        return None
    hyper = conn.execute("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = %s",
                         (table,)).fetchone()  # fmt: skip
    query = "SELECT hypertable_size(%s::regclass)" if hyper else "SELECT pg_total_relation_size(%s::regclass)"
    row = conn.execute(query, (table,)).fetchone()
    return int(row[0] or 0) if row else 0


def remove_workdir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
