"""The drift simulator: reproducible, weekends off, and the injected drifts really are in the data."""

from __future__ import annotations

import numpy as np

from services.signals.model import SubjectKind
from simulations.drifts import AGENT_DRIFTS, GROUP_DRIFTS, simulate


def test_same_seed_same_population_other_seed_other_population() -> None:
    a, b = simulate(agents=40, days=70, seed=5), simulate(agents=40, days=70, seed=5)
    assert a.agent_days == b.agent_days and a.robot_days == b.robot_days and a.drifts == b.drifts
    assert simulate(agents=40, days=70, seed=6).agent_days != a.agent_days


def test_weekends_are_off_and_every_agent_works() -> None:
    sim = simulate(agents=40, days=70, seed=1, drifts=False)
    assert all(d.day.weekday() < 5 for d in sim.agent_days)
    assert len({d.agent_id for d in sim.agent_days}) == 40
    assert sim.drifts == []


def test_every_kind_of_drift_is_injected_after_the_baseline() -> None:
    sim = simulate(agents=100, days=120, seed=2, drifts_per_kind=1)
    assert {d.kind for d in sim.drifts} == set(AGENT_DRIFTS) | set(GROUP_DRIFTS)
    assert all((d.start - sim.start).days >= 56 for d in sim.drifts)


def test_an_injected_recovery_drift_lowers_that_agents_recovery() -> None:
    sim = simulate(agents=100, days=150, seed=3, drifts_per_kind=1)
    drift = next(d for d in sim.drifts if d.kind == "hr_recovery_slowing")
    mine = [d for d in sim.agent_days if d.agent_id == drift.subject_id and d.hr_recovery_bpm is not None]
    before = np.median([d.hr_recovery_bpm for d in mine if d.day < drift.start])
    after = np.median([d.hr_recovery_bpm for d in mine if (d.day - drift.start).days >= 7])
    assert after < before - 2.0


def test_an_injected_site_doubles_its_robot_near_misses() -> None:
    sim = simulate(agents=100, days=150, seed=4, drifts_per_kind=1)
    drift = next(d for d in sim.drifts if d.kind == "robot_near_misses")
    assert drift.subject_kind == SubjectKind.SITE
    days = [r for r in sim.robot_days if r.site_id == drift.subject_id]
    rate_before = sum(r.protective_stops + r.slowdowns for r in days if r.day < drift.start) / sum(
        r.work_h for r in days if r.day < drift.start)
    rate_after = sum(r.protective_stops + r.slowdowns for r in days if r.day >= drift.start) / sum(
        r.work_h for r in days if r.day >= drift.start)
    assert 1.6 < rate_after / rate_before < 2.4


def test_a_hot_round_has_recurring_heat_strain() -> None:
    sim = simulate(agents=100, days=150, seed=5, drifts_per_kind=1)
    drift = next(d for d in sim.drifts if d.kind == "heat_strain_recurring")
    after = [e for e in sim.heat_episodes if e.crew_id == drift.subject_id and e.day >= drift.start]
    days_after = len({d.day for d in sim.agent_days if d.day >= drift.start})
    assert len(after) / days_after > 2.0 and {e.hour for e in after} <= {14, 15}
