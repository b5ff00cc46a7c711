"""A private Mosquitto broker, configured so that QoS 1 messages are not dropped.

Mosquitto's defaults are tuned for best effort: `max_queued_messages 1000` silently discards
QoS 1 messages queued for a subscriber that falls behind (measured: 7,200 sent, 6,638 received),
and messages queued for an offline persistent session vanish on restart without `persistence`.
The gateway must lose nothing, so the broker it runs is configured here, in one place.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from gateway.mqtt.accounts import BrokerAuthFiles
from gateway.runtime.errors import ServiceStartError, log_tail
from gateway.runtime.ports import port_accepts, port_is_free
from gateway.runtime.tls import TlsFiles

logger = logging.getLogger(__name__)

_FALLBACK_BINARY = Path("/usr/sbin/mosquitto")
_POLL_INTERVAL_S = 0.02


def find_mosquitto() -> Path:
    """Locate the broker binary (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return Path(found)
    if _FALLBACK_BINARY.is_file():
        return _FALLBACK_BINARY
    raise ServiceStartError("mosquitto not found: run `make install` (scripts/install-system.sh)")


def render_config(
    *,
    host: str,
    port: int,
    state_dir: Path,
    password_file: Path | None = None,
    acl_file: Path | None = None,
    tls: TlsFiles | None = None,
    tls_port: int | None = None,
) -> str:
    """Return the text of mosquitto.conf for a private broker on `host:port`.

    Without a password file the broker is anonymous: acceptable only because it listens on a
    private port of the caller's choosing (loopback by default).
    """
    auth = ["allow_anonymous true"]
    if password_file is not None:
        auth = ["allow_anonymous false", f"password_file {password_file}"]
    if acl_file is not None:
        auth.append(f"acl_file {acl_file}")
    lines = [
        f"listener {port} {host}",
        *auth,
        # Mosquitto drops to the `mosquitto` user when started as root, which then cannot reach a
        # state directory under the caller's (often 0700) temporary or project directory. The broker
        # runs as whoever started it and owns its own directory.
        f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        "persistence true",
        f"persistence_location {state_dir / 'data'}/",
        # The in-memory store is written to disk on a clean stop and every autosave interval.
        # A crash (SIGKILL) loses what was acknowledged since the last save, so keep that window
        # short; the cost is one rewrite of a store that the gateway keeps drained.
        "autosave_interval 1",
        # 0 = unlimited: the default (1000 messages) discards QoS 1 messages for a slow or
        # offline subscriber, which is exactly the gateway during a database outage.
        "max_queued_messages 0",
        "max_queued_bytes 0",
        # The gateway acknowledges (PUBACK, MQTT 5.0 §4.3.2) only after the database commit, in
        # batches, so many messages are legitimately in flight to it at once: with a window of one batch,
        # the broker waits for the commit before sending the next one, and ingest stalls at a batch per
        # round trip (measured: lag growing at 1,000 wearables + 100 robots with 1000, docs/benchmarks.md).
        # 10,000 matches the gateway's Receive Maximum (gateway/mqtt/client.py).
        "max_inflight_messages 10000",
        "max_packet_size 262144",
        f"log_dest file {state_dir / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    if tls is not None and tls_port is not None:
        # Options after a `listener` line apply to that listener (mosquitto.conf(5)): keep this block last.
        lines += [f"listener {tls_port} {host}", f"cafile {tls.ca_file}", f"certfile {tls.cert_file}",
                  f"keyfile {tls.key_file}", "tls_version tlsv1.2"]  # fmt: skip
    return "\n".join(lines) + "\n"


class MosquittoBroker:
    """One Mosquitto process, its config, persistence store and log under `state_dir`."""

    def __init__(self, state_dir: Path, port: int, host: str = "127.0.0.1", auth: BrokerAuthFiles | None = None,
                 tls: TlsFiles | None = None, tls_port: int | None = None) -> None:  # fmt: skip
        """``auth``: per-account passwords and ACL (no anonymous access); None: anonymous, for tests.
        ``tls``/``tls_port``: a second listener with MQTT over TLS (mqtts://)."""
        self.state_dir = state_dir
        self.port = port
        self.host = host
        self.auth = auth
        self.tls = tls
        self.tls_port = tls_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        """Written by us (Mosquitto writes its own only when daemonised): who to SIGHUP after account changes."""
        return self.state_dir / "mosquitto.pid"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str | None:
        return None if self.tls_port is None else f"mqtts://{self.host}:{self.tls_port}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the broker and return once it accepts TCP connections on its port."""
        if self.is_running:
            return
        binary = find_mosquitto()
        if not port_is_free(self.port, self.host):
            raise ServiceStartError(f"port {self.port} is already in use on {self.host}: pass --mqtt-port or free it")
        (self.state_dir / "data").mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            render_config(host=self.host, port=self.port, state_dir=self.state_dir,
                          password_file=self.auth.password_file if self.auth else None,
                          acl_file=self.auth.acl_file if self.auth else None, tls=self.tls, tls_port=self.tls_port),
            encoding="utf-8",
        )  # fmt: skip
        started = time.monotonic()
        # Errors found before the log file is opened (a bad config line) go to stderr: same file.
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(binary), "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: a Ctrl-C in the terminal reaches `vigie up`, which then stops
                # the services in order, instead of killing the broker mid-shutdown.
                start_new_session=True,
            )
        self._wait_ready(started + timeout_s, timeout_s)
        self.pid_file.write_text(f"{self._process.pid}\n")
        logger.info(
            "mosquitto pid %s listening on %s (%.2f s)",
            self._process.pid,
            self.url,
            time.monotonic() - started,
        )

    def _wait_ready(self, deadline: float, timeout_s: float) -> None:
        process = self._process
        assert process is not None
        while True:
            code = process.poll()
            if code is not None:
                self._process = None
                raise ServiceStartError(
                    f"mosquitto exited with status {code} while starting on port {self.port}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if port_accepts(self.host, self.port):
                return
            if time.monotonic() >= deadline:
                self.kill()
                raise ServiceStartError(
                    f"mosquitto did not accept connections on {self.host}:{self.port} within "
                    f"{timeout_s:.0f} s; log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(_POLL_INTERVAL_S)

    def reload(self) -> None:
        """Re-read the password and ACL files (SIGHUP, mosquitto(8))."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGHUP)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop cleanly (SIGTERM: Mosquitto saves its store), SIGKILL if it does not exit in time."""
        self.pid_file.unlink(missing_ok=True)
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning("mosquitto pid %s ignored SIGTERM for %.0f s: killing", process.pid, timeout_s)
                process.kill()
                process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would: nothing is saved since the last autosave."""
        process = self._process
        self.pid_file.unlink(missing_ok=True)
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        self._process = None

    def restart(self, timeout_s: float = 10.0) -> None:
        """Stop cleanly and start again on the same port, keeping the persistence store."""
        self.stop(timeout_s)
        self.start(timeout_s)

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
