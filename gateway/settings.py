"""One typed settings object for every entrypoint, built once by the caller and passed in.

Values come from arguments, then ``VIGIE_*`` environment variables, then the defaults below.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.imu_retention import ImuKeep

DEFAULT_SITE_TIMEZONE = "Europe/Paris"
DEFAULT_SHIFT_DURATION_S = 28_800.0


class MqttEndpoint:
    """Host and port parsed from an ``mqtt://host:port`` URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "tcp", "mqtts"} or not parts.hostname:
            raise ValueError(f"expected mqtt://host:port or mqtts://host:port, got {url!r}")
        self.tls: bool = parts.scheme == "mqtts"
        self.host: str = parts.hostname
        self.port: int = parts.port or (8883 if self.tls else 1883)
        self.username: str | None = parts.username
        self.password: str | None = parts.password


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIE_", extra="ignore")

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_client_id: str = Field(default="vigie-ingest", min_length=1, max_length=64)
    # $share/<group>/ lets several ingest workers split the stream (MQTT 5 shared subscriptions).
    mqtt_share_group: str | None = None
    # Scale-out (docs/deployment.md): K ingest workers, each owning the devices and robots whose id hashes to
    # its partition, so each one's detection state (fall buffers, rule timers) lives on one worker only. With
    # K > 1 they share the stream with $share/<mqtt_share_group or "vigie">/ and hand each other what they
    # do not own (gateway/mqtt/client.py). Every worker needs its own mqtt_client_id.
    ingest_partitions: int = Field(default=1, ge=1, le=1024)
    ingest_partition: int = Field(default=0, ge=0)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/vigie"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    state_dir: Path = Path(".vigie")

    run_ingest: bool = True
    ingest_batch_max: int = Field(default=2000, ge=1)
    ingest_batch_wait_s: float = Field(default=0.05, gt=0, le=5)
    ingest_queue_max: int = Field(default=50_000, ge=100)
    max_payload_bytes: int = Field(default=65_536, ge=1024)
    late_after_s: float = Field(default=10.0, gt=0)
    stale_after_s: float = Field(default=30.0, gt=0)
    imu_keep: ImuKeep = ImuKeep.EVENTS
    imu_pre_s: float = Field(default=10.0, ge=0)
    imu_post_s: float = Field(default=30.0, ge=0)
    db_pool_max: int = Field(default=8, ge=1)
    heat_strain_interval_s: float = Field(default=20.0, gt=0)
    shift_hours: float = Field(default=8.0, gt=0, le=24)
    # The planned shift the dashboard projects today's doses over; follows shift_hours unless set itself.
    shift_duration_s: float = Field(default=DEFAULT_SHIFT_DURATION_S, gt=0, le=86_400)
    housekeeping_interval_s: float = Field(default=1.0, gt=0, le=60)
    # An agent alert within this distance of a robot is one incident with it (and pauses it).
    robot_link_distance_m: float = Field(default=30.0, ge=0)
    rule_reload_s: float = Field(default=30.0, gt=0)
    tick_interval_s: float = Field(default=1.0, gt=0, le=10)
    site_timezone: str = DEFAULT_SITE_TIMEZONE
    # The offline basemap served at /api/v1/basemap; None: the Paris map shipped in dashboards/basemap/.
    basemap_path: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Retention (services/retention.py, docs/privacy.md), run every retention_interval_s by the ingest process:
    # frames, raw IMU and robot states go by whole chunks after retention_raw_days; workers' positions after
    # retention_location_days (at most 62: the CNIL's two months), or with their frame when raw retention
    # is shorter: the shorter of the two applies.
    retention_raw_days: int = Field(default=30, ge=1)
    retention_location_days: int = Field(default=60, ge=1)
    retention_dead_letter_days: int = Field(default=30, ge=1)
    # Per-minute roll-ups (frame_minutes, no positions) outlive the per-second frames: never before them.
    retention_minute_days: int = Field(default=400, ge=1)
    retention_interval_s: float = Field(default=3600.0, ge=1)
    # Weak signals (issue 9, docs/signals.md): a group smaller than this many agents is not reported.
    signals_min_group_size: int = Field(default=5, ge=1)

    @field_validator("retention_location_days")
    @classmethod
    def _location_at_most_two_months(cls, value: int) -> int:
        from services.retention import check_location_days

        return check_location_days(value)

    # MQTT accounts (gateway/mqtt/accounts.py): where the broker's password and ACL files are written,
    # and the pid file of a local broker to signal (SIGHUP) after a change. None: accounts are not synced.
    mqtt_auth_dir: Path | None = None
    mqtt_broker_pid_file: Path | None = None
    # With an mqtts:// URL: the CA that signed the broker's certificate (None: the system's trust store).
    mqtt_ca_file: Path | None = None

    # "demo" (vigie up) generates the secrets below when they are not given; "production" refuses to start
    # without real ones, so nothing ships with a default secret that works in production.
    mode: Literal["production", "demo"] = "production"
    jwt_secret: SecretStr | None = None  # signs the API's bearer tokens (HS256)
    pseudonym_secret: SecretStr | None = None  # keys agents' pseudonyms in safety officers' reports
    token_ttl_s: float = Field(default=12 * 3600, ge=60, le=7 * 86_400)  # one shift, with margin

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str) -> str:
        MqttEndpoint(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("database_url must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _shift_duration_follows_shift_hours(self) -> Settings:
        # One planned shift for the projected-dose alerts (shift_hours) and the dashboard's projections.
        if "shift_duration_s" not in self.model_fields_set:
            self.shift_duration_s = self.shift_hours * 3600.0
        return self

    @model_validator(mode="after")
    def _partition_in_range(self) -> Settings:
        if self.ingest_partition >= self.ingest_partitions:
            raise ValueError(f"ingest_partition {self.ingest_partition} is not in 0..{self.ingest_partitions - 1}")
        return self

    @property
    def share_group(self) -> str | None:
        """The shared-subscription group: the configured one, or "vigie" as soon as workers share the stream."""
        return self.mqtt_share_group or ("vigie" if self.ingest_partitions > 1 else None)

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        for name in ("jwt_secret", "pseudonym_secret"):
            value: SecretStr | None = getattr(self, name)
            if value is None and self.mode == "demo":
                setattr(self, name, SecretStr(secrets.token_urlsafe(32)))
                continue
            problem = _weak_secret(value.get_secret_value() if value else None)
            if problem:
                raise ValueError(f"VIGIE_{name.upper()} {problem} (outside demo mode a real secret is required: "
                                 "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return self

    @property
    def jwt_secret_value(self) -> str:
        assert self.jwt_secret is not None  # set or generated by the validator
        return self.jwt_secret.get_secret_value()

    @property
    def pseudonym_key(self) -> bytes:
        assert self.pseudonym_secret is not None
        return self.pseudonym_secret.get_secret_value().encode()

    @property
    def mqtt(self) -> MqttEndpoint:
        return MqttEndpoint(self.mqtt_url)


_PLACEHOLDERS = ("change", "secret", "password", "example", "default", "placeholder", "vigie", "demo", "test", "xxx")


def _weak_secret(value: str | None) -> str | None:
    """Why a secret is not fit for production, or None when it is."""
    if not value:
        return "is not set"
    if len(value) < 32:
        return "is shorter than 32 characters"
    if any(word in value.lower() for word in _PLACEHOLDERS) or len(set(value)) < 10:
        return "looks like a placeholder"
    return None
