"""The batch (numpy) ledger increments equal the per-frame definition they replaced, frame by frame.

``reference_frame_delta`` / ``reference_day_deltas`` / ``reference_hr_minute_sums`` are the straightforward
per-frame implementations the ingest used before (copied unchanged): one frame at a time through the
domain's ``add``/``merge``, easy to check against the standards by reading. The vectorised ones must agree on
random batches of several agents, across local midnight and both 2026 DST changes in Europe/Paris, with and
without each section, missing values and late frames.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.db.ledger_store import _DAY_COLUMNS, day_row, day_rows, hr_minute_sums
from services import ledger
from services.exposure import heat, night, noise
from services.exposure.handling import HandlingDay, lift_index
from services.exposure.heat import HeatDay, Task
from services.exposure.noise import NoiseDose
from services.exposure.vibration import HavDose, WbvDose
from services.ledger import DEFAULT_PROFILE, DayDelta, ExposureProfile
from services.ledger_batch import FRAME_S
from services.model import Environment, Frame, HandArmVibration, Lift, LiftGeometry, Noise, Received, WholeBodyVibration

PARIS = ZoneInfo("Europe/Paris")
REL = 1e-9


def reference_frame_delta(received: Received, profile: ExposureProfile, tz: tzinfo) -> DayDelta | None:
    if received.agent_id is None:
        return None
    f = received.frame
    delta = DayDelta(
        agent_id=received.agent_id, day=night.local_day(f.ts, tz), worked_s=FRAME_S, first_ts=f.ts,
        last_ts=f.ts, night_s=night.night_seconds(f.ts, FRAME_S, tz), device_ids=frozenset({f.device_id}),
    )  # fmt: skip
    if f.noise is not None:
        peak = f.noise.lcpeak_db
        at_ear = peak is not None and noise.at_ear_db(peak, profile.hearing_attenuation_db) >= noise.PEAK_COUNTED_DBC
        delta = replace(delta, noise=NoiseDose().add(f.noise.laeq_db, FRAME_S, peak), peaks_over_135_at_ear=int(at_ear))
    if f.hav is not None and f.hav.trigger_s > 0:
        tools = frozenset({f.hav.tool_id}) if f.hav.tool_id else frozenset()
        delta = replace(delta, hav=HavDose().add(f.hav.ahv_ms2, f.hav.trigger_s), tool_ids=tools)
    if f.wbv is not None and f.wbv.duration_s > 0:
        delta = replace(delta, wbv=WbvDose().add(f.wbv.aw_ms2, f.wbv.duration_s))
    if f.env is not None:
        wbgt = heat.wbgt_c(f.env.temp_c, f.env.rh_pct, f.env.globe_temp_c)
        delta = replace(delta, heat=HeatDay().add(f.env.temp_c, FRAME_S, wbgt=wbgt, wbgt_ref_c=profile.wbgt_ref_c))
    if f.lift is not None and f.lift.count > 0:
        delta = replace(delta, handling=HandlingDay().add(f.lift.count, f.lift.load_kg))
        if f.lift.geometry is not None:
            delta = replace(delta, lifting_index_max=lift_index(f.lift.load_kg, f.lift.geometry))
    return delta


def reference_day_deltas(
    frames: Sequence[Received], profiles: Mapping[str, ExposureProfile], tz: tzinfo
) -> list[DayDelta]:
    totals: dict[tuple[str, date], DayDelta] = {}
    for received in frames:
        profile = profiles.get(received.agent_id or "", DEFAULT_PROFILE)
        delta = reference_frame_delta(received, profile, tz)
        if delta is None:
            continue
        key = (delta.agent_id, delta.day)
        totals[key] = totals[key].merge(delta) if key in totals else delta
    return list(totals.values())


def reference_hr_minute_sums(frames: Sequence[Received]) -> dict[tuple[str, datetime], tuple[float, int]]:
    sums: dict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0.0, 0])
    for r in frames:
        if r.agent_id is not None and r.frame.hr_bpm is not None:
            acc = sums[(r.agent_id, r.frame.ts.replace(second=0, microsecond=0))]
            acc[0] += r.frame.hr_bpm
            acc[1] += 1
    return {key: (total, int(n)) for key, (total, n) in sums.items()}


# Local midnights in Paris: an ordinary summer night, the spring-forward night (00:00-05:00 lasts 4 h) and the
# fall-back night (6 h), and 05:00 local (the end of the D4163-2 night window).
ANCHORS = (
    datetime(2026, 7, 1, 22, 0, tzinfo=UTC),
    datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 02:00 CET -> 03:00 CEST
    datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # 03:00 CEST -> 02:00 CET
    datetime(2026, 7, 2, 3, 0, tzinfo=UTC),
)


def maybe(rnd: random.Random, value: object, p: float = 0.5) -> object:
    return value if rnd.random() < p else None


def random_frame(rnd: random.Random, device: str, seq: int, ts: datetime) -> Frame:
    geometry = LiftGeometry(
        h_cm=rnd.uniform(20, 70), v_cm=rnd.uniform(0, 180), d_cm=rnd.uniform(10, 180), a_deg=rnd.uniform(0, 140),
        coupling=rnd.choice(["good", "fair", "poor"]), freq_per_min=rnd.uniform(0.1, 16), duration_h=rnd.uniform(0, 8),
    )  # fmt: skip
    return Frame(
        device, seq, ts,
        hr_bpm=maybe(rnd, rnd.uniform(50, 190)),  # type: ignore[arg-type]
        noise=maybe(rnd, Noise(rnd.uniform(30, 130), maybe(rnd, rnd.uniform(100, 150), 0.7))),  # type: ignore[arg-type]
        env=maybe(rnd, Environment(rnd.uniform(-10, 45), maybe(rnd, rnd.uniform(0, 100), 0.8),  # type: ignore[arg-type]
                                   maybe(rnd, rnd.uniform(0, 60)))),  # type: ignore[arg-type]
        hav=maybe(rnd, HandArmVibration(rnd.uniform(0, 15), rnd.choice([0.0, 0.3, 1.0, rnd.random()]),  # type: ignore[arg-type]
                                        rnd.choice([None, "", "trimmer-1", "saw-2"]))),
        wbv=maybe(rnd, WholeBodyVibration((rnd.uniform(0, 2), rnd.uniform(0, 2), rnd.uniform(0, 2)),  # type: ignore[arg-type]
                                          rnd.choice([0.0, 1.0, rnd.random()]))),
        lift=maybe(rnd, Lift(rnd.choice([0, 1, 1, 2, 3]), rnd.uniform(0, 40), maybe(rnd, geometry, 0.3)), 0.3),  # type: ignore[arg-type]
    )  # fmt: skip


def random_batch(seed: int, n: int = 300) -> tuple[list[Received], dict[str, ExposureProfile]]:
    rnd = random.Random(seed)
    agents = [f"agent-{i}" for i in range(rnd.randint(1, 6))]
    anchor = rnd.choice(ANCHORS)
    batch = []
    for seq in range(n):
        late = rnd.random() < 0.1
        offset_s = rnd.uniform(-3 * 86_400, 0) if late else rnd.uniform(-7_200, 7_200)
        ts = anchor + timedelta(seconds=round(offset_s, rnd.choice([0, 0, 3, 6])))
        agent = rnd.choice([*agents, None])
        device = f"wear-{agents.index(agent) if agent else 9}-{rnd.randint(0, 1)}"
        batch.append(Received(random_frame(rnd, device, seq, ts), anchor, agent, late))
    profiles = {
        a: ExposureProfile(rnd.choice([0.0, 5.0, 20.0, 35.0]), rnd.choice(list(Task)), rnd.random() < 0.5)
        for a in agents if rnd.random() < 0.7
    }  # fmt: skip
    return batch, profiles


def assert_same(got: object, want: object, where: str) -> None:
    if is_dataclass(want) and not isinstance(want, type):
        assert type(got) is type(want), where
        for f in fields(want):
            assert_same(getattr(got, f.name), getattr(want, f.name), f"{where}.{f.name}")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, float), f"{where}: {got!r} is not a float"
        assert math.isclose(got, want, rel_tol=REL) or got == want, f"{where}: {got!r} != {want!r}"
    else:
        assert type(got) is type(want) and got == want, f"{where}: {got!r} != {want!r}"


def assert_same_deltas(got: list[DayDelta], want: list[DayDelta]) -> None:
    assert [(d.agent_id, d.day) for d in got] == [(d.agent_id, d.day) for d in want]
    for g, w in zip(got, want, strict=True):
        assert_same(g, w, f"{w.agent_id} {w.day}")


@pytest.mark.parametrize("seed", range(40))
def test_batch_increments_equal_the_per_frame_definition(seed):
    frames, profiles = random_batch(seed)
    assert_same_deltas(ledger.day_deltas(frames, profiles, PARIS), reference_day_deltas(frames, profiles, PARIS))


def test_the_random_batches_cover_midnight_both_dst_nights_and_every_section():
    batches = [random_batch(seed)[0] for seed in range(40)]
    deltas = [d for frames in batches for d in reference_day_deltas(frames, {}, PARIS)]
    days = {d.day for d in deltas}
    assert {date(2026, 3, 29), date(2026, 10, 25), date(2026, 7, 2)} <= days
    assert any(0 < d.night_s < d.worked_s for d in deltas)
    assert any(d.heat.seconds_wbgt_measured and d.heat.seconds_wbgt_estimated for d in deltas)
    assert any(d.lifting_index_max is not None for d in deltas) and any(d.tool_ids for d in deltas)
    assert any(d.peaks_over_135_at_ear for d in deltas) and any(d.wbv.seconds for d in deltas)


def test_a_frame_straddling_local_midnight_counts_its_night_overlap_for_its_start_day():
    ts = datetime(2026, 3, 28, 22, 59, 59, 250_000, tzinfo=UTC)  # 23:59:59.25 CET, the spring-forward night
    frames = [Received(Frame("wear-1", 1, ts), ts, "agent-1")]
    (delta,) = ledger.day_deltas(frames, {}, PARIS)
    assert delta.day == date(2026, 3, 28) and math.isclose(delta.night_s, 0.25, rel_tol=REL)
    assert_same_deltas([delta], reference_day_deltas(frames, {}, PARIS))


def test_unassigned_frames_and_empty_batches_add_nothing():
    ts = ANCHORS[0]
    assert ledger.day_deltas([], {}, PARIS) == []
    assert ledger.day_deltas([Received(Frame("wear-1", 1, ts, noise=Noise(90.0)), ts, None)], {}, PARIS) == []


def test_a_frame_the_domain_would_refuse_is_refused_by_the_batch_too():
    ts = ANCHORS[0]
    for bad in (Frame("w", 1, ts, noise=Noise(math.nan)), Frame("w", 1, ts, hav=HandArmVibration(-1.0, 1.0)),
                Frame("w", 1, ts, lift=Lift(1, -2.0)), Frame("w", 1, ts.replace(tzinfo=None))):  # fmt: skip
        frames = [Received(bad, ts, "agent-1")]
        with pytest.raises(ValueError):
            reference_day_deltas(frames, {}, PARIS)
        with pytest.raises(ValueError):
            ledger.day_deltas(frames, {}, PARIS)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_any_batch_size_gives_the_per_frame_increments(seed, n):
    frames, profiles = random_batch(seed, n)
    assert_same_deltas(ledger.day_deltas(frames, profiles, PARIS), reference_day_deltas(frames, profiles, PARIS))


@pytest.mark.parametrize("seed", range(10))
def test_heart_rate_minutes_equal_the_per_frame_sums(seed):
    frames, _ = random_batch(seed)
    got, want = hr_minute_sums(frames), reference_hr_minute_sums(frames)
    assert got.keys() == want.keys()
    for key, (total, n) in want.items():
        assert math.isclose(got[key][0], total, rel_tol=REL) and got[key][1] == n
        assert isinstance(got[key][1], int) and got[key] is not None


def assert_same_rows(got: list[tuple[object, ...]], want: list[tuple[object, ...]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w)
        for i, (a, b) in enumerate(zip(g, w, strict=True)):
            assert_same(a, b, f"{w[0]} {w[1]} column {i}")


@pytest.mark.parametrize("seed", range(10))
def test_the_copy_rows_of_the_batch_columns_are_those_of_the_per_frame_deltas(seed):
    frames, profiles = random_batch(seed)
    want = reference_day_deltas(frames, profiles, PARIS)
    hr_days = {(d.agent_id, d.day) for d in want[::2]}
    rows = day_rows(ledger.day_table(frames, profiles, PARIS), {}, hr_days)
    assert_same_rows(rows, [day_row(d, hr_days) for d in want])


def test_load_a_robot_carried_joins_the_agents_row_for_the_day_rather_than_adding_a_second_one():
    ts = ANCHORS[0] - timedelta(hours=10)
    frames = [Received(Frame("wear-1", 1, ts, lift=Lift(1, 12.0)), ts, "agent-1")]
    batch = ledger.day_table(frames, {}, PARIS)
    rows = day_rows(batch, {("agent-1", ts.date()): 30.0, ("agent-2", ts.date()): 5.0}, set())
    assert [(r[0], r[1]) for r in rows] == [("agent-1", ts.date()), ("agent-2", ts.date())]
    avoided_kg, tonnage_kg = _DAY_COLUMNS.index("avoided_kg"), _DAY_COLUMNS.index("tonnage_kg")
    assert (rows[0][avoided_kg], rows[0][tonnage_kg]) == (30.0, 12.0)
    only_avoided = day_row(DayDelta("agent-2", ts.date(), handling=HandlingDay(avoided_kg=5.0)), set())
    assert rows[1] == only_avoided
    assert day_rows(None, {}, set()) == []
