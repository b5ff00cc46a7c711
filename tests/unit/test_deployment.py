"""docker-compose.yml checked statically (no Docker engine here): structure, health, secrets, settings, images.

What these tests cannot see (images built, containers run) is listed in docs/deployment.md.
"""

from __future__ import annotations

import re
import secrets
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import build_parser
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
MOSQUITTO_CONF = (ROOT / "deploy" / "mosquitto.conf").read_text().split("\n")

# ${NAME}, ${NAME:?message}, ${NAME:-default} (Compose interpolation; $$ is a literal $).
VARIABLE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:\?|:-|\?|-)(?P<arg>[^}]*))?\}")
REQUIRED = {m["name"] for m in VARIABLE.finditer(COMPOSE_TEXT) if m["op"] == ":?"}
OPTIONAL = {m["name"] for m in VARIABLE.finditer(COMPOSE_TEXT) if m["op"] == ":-"}

# VIGIE_* variables that are not fields of gateway.settings.Settings, and the file that reads each one.
SCRIPT_VARIABLES = {
    "VIGIE_MQTT_GATEWAY_PASSWORD": "gateway/cli.py",  # `vigie mqtt-accounts sync`: the service accounts
    "VIGIE_MQTT_MONITOR_PASSWORD": "gateway/cli.py",
    "VIGIE_ROBOT_ID": "deploy/ros/robot-sim.sh",  # the robot-sim container's entrypoint
    "VIGIE_ROBOT_KIND": "deploy/ros/robot-sim.sh",
    "VIGIE_ROBOT_MQTT_PASSWORD": "deploy/ros/robot-sim.sh",
    "VIGIE_ROBOT_MQTT_BROKER": "deploy/ros/robot-sim.sh",
    "VIGIE_ROBOT_WORLD": "deploy/ros/robot-sim.sh",
    "VIGIE_ROBOT_SIMULATOR": "deploy/ros/robot-sim.sh",
}
ONE_SHOT = {"mqtt-init"}
PLACEHOLDERS = ("changeme", "change-me", "password", "secret", "example", "xxx", "todo")


def ingest_workers() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in SERVICES.items() if s.get("command", [None])[0] == "ingest"}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution for the forms this file uses (a missing required variable raises KeyError)."""

    def one(m: re.Match[str]) -> str:
        if m["op"] == ":-":
            return env.get(m["name"]) or m["arg"]
        return env[m["name"]]

    return VARIABLE.sub(one, value).replace("$$", "$")


def dockerfile_of(service: dict[str, Any]) -> tuple[Path, Path]:
    """(build context, Dockerfile) of a service built from this repository."""
    build = service["build"]
    if isinstance(build, str):
        return ROOT / build, ROOT / build / "Dockerfile"
    return ROOT / build["context"], ROOT / build["context"] / build.get("dockerfile", "Dockerfile")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def copy_sources(dockerfile: Path) -> list[str]:
    sources = []
    for keyword, rest in instructions(dockerfile):
        if keyword == "COPY":
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            sources += args[:-1]
    return sources


def test_every_service_has_an_image_or_a_build_and_long_running_ones_a_healthcheck_and_a_restart_policy():
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name
        if name in ONE_SHOT:  # waited for with service_completed_successfully: nothing to probe, nothing to restart
            assert service["restart"] == "no", name
            continue
        assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert service["restart"] in {"unless-stopped", "always"}, name


def test_services_wait_for_healthy_dependencies():
    for name, service in SERVICES.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            expected = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert condition["condition"] == expected, (name, dependency)


def test_state_lives_in_named_volumes():
    named = set(COMPOSE["volumes"])
    assert "tsdb-data:/var/lib/postgresql/data" in SERVICES["timescaledb"]["volumes"]
    assert "mosquitto-data:/mosquitto/data" in SERVICES["mosquitto"]["volumes"]
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(("./", "/")) or source in named, (name, volume)


def test_the_broker_refuses_anonymous_clients_and_applies_the_generated_acl():
    assert "allow_anonymous false" in MOSQUITTO_CONF
    assert "password_file /mosquitto/auth/passwd" in MOSQUITTO_CONF
    assert "acl_file /mosquitto/auth/acl" in MOSQUITTO_CONF
    broker = SERVICES["mosquitto"]
    assert "mqtt-auth:/mosquitto/auth:ro" in broker["volumes"]
    assert broker["depends_on"]["mqtt-init"]["condition"] == "service_completed_successfully"
    assert "mqtt-auth:/mqtt-auth" in SERVICES["api"]["volumes"]  # the credentials API rewrites the files
    assert SERVICES["api"]["environment"]["VIGIE_MQTT_AUTH_DIR"] == "/mqtt-auth"


def test_the_broker_config_keeps_qos1_messages_for_a_slow_gateway():
    # docs/reliability.md: the broker is the queue while the database is away; Mosquitto's default of 1000
    # queued messages per session would silently drop the rest.
    assert "persistence true" in MOSQUITTO_CONF
    assert "persistence_location /mosquitto/data/" in MOSQUITTO_CONF
    assert "max_queued_messages 0" in MOSQUITTO_CONF
    assert "max_queued_bytes 0" in MOSQUITTO_CONF
    assert any(line.startswith("autosave_interval ") for line in MOSQUITTO_CONF)


def test_every_variable_is_required_or_optional_with_a_default():
    for m in VARIABLE.finditer(COMPOSE_TEXT):
        assert m["op"] in {":?", ":-"}, f"${{{m['name']}}}: use ${{NAME:?message}} or ${{NAME:-default}}"
        if m["op"] == ":?":
            assert m["arg"].strip(), f"{m['name']}: say what to set"
    assert not REQUIRED & OPTIONAL


def test_no_secret_or_placeholder_is_written_in_the_file():
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            literal = VARIABLE.sub("", str(value)).lower()
            assert not any(word in literal for word in PLACEHOLDERS), f"{name}.{key} = {value!r}"
            if "PASSWORD" in key or "SECRET" in key or "password" in str(value):
                secrets_used = [m for m in VARIABLE.finditer(str(value))]
                assert secrets_used, f"{name}.{key} must come from the environment"
                for m in secrets_used:
                    # Optional secrets only for profile-gated services, defaulting to nothing (never a value).
                    assert m["op"] == ":?" or (m["arg"] == "" and service.get("profiles")), f"{name}.{key}"


def test_an_optional_secret_is_refused_empty_by_the_container_that_needs_it():
    entrypoint = (ROOT / "deploy" / "ros" / "robot-sim.sh").read_text()
    assert ': "${VIGIE_ROBOT_MQTT_PASSWORD:?' in entrypoint
    assert "set -euo pipefail" in entrypoint


def test_vigie_environment_names_are_settings_fields_or_variables_of_a_named_script():
    fields = {f"VIGIE_{name.upper()}" for name in Settings.model_fields}
    for name, service in SERVICES.items():
        for key in service.get("environment") or {}:
            if key.startswith("VIGIE_") and key not in fields:
                assert key in SCRIPT_VARIABLES, f"{name}.{key} is neither a setting nor a known script variable"
                assert key in (ROOT / SCRIPT_VARIABLES[key]).read_text(), f"{SCRIPT_VARIABLES[key]} never reads {key}"


def _service_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    env = {var: secrets.token_hex(32) for var in REQUIRED}
    for key, value in SERVICES[name]["environment"].items():
        monkeypatch.setenv(key, interpolate(str(value), env))
    return Settings()


def test_the_ingest_workers_and_the_api_build_production_settings_from_their_environment(monkeypatch):
    for name in [*ingest_workers(), "api"]:
        with monkeypatch.context() as patch:
            settings = _service_settings(name, patch)
            assert settings.mode == "production", name
            assert settings.database_url.startswith("postgresql://vigie:"), name
            assert "@timescaledb:5432/" in settings.database_url, name
    with monkeypatch.context() as patch:
        assert _service_settings("api", patch).run_ingest is False
    with monkeypatch.context() as patch:
        assert _service_settings("ingest-0", patch).mqtt.username == "vigie-gateway"


def test_ingest_workers_own_distinct_partitions_and_client_ids(monkeypatch):
    workers = ingest_workers()
    assert len(workers) >= 2
    found = []
    for name in workers:
        with monkeypatch.context() as patch:
            found.append(_service_settings(name, patch))
    assert {s.ingest_partitions for s in found} == {len(workers)}  # every worker agrees on K
    assert sorted(s.ingest_partition for s in found) == list(range(len(workers)))
    assert len({s.mqtt_client_id for s in found}) == len(workers)
    assert {s.share_group for s in found} == {"vigie"}
    # One shared definition (the x-ingest anchor): workers differ only in their environment.
    first, *others = [{k: v for k, v in s.items() if k != "environment"} for s in workers.values()]
    assert all(other == first for other in others)


def test_every_vigie_command_of_the_file_is_a_command_of_the_cli():
    parser = build_parser()
    assert "ENTRYPOINT" in dict(instructions(ROOT / "Dockerfile"))
    assert dict(instructions(ROOT / "Dockerfile"))["ENTRYPOINT"] == '["vigie"]'
    for name, service in SERVICES.items():
        if service.get("build") != ".":
            continue
        if service.get("entrypoint") == ["sh", "-c"]:
            for step in service["command"][0].split("&&"):
                program, *args = shlex.split(step)
                assert program == "vigie", name
                parser.parse_args(args)
        else:
            args = parser.parse_args(service["command"])
            assert args.command in {"serve", "ingest"}, name
            if args.command == "serve":
                assert args.no_ingest, "the API runs apart from the ingest workers"


def test_dockerfiles_exist_and_copy_only_what_the_repository_has():
    for name, service in SERVICES.items():
        if "build" not in service:
            continue
        context, dockerfile = dockerfile_of(service)
        assert dockerfile.is_file(), name
        for source in copy_sources(dockerfile):
            assert (context / source).exists(), f"{dockerfile.relative_to(ROOT)}: COPY {source}"


def test_the_robot_simulator_runs_on_ros_2_kilted_with_its_own_mqtt_account():
    service = SERVICES["robot-sim"]
    _, dockerfile = dockerfile_of(service)
    steps = instructions(dockerfile)
    assert ("FROM", "ros:kilted-ros-base") in steps
    # rclpy and numpy from the ROS image: the project's numpy 2 pin must not shadow Ubuntu's numpy 1.26.
    assert any(k == "RUN" and "pip install" in r and "--no-deps" in r for k, r in steps)
    entrypoint = dict(steps)["ENTRYPOINT"]
    script = entrypoint.split("/opt/vigie/")[1].split('"')[0]
    assert script in copy_sources(dockerfile) or any(script.startswith(s + "/") for s in copy_sources(dockerfile))
    text = (ROOT / script).read_text()
    for command in ("python -m simulations.robot_world", "vigie-safety-monitor", "vigie-robot-bridge"):
        assert command in text
    assert "mqtt_url:=" in text and "${VIGIE_ROBOT_MQTT_PASSWORD}@" in text


def test_gazebo_and_the_robot_start_only_when_their_profile_is_asked_for():
    assert SERVICES["gazebo"]["profiles"] == ["gazebo"]
    assert SERVICES["robot-sim"]["profiles"] == ["robots"]
    core = {name for name, service in SERVICES.items() if not service.get("profiles")}
    assert core >= {"timescaledb", "mqtt-init", "mosquitto", "api", *ingest_workers()}
    _, dockerfile = dockerfile_of(SERVICES["gazebo"])
    assert ("FROM", "ros:kilted-ros-base") in instructions(dockerfile)
    assert "ros-kilted-ros-gz" in dockerfile.read_text()
    assert "vigie_sim.launch.py" in (ROOT / "deploy" / "gazebo" / "gazebo.sh").read_text()


def test_healthcheck_scripts_are_in_the_image_that_runs_them():
    for name in ("robot-sim", "gazebo"):
        test = SERVICES[name]["healthcheck"]["test"]
        path = next(arg for arg in test if arg.startswith("/opt/vigie/")).removeprefix("/opt/vigie/")
        assert (ROOT / path).is_file()
        sources = copy_sources(dockerfile_of(SERVICES[name])[1])
        assert any(path == s or path.startswith(s + "/") for s in sources), name


def test_env_example_lists_exactly_the_required_variables_with_empty_values():
    lines = (ROOT / ".env.example").read_text().splitlines()
    assigned = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert set(assigned) == REQUIRED
    assert all(value == "" for value in assigned.values())
    commented = {m[1] for line in lines if (m := re.match(r"# ([A-Z_][A-Z0-9_]*)=", line))}
    assert commented == OPTIONAL
    assert "openssl rand -hex 32" in "\n".join(lines)


def test_robot_healthcheck_sees_processes_and_an_established_tcp_session():
    sys.path.insert(0, str(ROOT / "deploy" / "ros"))
    try:
        import healthcheck
    finally:
        sys.path.pop(0)
    assert any("pytest" in line for line in healthcheck.command_lines())
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert not healthcheck.established_to(port)
        with socket.create_connection(("127.0.0.1", port)):
            assert healthcheck.established_to(port)


def test_the_deployment_guide_names_every_test_of_this_file():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for name in [n for n in globals() if n.startswith("test_")]:
        assert f"`{name}`" in guide, name
