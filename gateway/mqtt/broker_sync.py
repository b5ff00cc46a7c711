"""Keeps the broker's password and ACL files in step with the ``mqtt_accounts`` table.

After each change the files are rewritten from the table (never patched, so they cannot drift) and the broker
is told to re-read them with SIGHUP (mosquitto(8): "SIGHUP: reload the configuration file, password file and
ACL file"). Where the broker runs elsewhere (docker-compose), the files sit on a shared volume and the
operator's reload hook sends the signal; see docs/deployment.md.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterable
from pathlib import Path

from gateway.mqtt.accounts import BrokerAuthFiles, MqttAccount

log = logging.getLogger(__name__)


class BrokerAuthSync:
    def __init__(self, files: BrokerAuthFiles, broker_pid_file: Path | None) -> None:
        self.files = files
        self._pid_file = broker_pid_file

    def apply(self, accounts: Iterable[MqttAccount]) -> bool:
        """Rewrite the files; True when a local broker was signalled to reload them."""
        self.files.write(accounts)
        if self._pid_file is None:
            return False
        try:
            pid = int(self._pid_file.read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as exc:
            log.warning("could not signal the broker to reload its accounts (%s): %s", self._pid_file, exc)
            return False
        return True
