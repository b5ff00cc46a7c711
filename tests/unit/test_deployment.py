"""docker-compose.yml checked statically (no Docker engine here): structure, health, secrets, settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_has_an_image_or_a_build_and_a_healthcheck():
    for name, service in COMPOSE["services"].items():
        assert "image" in service or "build" in service, name
        # One-shot jobs (restart "no", waited for with service_completed_successfully) have nothing to probe.
        assert "healthcheck" in service or service.get("restart") == "no", name


def test_the_broker_refuses_anonymous_clients_and_applies_the_generated_acl():
    conf = (ROOT / "deploy" / "mosquitto.conf").read_text().split("\n")
    assert "allow_anonymous false" in conf
    assert "password_file /mosquitto/auth/passwd" in conf and "acl_file /mosquitto/auth/acl" in conf
    broker = COMPOSE["services"]["mosquitto"]
    assert "mqtt-auth:/mosquitto/auth:ro" in broker["volumes"]
    assert broker["depends_on"]["mqtt-init"]["condition"] == "service_completed_successfully"
    assert "mqtt-auth:/mqtt-auth" in COMPOSE["services"]["gateway"]["volumes"]  # the credentials API rewrites them


def test_the_gateway_runs_in_production_mode_with_secrets_from_the_environment():
    env = COMPOSE["services"]["gateway"]["environment"]
    assert "VIGIE_MODE" not in env  # production is the default: placeholder secrets are refused at start
    for name in ("VIGIE_JWT_SECRET", "VIGIE_PSEUDONYM_SECRET"):
        assert env[name].startswith("${") and ":?" in env[name]


def test_no_secret_is_written_in_the_file():
    for name, service in COMPOSE["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "SECRET" in key or "password" in str(value):
                assert "${" in str(value) and ":?" in str(value), f"{name}.{key} must come from the environment"


def test_gateway_environment_names_match_the_settings_object():
    fields = {f"VIGIE_{name.upper()}" for name in Settings.model_fields}
    env = COMPOSE["services"]["gateway"]["environment"]
    assert set(env) <= fields, set(env) - fields


def test_the_broker_config_keeps_qos1_messages_for_a_slow_gateway():
    conf = (ROOT / "deploy" / "mosquitto.conf").read_text().split("\n")
    assert "persistence true" in conf
    assert "max_queued_messages 0" in conf
