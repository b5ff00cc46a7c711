"""Logging in, who am I, an agent's export of their own data, and the admin's users, API keys and audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import Field, StringConstraints

from gateway.api.deps import ConnDep, SettingsDep
from gateway.api.schemas import Id, _Body
from gateway.api.security import PrincipalDep
from gateway.auth.passwords import MIN_PASSWORD_LENGTH
from gateway.auth.tokens import issue_jwt
from gateway.db import access_store, exposure_queries, queries, registry
from gateway.exposure_view import day_json
from services.access import HUMAN_ROLES, Role

router = APIRouter(prefix="/api/v1", tags=["access"])
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]
EXPORT_FRAMES_MAX_DAYS = 7


class UserIn(_Body):
    password: Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=200)]
    role: Role
    crew_ids: Annotated[list[Id], Field(default_factory=list, max_length=200)]
    agent_id: Id | None = None
    names_allowed: bool = False


class ApiKeyIn(_Body):
    role: Role
    label: Annotated[str, StringConstraints(max_length=120)] = ""
    crew_ids: Annotated[list[Id], Field(default_factory=list, max_length=200)]
    agent_id: Id | None = None
    subject_id: Id | None = None


@router.post("/auth/token")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], conn: ConnDep, settings: SettingsDep
                ) -> dict[str, Any]:  # fmt: skip
    """OAuth2 password flow (RFC 6749 §4.3): a bearer JWT valid for one shift."""
    principal = await access_store.authenticate(conn, form.username, form.password)
    if principal is None:
        raise HTTPException(401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"})
    token = issue_jwt(principal, settings.jwt_secret_value, datetime.now(UTC), settings.token_ttl_s)
    return {"access_token": token, "token_type": "bearer", "expires_in": int(settings.token_ttl_s),
            "role": principal.role.value}  # fmt: skip


@router.get("/me")
async def me(principal: PrincipalDep) -> dict[str, Any]:
    """Who the token says the caller is: the dashboard adapts its views to the role."""
    return {"subject": principal.subject, "role": principal.role.value, "crew_ids": sorted(principal.crew_ids),
            "agent_id": principal.agent_id, "names_allowed": principal.names_allowed,
            "subject_id": principal.subject_id}  # fmt: skip


@router.get("/me/export")
async def export_my_data(principal: PrincipalDep, conn: ConnDep, settings: SettingsDep,
                         frames_from: datetime | None = None, frames_to: datetime | None = None
                         ) -> dict[str, Any]:  # fmt: skip
    """An agent's own data (GDPR art. 15 and 20): profile, devices worn, every exposure day, alerts about them,
    who read their data, and their raw frames over at most 7 days (default: the last 24 h)."""
    agent_id = principal.agent_id
    if agent_id is None:
        raise HTTPException(404, "this account is not linked to an agent")
    end = frames_to or datetime.now(UTC)
    start = frames_from or end - timedelta(days=1)
    if end <= start or end - start > timedelta(days=EXPORT_FRAMES_MAX_DAYS):
        raise HTTPException(422, f"frames_from must be before frames_to, at most {EXPORT_FRAMES_MAX_DAYS} days apart")
    agent = await exposure_queries.agent(conn, agent_id)
    if agent is None:
        raise HTTPException(404, f"no agent {agent_id}")
    days = await exposure_queries.days(conn, date(2000, 1, 1), date(2100, 1, 1), agent_id=agent_id)
    return {
        "generated_at": datetime.now(UTC).isoformat(), "agent_id": agent_id,
        "profile": {k: v for k, v in agent.items() if k != "agent_id"},
        "assignments": await registry.assignments(conn, None, agent_id),
        "exposure_days": [day_json(r, exposure_queries.profile_of(r), r["display_name"]) for r in days],
        "alerts": await queries.alerts(conn, None, agent_id, 100_000),
        "reads_of_my_data": await access_store.audit_entries(conn, agent_id, 10_000),
        "frames": {"from": start.isoformat(), "to": end.isoformat(),
                   "items": await queries.frames(conn, None, agent_id, start, end, 1_000_000)},
    }  # fmt: skip


@router.get("/users")
async def list_users(conn: ConnDep) -> dict[str, Any]:
    return {"items": await access_store.users(conn)}


@router.put("/users/{username}")
async def put_user(username: Username, body: UserIn, conn: ConnDep) -> dict[str, Any]:
    """Create or reset a person's account (machines get API keys, not users)."""
    if body.role not in HUMAN_ROLES:
        raise HTTPException(422, f"{body.role.value} is a machine role: create an API key instead")
    if body.role is Role.AGENT and body.agent_id is None:
        raise HTTPException(422, "an agent account needs agent_id")
    if body.agent_id is not None and await exposure_queries.agent(conn, body.agent_id) is None:
        raise HTTPException(422, f"no agent {body.agent_id}")
    return await access_store.upsert_user(conn, username, body.password, body.role, body.crew_ids, body.agent_id,
                                          body.names_allowed)  # fmt: skip


@router.post("/api-keys", status_code=201)
async def create_api_key(body: ApiKeyIn, conn: ConnDep) -> dict[str, Any]:
    """A key for a machine (or a script acting for a role); shown once."""
    if body.role in (Role.DEVICE, Role.ROBOT) and body.subject_id is None:
        raise HTTPException(422, "a device or robot key needs subject_id")
    return await access_store.create_api_key(conn, body.role, body.label, body.crew_ids, body.agent_id,
                                             body.subject_id)  # fmt: skip


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_api_key(key_id: Annotated[str, StringConstraints(max_length=32)], conn: ConnDep) -> None:
    if not await access_store.revoke_api_key(conn, key_id):
        raise HTTPException(404, f"no active API key {key_id}")


@router.get("/audit")
async def audit_log(conn: ConnDep, target: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=10_000)] = 200) -> dict[str, Any]:  # fmt: skip
    """Who read whose health or location data, newest first."""
    return {"items": await access_store.audit_entries(conn, target, limit)}
