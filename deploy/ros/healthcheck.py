"""Docker healthcheck of the robot-sim and gazebo containers (docker-compose.yml). Exit 0: healthy, 1: not.

No node writes a heartbeat file, so this asks the kernel: is every expected process running
(``/proc/*/cmdline``), and, for robot-sim, does the container hold an established TCP connection to the
broker's port (``/proc/net/tcp``, ``/proc/net/tcp6``), i.e. is the telemetry bridge's MQTT session up?
Standard library only: it runs with the image's system Python.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

TCP_ESTABLISHED = "01"  # include/net/tcp_states.h


def command_lines(proc: Path = Path("/proc")) -> list[str]:
    lines = []
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:  # the process ended while we looked
                continue
    return lines


def established_to(port: int, proc: Path = Path("/proc")) -> bool:
    """True when a socket of this network namespace is connected to ``port`` on the remote side."""
    for table in ("tcp", "tcp6"):
        try:
            rows = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == TCP_ESTABLISHED and int(fields[2].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def problems(gazebo: bool) -> list[str]:
    if gazebo:
        expected = {"the Gazebo server": ".sdf", "ros_gz_bridge": "parameter_bridge"}
    else:
        expected = {"the safety monitor": "vigie-safety-monitor", "the telemetry bridge": "vigie-robot-bridge"}
        if os.environ.get("VIGIE_ROBOT_SIMULATOR", "embedded") == "embedded":
            expected["the embedded simulator"] = "simulations.robot_world"
    running = [line for line in command_lines() if "healthcheck.py" not in line]
    found = [f"{name} is not running" for name, marker in expected.items()
             if not any(marker in line for line in running)]  # fmt: skip
    if not gazebo:
        broker = urlsplit(os.environ.get("VIGIE_ROBOT_MQTT_BROKER", "mqtt://mosquitto:1883"))
        port = broker.port or (8883 if broker.scheme == "mqtts" else 1883)
        if not established_to(port):
            found.append(f"no MQTT session to the broker (port {port})")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gazebo", action="store_true", help="check the gazebo container instead of robot-sim")
    found = problems(parser.parse_args(argv).gazebo)
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
