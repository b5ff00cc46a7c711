"""MQTT credentials of wearables and robots: issue (or rotate) and revoke.

The clear password is in the response of the issuing call only; the table keeps Mosquitto's hash. After the
commit the broker's password and ACL files are rewritten and a local broker reloads them, so a revoked device
is refused at its next connection.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response

from gateway.api.deps import ConnDep
from gateway.db import mqtt_accounts
from gateway.mqtt.accounts import AccountKind
from gateway.mqtt.broker_sync import BrokerAuthSync

router = APIRouter(prefix="/api/v1", tags=["mqtt credentials"])
IdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
_KINDS = {"devices": AccountKind.WEARABLE, "robots": AccountKind.ROBOT}


async def _sync(request: Request, conn: ConnDep) -> bool:
    """Rewrite the broker's files from the committed table; False when this gateway does not manage them."""
    sync: BrokerAuthSync | None = request.app.state.broker_sync
    if sync is None:
        return False
    accounts = await mqtt_accounts.active(conn)
    return await asyncio.to_thread(sync.apply, accounts)


async def _issue(request: Request, conn: ConnDep, family: str, subject_id: str) -> dict[str, Any]:
    kind = _KINDS[family]
    try:
        password = await mqtt_accounts.issue(conn, subject_id, kind, by="api")
    except mqtt_accounts.AccountKindConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
    await conn.commit()
    reloaded = await _sync(request, conn)
    return {"username": subject_id, "password": password, "kind": kind.value, "broker_reloaded": reloaded}


async def _revoke(request: Request, conn: ConnDep, family: str, subject_id: str) -> Response:
    if not await mqtt_accounts.revoke(conn, subject_id, _KINDS[family]):
        raise HTTPException(404, f"no active MQTT account for {family[:-1]} {subject_id}")
    await conn.commit()
    await _sync(request, conn)
    return Response(status_code=204)


@router.post("/devices/{device_id}/mqtt-credentials", status_code=201)
async def issue_device_credentials(request: Request, conn: ConnDep, device_id: IdPath) -> dict[str, Any]:
    """Issue (or rotate) a wearable's MQTT password: it may publish only its own frame and status topics."""
    return await _issue(request, conn, "devices", device_id)


@router.delete("/devices/{device_id}/mqtt-credentials", status_code=204)
async def revoke_device_credentials(request: Request, conn: ConnDep, device_id: IdPath) -> Response:
    return await _revoke(request, conn, "devices", device_id)


@router.post("/robots/{robot_id}/mqtt-credentials", status_code=201)
async def issue_robot_credentials(request: Request, conn: ConnDep, robot_id: IdPath) -> dict[str, Any]:
    """Issue (or rotate) a robot's MQTT password: its own state topic out, its own command topic in."""
    return await _issue(request, conn, "robots", robot_id)


@router.delete("/robots/{robot_id}/mqtt-credentials", status_code=204)
async def revoke_robot_credentials(request: Request, conn: ConnDep, robot_id: IdPath) -> Response:
    return await _revoke(request, conn, "robots", robot_id)
