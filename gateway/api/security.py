"""Authentication and authorisation of every HTTP route, in one place.

Each route has an entry in :data:`POLICY` (method and path template → roles allowed, and whether a read is
written to the audit log); a route without an entry is refused (default deny), and a test checks every route
of the OpenAPI has one. The guard also checks *which* agent, crew or alert a request names (path or query):
a supervisor reaches only their crews, an agent only themself (services/access.py). Lists are filtered by the
routes themselves with :func:`principal_of` and ``services.access.crew_filter``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import AsyncConnectionPool

from gateway.api.deps import get_pool, get_settings
from gateway.auth.tokens import InvalidToken, decode_jwt, split_api_key
from gateway.db import access_store
from services.access import HUMAN_ROLES, Principal, Role, may_see_agent, may_see_crew

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.SAFETY_OFFICER})
OPERATORS = frozenset({Role.ADMIN, Role.SUPERVISOR})
OFFICERS = frozenset({Role.ADMIN, Role.SAFETY_OFFICER})
PEOPLE = HUMAN_ROLES
EVERYONE = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    audit: bool = False  # the response holds health or location data: record who read it


PUBLIC: set[tuple[str, str]] = {("GET", "/healthz"), ("POST", "/api/v1/auth/token")}

POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/metrics"): Rule(ADMIN),
    ("GET", "/api/v1/frames"): Rule(ADMIN, audit=True),
    ("GET", "/api/v1/dead-letters"): Rule(ADMIN),
    ("GET", "/api/v1/alerts"): Rule(STAFF, audit=True),
    ("GET", "/api/v1/alerts/stats"): Rule(STAFF),
    ("GET", "/api/v1/alerts/{alert_id}"): Rule(PEOPLE, audit=True),
    ("GET", "/api/v1/alerts/{alert_id}/events"): Rule(STAFF, audit=True),
    ("POST", "/api/v1/alerts/{alert_id}/comments"): Rule(OPERATORS),
    ("POST", "/api/v1/alerts/{alert_id}/ack"): Rule(OPERATORS),
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): Rule(OPERATORS),
    ("GET", "/api/v1/agents"): Rule(PEOPLE, audit=True),
    ("GET", "/api/v1/agents/{agent_id}"): Rule(PEOPLE, audit=True),
    ("PUT", "/api/v1/agents/{agent_id}"): Rule(ADMIN),
    ("GET", "/api/v1/agents/{agent_id}/exposure"): Rule(PEOPLE, audit=True),
    ("GET", "/api/v1/agents/{agent_id}/exposure/today"): Rule(PEOPLE, audit=True),
    ("GET", "/api/v1/crews"): Rule(STAFF),
    ("PUT", "/api/v1/crews/{crew_id}"): Rule(ADMIN),
    ("GET", "/api/v1/basemap"): Rule(PEOPLE),
    ("GET", "/api/v1/robots"): Rule(STAFF),
    ("PUT", "/api/v1/robots/{robot_id}"): Rule(ADMIN),
    ("GET", "/api/v1/devices"): Rule(ADMIN),
    ("GET", "/api/v1/assignments"): Rule(OPERATORS),
    ("POST", "/api/v1/assignments"): Rule(ADMIN),
    ("POST", "/api/v1/assignments/{assignment_id}/end"): Rule(ADMIN),
    ("GET", "/api/v1/sites/{site_id}/escalation"): Rule(STAFF),
    ("PUT", "/api/v1/sites/{site_id}/escalation"): Rule(ADMIN),
    ("GET", "/api/v1/reports/exposure"): Rule(PEOPLE, audit=True),
    ("GET", "/api/v1/reports/annual"): Rule(frozenset({Role.ADMIN, Role.SAFETY_OFFICER, Role.AGENT}), audit=True),
    ("GET", "/api/v1/rules/defaults"): Rule(STAFF),
    ("GET", "/api/v1/rules/{scope}/{scope_id}"): Rule(STAFF),
    ("PUT", "/api/v1/rules/{scope}/{scope_id}"): Rule(OFFICERS),
    ("POST", "/api/v1/devices/{device_id}/mqtt-credentials"): Rule(ADMIN),
    ("DELETE", "/api/v1/devices/{device_id}/mqtt-credentials"): Rule(ADMIN),
    ("POST", "/api/v1/robots/{robot_id}/mqtt-credentials"): Rule(ADMIN),
    ("DELETE", "/api/v1/robots/{robot_id}/mqtt-credentials"): Rule(ADMIN),
    ("GET", "/api/v1/me"): Rule(EVERYONE),
    ("GET", "/api/v1/me/export"): Rule(frozenset({Role.AGENT}), audit=True),
    ("GET", "/api/v1/users"): Rule(ADMIN),
    ("PUT", "/api/v1/users/{username}"): Rule(ADMIN),
    ("POST", "/api/v1/api-keys"): Rule(ADMIN),
    ("DELETE", "/api/v1/api-keys/{key_id}"): Rule(ADMIN),
    ("GET", "/api/v1/audit"): Rule(ADMIN),
    ("GET", "/api/v1/signals"): Rule(PEOPLE, audit=True),
    ("GET", "/api/v1/reports/signals"): Rule(STAFF, audit=True),
    ("PUT", "/api/v1/signals/{ref}/review"): Rule(STAFF, audit=True),
    ("GET", "/api/v1/sites/{site_id}/signal-readers"): Rule(ADMIN),
    ("PUT", "/api/v1/sites/{site_id}/signal-readers/{username}"): Rule(ADMIN),
    ("DELETE", "/api/v1/sites/{site_id}/signal-readers/{username}"): Rule(ADMIN),
}

_bearer = HTTPBearer(auto_error=False, description="a JWT from /api/v1/auth/token, or an API key vk_...")


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def authenticate_token(token: str, jwt_secret: str, pool: AsyncConnectionPool[Any]) -> Principal:
    """The principal of a JWT or an API key; raises InvalidToken otherwise (HTTP and WebSocket alike)."""
    key = split_api_key(token)
    if key is None:
        return decode_jwt(token, jwt_secret)
    async with pool.connection() as conn:
        principal = await access_store.api_key_principal(conn, *key)
    if principal is None:
        raise InvalidToken("unknown or revoked API key")
    return principal


async def principal_from_token(request: Request, token: str) -> Principal:
    try:
        return await authenticate_token(token, get_settings(request).jwt_secret_value, get_pool(request))
    except InvalidToken as exc:
        raise _unauthorised(f"invalid token: {exc}") from exc


async def _check_subjects(request: Request, principal: Principal) -> str | None:
    """403 when the request names an agent, crew or alert the principal may not see; returns the target."""
    params: dict[str, str] = {**request.query_params, **{k: str(v) for k, v in request.path_params.items()}}
    # A signal's reference names its flag without naming the agent (services/signals/review.py).
    target = params.get("agent_id") or params.get("crew_id") or params.get("alert_id") or params.get("ref")
    if principal.sees_all_crews:
        return target
    async with get_pool(request).connection() as conn:
        if agent_id := params.get("agent_id"):
            exists, crew_id = await access_store.agent_crew(conn, agent_id)
            if exists and not may_see_agent(principal, agent_id, crew_id):
                raise HTTPException(403, f"agent {agent_id} is not in your scope")
        if (crew_id := params.get("crew_id")) and not may_see_crew(principal, crew_id):
            raise HTTPException(403, f"crew {crew_id} is not in your scope")
        if alert_id := params.get("alert_id"):
            try:
                uuid.UUID(alert_id)
            except ValueError:
                return alert_id  # the route answers 422
            exists, agent_id, crew_id = await access_store.alert_subject(conn, alert_id)
            visible = may_see_agent(principal, agent_id, crew_id) if agent_id else (
                crew_id is not None and may_see_crew(principal, crew_id))  # fmt: skip
            if exists and not visible:
                raise HTTPException(403, f"alert {alert_id} is not in your scope")
    if principal.role is Role.AGENT and "agent_id" not in params and request.url.path.startswith("/api/v1/reports"):
        raise HTTPException(403, "agents may only request their own reports (agent_id)")
    return target


async def authorize(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                            Depends(_bearer)]) -> Principal | None:  # fmt: skip
    """The router-wide dependency: authenticate, check the route's rule and the named subjects, audit."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    key = (request.method, template)
    if key in PUBLIC:
        return None
    rule = POLICY.get(key)
    if rule is None:
        raise HTTPException(403, f"no access rule for {request.method} {template}")
    if credentials is None:
        raise _unauthorised("authentication required: Authorization: Bearer <token>")
    principal = await principal_from_token(request, credentials.credentials)
    if principal.role not in rule.roles:
        raise HTTPException(403, f"role {principal.role.value} may not {request.method} {template}")
    target = await _check_subjects(request, principal)
    if rule.audit:
        async with get_pool(request).connection() as conn:
            await access_store.audit(conn, principal, f"{request.method} {template}", target,
                                     str(request.url.query))  # fmt: skip
    request.state.principal = principal
    return principal


def principal_of(request: Request) -> Principal:
    """The caller, as authorised by :func:`authorize` (which runs first on every routed request)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise HTTPException(401, "authentication required")
    return principal


PrincipalDep = Annotated[Principal, Depends(principal_of)]
