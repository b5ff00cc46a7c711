"""The baselines Vigie's load benchmark runs side by side with the gateway, on the same broker and load.

- ``nodered``: what a city IT team would otherwise build: a Node-RED 4.x flow (``nodered/flow.json``):
  MQTT in → JSON → a function node doing one PostgreSQL ``INSERT`` per message with node-postgres.
- ``naive``: a first Python version (``naive.py``): paho, ``json.loads``, per-sample loops, one
  ``INSERT`` + commit per message.

Both consume every wearable frame through a persistent MQTT session of their own (created before the
consumer starts, see ``session.py``) and write one row per frame into a table of their own in the given
database. ``running_baseline`` is the one entry point::

    with running_baseline("nodered", mqtt_host=..., mqtt_port=..., mqtt_username=None, mqtt_password=None,
                          database_url=..., client_id="baseline-nodered", workdir=tmp) as baseline:
        ...  # publish; poll baseline.stored(); sample CPU of baseline.pid
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from benchmarks.baselines.session import BrokerAccount, discard_session, open_session
from benchmarks.baselines.table import count_rows, recreate_table

log = logging.getLogger(__name__)

Kind = Literal["nodered", "naive"]
KINDS: tuple[Kind, ...] = ("nodered", "naive")
REPO_ROOT = Path(__file__).resolve().parents[2]
NODERED_DIR = Path(__file__).resolve().parent / "nodered"
NODERED_MAIN = NODERED_DIR / "node_modules" / "node-red" / "red.js"
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-node-red.sh"
TABLES: dict[Kind, str] = {"nodered": "baseline_nodered_frames", "naive": "baseline_naive_frames"}
# What each consumer logs once its MQTT connection is up (Node-RED: its mqtt-broker node's info line).
_READY_MARKERS: dict[Kind, str] = {"nodered": "Connected to broker", "naive": "connected to the broker"}
_STOP_TIMEOUT_S = 10.0


class BaselineMissing(RuntimeError):
    """The baseline cannot run on this machine (Node-RED not installed): says how to install it."""


def available(kind: Kind) -> bool:
    """Whether ``kind`` can run here: Node-RED needs ``node`` and ``scripts/install-node-red.sh`` to have run."""
    if kind == "naive":
        return True
    return shutil.which("node") is not None and NODERED_MAIN.is_file() and (NODERED_DIR / "node_modules/pg").is_dir()


class Baseline:
    """One running baseline consumer: its process, its log and its table."""

    def __init__(self, kind: Kind, broker: BrokerAccount, database_url: str, client_id: str, workdir: Path) -> None:
        self.kind: str = kind
        self.table = TABLES[kind]
        self.client_id = client_id
        self.log_path = workdir / f"{kind}.log"
        self._kind = kind
        self._broker = broker
        self._database_url = database_url
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def pid(self) -> int:
        """The consumer's process id (Node-RED's ``node`` process, or the Python interpreter)."""
        if self._process is None:
            raise RuntimeError(f"the {self.kind} baseline is not running")
        return self._process.pid

    def stored(self) -> int:
        """Rows stored so far in this baseline's table (one per distinct frame)."""
        return count_rows(self._database_url, self.table)

    def ready(self) -> bool:
        """Whether the consumer is running and has connected to the broker since it was last started.

        Its session (subscription included) exists before it starts, so from then on no frame is lost.
        """
        if self._process is None or self._process.poll() is not None:
            return False
        with self.log_path.open("rb") as log_file:
            log_file.seek(self._log_offset)
            return _READY_MARKERS[self._kind].encode() in log_file.read()

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the consumer on its existing session; return once it is connected."""
        if self._process is not None:
            return
        command, env = self._command()
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log_file:
            # Own process group: stopping it reaches every process it started, and a Ctrl-C in the
            # benchmark's terminal does not kill it before the benchmark has stopped it in order.
            self._process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                             stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            code = self._process.poll()
            if code is not None or time.monotonic() > deadline:
                self.stop()
                what = f"exited with status {code}" if code is not None else f"not connected after {timeout_s:.0f} s"
                raise RuntimeError(f"{self.kind} baseline {what}; log {self.log_path}:\n{self._log_tail()}")
            time.sleep(0.05)
        log.info("%s baseline pid %s connected as %s", self.kind, self._process.pid, self.client_id)

    def stop(self) -> None:
        """Stop the consumer (SIGTERM to its process group, SIGKILL after 10 s); its session stays on the broker."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("%s baseline pid %s ignored SIGTERM: killing it", self.kind, process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything the consumer itself started and left behind
        process.wait()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the consumer for the ``with`` block and start it again after: the broker queues meanwhile.

        Node-RED acknowledges a message on receipt, before its INSERT: rows still being inserted when it
        stops are lost (the naive baseline acknowledges after its commit and loses nothing). Wait for
        ``stored()`` to settle before pausing when that matters.
        """
        self.stop()
        try:
            yield
        finally:
            self.start()

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        env.pop("VIGIE_MQTT_PASSWORD", None)
        if self._broker.password is not None:
            env["VIGIE_MQTT_PASSWORD"] = self._broker.password
        if self._kind == "naive":
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
            command = [sys.executable, "-m", "benchmarks.baselines.naive",
                       "--mqtt-url", f"mqtt://{self._broker.host}:{self._broker.port}",
                       "--database-url", self._database_url, "--table", self.table,
                       "--client-id", self.client_id]  # fmt: skip
            if self._broker.username is not None:
                command += ["--mqtt-username", self._broker.username]
            return command, env
        node = shutil.which("node")
        if node is None or not available("nodered"):
            raise BaselineMissing(f"Node-RED is not installed: run `bash {INSTALL_SCRIPT}` (or `make install`)")
        user_dir = self._workdir / "nodered-user"
        user_dir.mkdir(parents=True, exist_ok=True)
        # The committed flow is copied: Node-RED owns the files of its user directory and may rewrite them.
        shutil.copyfile(NODERED_DIR / "flow.json", user_dir / "flow.json")
        credentials = user_dir / "flow_cred.json"  # <flow file name>_cred.json, read from the user directory
        credentials.unlink(missing_ok=True)
        if self._broker.username is not None:
            # Node-RED substitutes ${VAR} in credentials too: the password itself is never written to disk.
            credentials.write_text('{"vigie_broker": {"user": "${VIGIE_MQTT_USERNAME}", '
                                   '"password": "${VIGIE_MQTT_PASSWORD}"}}\n', encoding="utf-8")  # fmt: skip
            env["VIGIE_MQTT_USERNAME"] = self._broker.username
            env.setdefault("VIGIE_MQTT_PASSWORD", "")
        env |= {
            "VIGIE_MQTT_HOST": self._broker.host, "VIGIE_MQTT_PORT": str(self._broker.port),
            "VIGIE_MQTT_CLIENT_ID": self.client_id, "VIGIE_BASELINE_DATABASE_URL": self._database_url,
            "VIGIE_BASELINE_TABLE": self.table, "NODE_RED_DISABLE_TELEMETRY": "1",
        }  # fmt: skip
        command = [node, str(NODERED_MAIN), "--settings", str(NODERED_DIR / "settings.js"),
                   "--userDir", str(user_dir), str(user_dir / "flow.json")]  # fmt: skip
        return command, env

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@contextmanager
def running_baseline(kind: Kind, *, mqtt_host: str, mqtt_port: int, mqtt_username: str | None,
                     mqtt_password: str | None, database_url: str, client_id: str,
                     workdir: Path) -> Iterator[Baseline]:  # fmt: skip
    """Run one baseline consumer for the ``with`` block, on an empty table and a fresh persistent session.

    The MQTT account must be allowed to *read* ``vigie/v1/wearables/+/frame`` (a gateway or monitor account):
    Mosquitto grants a subscription its ACL denies and then silently delivers nothing (a fleet account, which
    may only write frames, would leave the baseline idle). Raises ``BaselineMissing`` (before touching the
    broker or the database) when Node-RED is not installed.
    At exit the consumer is stopped (its whole process group) and its MQTT session discarded; the table
    is kept, for inspection.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown baseline {kind!r}: one of {', '.join(KINDS)}")
    if not available(kind):
        raise BaselineMissing(f"the {kind} baseline is not installed: run `bash {INSTALL_SCRIPT}` (or `make install`)")
    workdir.mkdir(parents=True, exist_ok=True)
    broker = BrokerAccount(mqtt_host, mqtt_port, mqtt_username, mqtt_password)
    baseline = Baseline(kind, broker, database_url, client_id, workdir)
    recreate_table(database_url, baseline.table)
    open_session(broker, client_id)
    try:
        baseline.start()
        yield baseline
    finally:
        baseline.stop()
        try:
            discard_session(broker, client_id)
        except (OSError, TimeoutError) as exc:  # ConnectionError included; do not mask the block's own error
            log.warning("could not discard the MQTT session %s of the %s baseline: %s", client_id, kind, exc)
