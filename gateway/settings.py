"""One typed settings object for every entrypoint, built once by the caller and passed in.

Values come from arguments, then ``VIGIE_*`` environment variables, then the defaults below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.imu_retention import ImuKeep


class MqttEndpoint:
    """Host and port parsed from an ``mqtt://host:port`` URL."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "tcp"} or not parts.hostname:
            raise ValueError(f"expected mqtt://host:port, got {url!r}")
        self.host: str = parts.hostname
        self.port: int = parts.port or 1883
        self.username: str | None = parts.username
        self.password: str | None = parts.password


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIGIE_", extra="ignore")

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_client_id: str = Field(default="vigie-ingest", min_length=1, max_length=64)
    # $share/<group>/ lets several ingest workers split the stream (MQTT 5 shared subscriptions).
    mqtt_share_group: str | None = None
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
    housekeeping_interval_s: float = Field(default=1.0, gt=0, le=60)
    # An agent alert within this distance of a robot is one incident with it (and pauses it).
    robot_link_distance_m: float = Field(default=30.0, ge=0)
    rule_reload_s: float = Field(default=30.0, gt=0)
    tick_interval_s: float = Field(default=1.0, gt=0, le=10)
    site_timezone: str = "Europe/Paris"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

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

    @property
    def mqtt(self) -> MqttEndpoint:
        return MqttEndpoint(self.mqtt_url)
