"""Request bodies of the API (responses are plain JSON documented in docs/api.md and the OpenAPI)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.alerts import Resolution
from services.exposure.heat import Task

Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
# Text that PostgreSQL can store: no NUL character (the 422 then names the field, not the database).
_NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=_NO_NUL)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AckIn(_Body):
    by: Name | None = None  # the name shown; default: the signed-in account


class ResolveIn(_Body):
    reason: Resolution
    comment: Annotated[str, StringConstraints(max_length=2000, pattern=_NO_NUL)] | None = None
    by: Name | None = None  # the name shown; default: the signed-in account


class EscalationLevelIn(_Body):
    level: Annotated[int, Field(ge=1, le=10)]
    after_s: Annotated[int, Field(ge=1, le=86_400)]
    target: Name
    webhook_url: Annotated[str, StringConstraints(pattern=r"^https?://", max_length=500)] | None = None


class EscalationIn(_Body):
    levels: Annotated[list[EscalationLevelIn], Field(max_length=10)]


class CommentIn(_Body):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=_NO_NUL)]
    by: Name | None = None  # the name shown; default: the signed-in account


class AgentIn(_Body):
    display_name: Name
    crew_id: Id | None = None
    site_id: Id = "paris"
    hearing_attenuation_db: Annotated[float, Field(ge=0, le=45)] = 0.0
    task: Task = Task.COLLECTOR_WALKING
    acclimatised: bool = True
    resting_hr_bpm: Annotated[float, Field(ge=30, le=120)] = 70.0


class RobotIn(_Body):
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    crew_id: Id | None = None
    site_id: Id = "paris"


class AssignmentIn(_Body):
    device_id: Id
    agent_id: Id
    valid_from: AwareDatetime
    valid_to: AwareDatetime | None = None


class AssignmentEndIn(_Body):
    valid_to: AwareDatetime


Longitude = Annotated[float, Field(strict=True, ge=-180.0, le=180.0, allow_inf_nan=False)]
Latitude = Annotated[float, Field(strict=True, ge=-90.0, le=90.0, allow_inf_nan=False)]
LonLat = tuple[Longitude, Latitude]


def _closed(ring: list[LonLat]) -> list[LonLat]:
    if ring[0] != ring[-1]:
        raise ValueError("a linear ring must be closed: its last position must equal its first (RFC 7946 3.1.6)")
    return ring


LinearRing = Annotated[list[LonLat], Field(min_length=4, max_length=2000), AfterValidator(_closed)]


class PolygonIn(_Body):
    """A GeoJSON Polygon (RFC 7946 3.1.6) in WGS-84 [longitude, latitude]: the outer ring, then up to 4 holes."""

    type: Literal["Polygon"]
    coordinates: Annotated[list[LinearRing], Field(min_length=1, max_length=5)]


class CrewIn(_Body):
    name: Name | None = None
    site_id: Id = "paris"
    area: PolygonIn | None = None
