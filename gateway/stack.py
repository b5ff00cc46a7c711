"""``vigie up``: the whole stack on one machine, from private, throwaway real services.

Order matters and each step is health-checked before the next: broker → database (+ migrations) →
gateway (API + ingest) → simulator. Endpoints chosen are written to ``<state-dir>/endpoints.json`` for
scripts. Ctrl-C (SIGINT) or SIGTERM stops everything in the reverse order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn

from gateway.api.app import create_app
from gateway.auth.tokens import issue_jwt
from gateway.db import access_store, migrations, mqtt_accounts
from gateway.mqtt.accounts import AccountKind, BrokerAuthFiles
from gateway.runtime.errors import ServiceStartError
from gateway.runtime.mosquitto import MosquittoBroker
from gateway.runtime.ports import free_port, port_is_free
from gateway.runtime.postgres import PostgresCluster
from gateway.runtime.tls import self_signed
from gateway.settings import Settings
from services.access import Principal, Role

log = logging.getLogger(__name__)


@dataclass
class UpOptions:
    state_dir: Path
    http_port: int | None = None
    mqtt_port: int | None = None
    db_port: int | None = None
    mqtt_url: str | None = None
    database_url: str | None = None
    simulator: bool = True
    simulator_args: list[str] = field(default_factory=list)


def _previous_ports(state_dir: Path) -> dict[str, int]:
    """Reuse the ports of the last run when they are free: bookmarks and scripts keep working."""
    try:
        data = json.loads((state_dir / "endpoints.json").read_text())
        return {k: int(data[k]) for k in ("http_port", "mqtt_port", "mqtts_port", "db_port") if data.get(k)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def cluster_home(state_dir: Path) -> Path:
    """Where the demo cluster lives: ``<state-dir>/pg``, unless PostgreSQL could not reach it.

    As root the server runs as ``postgres``, which cannot traverse a private parent such as root's
    0700 home. The cluster then lives under ``/var/lib/vigie/clusters/<hash of the state dir>`` and
    ``<state-dir>/pg`` is a symbolic link to it, so the state directory still shows everything.
    """
    preferred = state_dir / "pg"
    absolute = state_dir.resolve()
    if os.geteuid() != 0 or all(p.stat().st_mode & 0o001 for p in [absolute, *absolute.parents]):
        return preferred
    home = Path("/var/lib/vigie/clusters") / hashlib.sha1(str(absolute).encode()).hexdigest()[:12]
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)
    if not preferred.exists() and not preferred.is_symlink():
        preferred.symlink_to(home, target_is_directory=True)
    return home


DEMO_DEVICE_ID = "demo-wearable-01"
DEMO_ADMIN = "admin"


def _demo_users(database_url: str) -> dict[str, dict[str, Any]]:
    """Fresh passwords at each start for the demo's people: an admin, a supervisor of the simulator's first two
    crews, and a safety officer (agents' accounts need their agent record: create them with PUT /api/v1/users)."""
    wanted: dict[str, dict[str, Any]] = {
        DEMO_ADMIN: {"role": Role.ADMIN},
        "superviseur": {"role": Role.SUPERVISOR, "crew_ids": ["crew-01", "crew-02"]},
        "preventeur": {"role": Role.SAFETY_OFFICER},
    }
    users = {}
    with psycopg.connect(database_url) as conn:
        for username, spec in wanted.items():
            password = secrets.token_urlsafe(12)
            access_store.upsert_user_sync(conn, username, password, spec["role"], spec.get("crew_ids", ()))
            users[username] = {"password": password, "role": spec["role"].value, "crew_ids": spec.get("crew_ids", [])}
    return users


def _demo_accounts(database_url: str, auth: BrokerAuthFiles) -> dict[str, dict[str, str]]:
    """Issue the demo's MQTT accounts and write the broker's password and ACL files from the table."""
    wanted = {"gateway": ("vigie-gateway", AccountKind.GATEWAY), "simulator": ("vigie-simulator", AccountKind.FLEET),
              "demo_device": (DEMO_DEVICE_ID, AccountKind.WEARABLE), "monitor": ("vigie-monitor", AccountKind.MONITOR)}

    credentials = {}
    with psycopg.connect(database_url) as conn:
        for role, (username, kind) in wanted.items():
            credentials[role] = {"username": username, "password": mqtt_accounts.issue_sync(conn, username, kind)}
        auth.write(mqtt_accounts.active_sync(conn))
    return credentials


def _pick(requested: int | None, previous: int | None) -> int:
    if requested:
        return requested
    if previous and port_is_free(previous):
        return previous
    return free_port()


class Stack:
    def __init__(self, options: UpOptions) -> None:
        self.options = options
        self.broker: MosquittoBroker | None = None
        self.cluster: PostgresCluster | None = None
        self.server: uvicorn.Server | None = None
        self.server_thread: threading.Thread | None = None
        self.simulator: subprocess.Popen[bytes] | None = None
        self.endpoints: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        opts = self.options
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        previous = _previous_ports(opts.state_dir)
        database_url = opts.database_url
        if database_url is None:
            db_port = _pick(opts.db_port, previous.get("db_port"))
            self.cluster = PostgresCluster(cluster_home(opts.state_dir) / "data", db_port)
            self.cluster.start()
            self.cluster.ensure_database("vigie")
            database_url = self.cluster.url("vigie")
        applied = migrations.apply(database_url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        mqtt_url, credentials, auth = opts.mqtt_url, {}, None
        if mqtt_url is None:
            # Our own broker refuses anonymous clients: the gateway, the simulator and a demo wearable get
            # fresh passwords at each start; accounts issued through the API persist in the database.
            auth = BrokerAuthFiles(opts.state_dir / "mosquitto" / "auth")
            credentials = _demo_accounts(database_url, auth)
            mqtt_port = _pick(opts.mqtt_port, previous.get("mqtt_port"))
            # A second listener with TLS, on a throwaway CA, so devices can try mqtts:// as in production.
            tls = self_signed(opts.state_dir / "mosquitto" / "tls")
            self.broker = MosquittoBroker(opts.state_dir / "mosquitto", mqtt_port, auth=auth, tls=tls,
                                          tls_port=_pick(None, previous.get("mqtts_port")))  # fmt: skip
            self.broker.start()
            gateway = credentials.pop("gateway")
            mqtt_url = f"mqtt://{gateway['username']}:{gateway['password']}@{self.broker.host}:{self.broker.port}"
        http_port = _pick(opts.http_port, previous.get("http_port"))
        if not port_is_free(http_port):
            raise ServiceStartError(f"port {http_port} is already in use: pass --http-port or free it")
        settings = Settings(mqtt_url=mqtt_url, database_url=database_url, http_port=http_port,
                            state_dir=opts.state_dir, mode="demo", mqtt_auth_dir=auth.directory if auth else None,
                            mqtt_broker_pid_file=self.broker.pid_file if self.broker else None)  # fmt: skip
        self._start_gateway(settings)
        users = _demo_users(database_url)
        admin_token = issue_jwt(Principal(DEMO_ADMIN, Role.ADMIN), settings.jwt_secret_value, datetime.now(UTC),
                                settings.token_ttl_s)  # fmt: skip
        endpoint = settings.mqtt
        self.endpoints = {
            "http_url": f"http://127.0.0.1:{http_port}", "mqtt_host": endpoint.host, "mqtt_port": endpoint.port,
            "database_url": database_url, "http_port": http_port,
            "db_port": self.cluster.port if self.cluster else None,
            "mqtts_port": self.broker.tls_port if self.broker else None,
            "mqtt_ca_file": str(self.broker.tls.ca_file) if self.broker and self.broker.tls else None,
            # For scripts: `simulator` may publish for any wearable or robot (a fleet account); `demo_device`
            # only as the wearable demo-wearable-01, like a real device; `monitor` reads every stream.
            "mqtt_credentials": credentials,
            # A bearer token for scripts (Authorization: Bearer ...), and the people who can log in.
            "admin_token": admin_token, "users": users,
        }  # fmt: skip
        # Written atomically and private: scripts poll for it, and it holds the demo's credentials.
        tmp = opts.state_dir / "endpoints.json.tmp"
        tmp.write_text(json.dumps(self.endpoints, indent=2) + "\n")
        tmp.chmod(0o600)
        tmp.replace(opts.state_dir / "endpoints.json")
        if opts.simulator:
            self._start_simulator()
        return self.endpoints

    def _start_gateway(self, settings: Settings) -> None:
        config = uvicorn.Config(create_app(settings), host=settings.http_host, port=settings.http_port,
                                log_level="warning", lifespan="on")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.server_thread = threading.Thread(target=self.server.run, name="vigie-http", daemon=True)
        self.server_thread.start()
        url = f"http://127.0.0.1:{settings.http_port}/healthz"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self.server_thread.is_alive():
                raise ServiceStartError("the gateway exited during start-up (see the log above)")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise ServiceStartError(f"the gateway did not become healthy at {url} within 30 s")

    def _start_simulator(self) -> None:
        argv = [sys.executable, "-m", "gateway.cli", "simulate", "--state-dir", str(self.options.state_dir),
                *self.options.simulator_args]  # fmt: skip
        self.simulator = subprocess.Popen(argv, env=dict(os.environ))

    def stop(self) -> None:
        if self.simulator is not None and self.simulator.poll() is None:
            self.simulator.send_signal(signal.SIGINT)
            try:
                self.simulator.wait(10)
            except subprocess.TimeoutExpired:
                self.simulator.kill()
        if self.server is not None and self.server_thread is not None:
            self.server.should_exit = True
            self.server_thread.join(15)
        if self.broker is not None:
            self.broker.stop()
        if self.cluster is not None:
            self.cluster.stop()


def _credentials_text(credentials: dict[str, dict[str, str]]) -> str:
    lines = (f"  {'MQTT ' + role + ':':<19}{c['username']} / {c['password']}\n" for role, c in credentials.items())
    return "".join(lines)


def _tls_text(endpoints: dict[str, Any]) -> str:
    if not endpoints.get("mqtts_port"):
        return ""
    return (f"  MQTT over TLS:     mqtts://{endpoints['mqtt_host']}:{endpoints['mqtts_port']}"
            f" (CA {endpoints['mqtt_ca_file']})\n")  # fmt: skip


def _users_text(users: dict[str, dict[str, Any]]) -> str:
    return "".join(f"  {'Login ' + u['role'] + ':':<22}{name} / {u['password']}\n" for name, u in users.items())


def run_up(options: UpOptions) -> int:
    stack = Stack(options)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        endpoints = stack.start()
        print(f"\nVigie is up.\n  Dashboard and API: {endpoints['http_url']}/\n"
              f"  API docs:          {endpoints['http_url']}/docs\n"
              f"  MQTT broker:       mqtt://{endpoints['mqtt_host']}:{endpoints['mqtt_port']}\n"
              f"{_tls_text(endpoints)}"
              f"{_credentials_text(endpoints.get('mqtt_credentials', {}))}"
              f"{_users_text(endpoints['users'])}"
              f"  Database:          {endpoints['database_url']}\n"
              f"  Endpoints file:    {options.state_dir / 'endpoints.json'}\n"
              "Press Ctrl-C to stop.", flush=True)  # fmt: skip
        while not stopping.wait(1.0):
            if stack.server_thread is not None and not stack.server_thread.is_alive():
                print("the gateway stopped unexpectedly", file=sys.stderr)
                return 1
        return 0
    except ServiceStartError as exc:
        print(f"vigie up: {exc}", file=sys.stderr)
        return 2
    finally:
        print("Stopping Vigie…", flush=True)
        stack.stop()
