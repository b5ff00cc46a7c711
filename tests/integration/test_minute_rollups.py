"""The per-minute roll-ups (frame_minutes), fed through the real Mosquitto and gateway, against hand sums."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from gateway.db import rollups
from services.exposure import heat
from tests.gateway_harness import Publisher, RunningGateway
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def register(gateway: RunningGateway, device: str, agent: str) -> None:
    gateway.http.put(f"/api/v1/agents/{agent}", json={"display_name": agent, "crew_id": "crew-m"}).raise_for_status()
    response = gateway.http.post("/api/v1/assignments", json={"device_id": device, "agent_id": agent,
                                                               "valid_from": "2026-01-01T00:00:00Z"})  # fmt: skip
    assert response.status_code == 201, response.text


def shift(device: str, start: datetime) -> list[dict[str, Any]]:
    """150 one-second frames over three minutes, with values whose per-minute sums are easy to do by hand."""
    frames = []
    for i in range(150):
        f: dict[str, Any] = {"v": 1, "device_id": device, "seq": i, "ts": iso(start + timedelta(seconds=i)),
                             "battery_pct": 80.0 - 0.5 * (i % 60)}  # fmt: skip
        if i < 60:  # minute 0: noise and heart rate
            f["noise"] = {"laeq_db": 90.0, "lcpeak_db": 140.0 if i == 5 else 120.0}
            f["hr_bpm"] = 100.0 if i % 2 == 0 else 120.0
        elif i < 120:  # minute 1: a vibrating tool, two lifts, heat
            if i < 90:
                f["hav"] = {"tool_id": "breaker-1", "ahv_ms2": 4.0, "trigger_s": 0.5}
            if i == 70:
                f["lift"] = {"count": 2, "load_kg": 20.0}
            if i >= 100:
                f["env"] = {"temp_c": 31.0, "rh_pct": 50.0}
        else:  # minute 2: half a minute of heart rate only
            f["hr_bpm"] = 90.0
        frames.append(f)
    return frames


def minutes(url: str, agent: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn:
        cur = conn.execute(f"SELECT {', '.join(rollups.COLUMNS)} FROM frame_minutes WHERE agent_id = %s"
                           " ORDER BY minute", (agent,))  # fmt: skip
        names = [c.name for c in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def worked(url: str, agent: str) -> int:
    return sum(m["worked_s"] for m in minutes(url, agent))


def test_minutes_hold_the_hand_computed_sums_whatever_the_order_and_redeliveries(
    gateway: RunningGateway, publisher: Publisher, database_url: str
) -> None:
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    register(gateway, "wear-m1", "agent-m1")
    register(gateway, "wear-m2", "agent-m2")
    in_order = shift("wear-m1", start)
    shuffled = shift("wear-m2", start)
    random.Random(8).shuffle(shuffled)
    for f in in_order:
        publisher.frame(f)
    for f in shuffled:
        publisher.frame(f)
    wait_until(lambda: worked(database_url, "agent-m1") == 150 and worked(database_url, "agent-m2") == 150, 15)
    first = minutes(database_url, "agent-m1")

    # Redelivered frames (a reconnecting device, QoS 1 duplicates), then a new one behind them on the same topic:
    # once that one is rolled up, the duplicates before it have been through the ingest too.
    for f in in_order[:50] + in_order[100:]:
        publisher.frame(f)
    sentinel = {"v": 1, "device_id": "wear-m1", "seq": 1000, "ts": iso(start + timedelta(minutes=5))}
    publisher.frame(sentinel)
    wait_until(lambda: worked(database_url, "agent-m1") == 151, 10)
    again = minutes(database_url, "agent-m1")
    assert again[:3] == first
    assert [m["minute"] for m in again] == [start + timedelta(minutes=k) for k in (0, 1, 2, 5)]

    m0, m1, m2 = first
    assert [m["minute"] for m in first] == [start, start + timedelta(minutes=1), start + timedelta(minutes=2)]
    assert (m0["worked_s"], m1["worked_s"], m2["worked_s"]) == (60, 60, 30)
    # ISO 9612: 60 s at 90 dB(A) → Σ t·10^(0.1·L) = 60·10^9; one LCpeak ≥ 135 dB(C).
    assert m0["noise_s"] == 60 and m0["noise_sum_t_10pow"] == pytest.approx(60 * 10**9.0, rel=1e-6)
    assert (m0["lcpeak_max_db"], m0["peaks_over_135"]) == (140.0, 1)
    assert (m0["hr_n"], m0["hr_sum_bpm"], m0["hr_max_bpm"]) == (60, 30 * 100.0 + 30 * 120.0, 120.0)
    assert m1["noise_s"] == 0 and m1["lcpeak_max_db"] is None and m1["hr_n"] == 0 and m1["hr_max_bpm"] is None
    # ISO 5349-1: 30 frames of 0.5 s trigger at 4 m/s² → 15 s and Σ a²·T = 16·15 = 240 m²/s³.
    assert (m1["hav_s"], m1["hav_sum_a2t"]) == (15.0, 240.0)
    assert (m1["lifts"], m1["tonnage_kg"]) == (2, 40.0)
    assert m1["temp_ge_30_s"] == 20 and m1["temp_le_5_s"] == 0
    wbgt = heat.wbgt_c(31.0, 50.0)
    assert wbgt is not None and m1["wbgt_max_c"] == pytest.approx(wbgt[0], abs=1e-4)
    assert m0["wbgt_max_c"] is None
    assert (m2["hr_n"], m2["hr_sum_bpm"], m2["noise_s"], m2["hav_s"]) == (30, 2700.0, 0, 0.0)
    assert m0["battery_min_pct"] == 80.0 - 0.5 * 59 and m2["battery_min_pct"] == 80.0 - 0.5 * 29

    # The same frames in another order give the same rows (sums up to rounding).
    other = minutes(database_url, "agent-m2")
    assert len(other) == 3
    for mine, theirs in zip(first, other, strict=True):
        for column in rollups.COLUMNS[1:]:
            assert theirs[column] == pytest.approx(mine[column], rel=1e-12), column


def test_frames_of_an_unworn_device_are_not_rolled_up(
    gateway: RunningGateway, publisher: Publisher, database_url: str
) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    register(gateway, "wear-m3", "agent-m3")
    for f in shift("wear-loose", start)[:10] + shift("wear-m3", start)[:10]:
        publisher.frame(f)
    wait_until(lambda: worked(database_url, "agent-m3") == 10, 10)
    with psycopg.connect(database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM frames WHERE device_id = 'wear-loose'").fetchone()
        total = conn.execute("SELECT sum(worked_s) FROM frame_minutes").fetchone()
    assert stored == (10,) and total == (10,)


def test_frames_joining_an_agent_by_a_late_assignment_reach_the_minutes_as_if_worn_all_along(
    gateway: RunningGateway, publisher: Publisher, database_url: str
) -> None:
    start = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    register(gateway, "wear-m4", "agent-m4")
    for f in shift("wear-m4", start):
        publisher.frame(f)
    wait_until(lambda: worked(database_url, "agent-m4") == 150, 15)
    for f in shift("wear-m5", start):  # nobody wears it yet: stored, not rolled up
        publisher.frame(f)
    with psycopg.connect(database_url) as conn:
        wait_until(lambda: conn.execute("SELECT count(*) FROM frames WHERE device_id = 'wear-m5'").fetchone() == (150,),
                   15)  # fmt: skip
    gateway.http.put("/api/v1/agents/agent-m5", json={"display_name": "agent-m5", "crew_id": "crew-m"}
                     ).raise_for_status()  # fmt: skip
    shift_start = iso(start - timedelta(minutes=1))
    response = gateway.http.post("/api/v1/assignments", json={"device_id": "wear-m5", "agent_id": "agent-m5",
                                                               "valid_from": shift_start})  # fmt: skip
    assert response.status_code == 201, response.text
    late = minutes(database_url, "agent-m5")
    assert len(late) == 3
    for worn, joined in zip(minutes(database_url, "agent-m4"), late, strict=True):
        for column in rollups.COLUMNS[1:]:
            assert joined[column] == pytest.approx(worn[column], rel=1e-6), column
