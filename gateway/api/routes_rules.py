"""Accident-risk rule thresholds: site defaults and per-crew overrides (services/detection/config.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from psycopg.types.json import Jsonb

from gateway.api.deps import ConnDep
from services.detection import InvalidRuleConfig, RuleConfig
from services.detection.config import with_overrides

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])
Scope = Literal["site", "crew"]
ScopeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


@router.get("/defaults")
async def rule_defaults() -> dict[str, Any]:
    """Every threshold with its default value (names carry units)."""
    return asdict(RuleConfig())


@router.get("/{scope}/{scope_id}")
async def get_overrides(scope: Scope, scope_id: ScopeId, conn: ConnDep) -> dict[str, Any]:
    row = await (await conn.execute("SELECT overrides FROM rule_overrides WHERE scope_type = %s AND scope_id = %s",
                                    (scope, scope_id))).fetchone()  # fmt: skip
    return {"scope": scope, "scope_id": scope_id, "overrides": row[0] if row else {}}


@router.put("/{scope}/{scope_id}")
async def put_overrides(scope: Scope, scope_id: ScopeId, overrides: dict[str, float | bool],
                        conn: ConnDep) -> dict[str, Any]:  # fmt: skip
    """Replace the overrides of a site or a crew; refused (422) unless every name, type and hysteresis is valid.

    The ingest workers pick the change up within ``rule_reload_s`` (30 s by default).
    """
    try:
        effective = with_overrides(RuleConfig(), overrides)
    except InvalidRuleConfig as exc:
        raise HTTPException(422, str(exc)) from exc
    await conn.execute(
        "INSERT INTO rule_overrides (scope_type, scope_id, overrides) VALUES (%s, %s, %s)"
        " ON CONFLICT (scope_type, scope_id) DO UPDATE SET overrides = EXCLUDED.overrides, updated_at = now()",
        (scope, scope_id, Jsonb(overrides)),
    )
    return {"scope": scope, "scope_id": scope_id, "overrides": overrides, "effective": asdict(effective)}
