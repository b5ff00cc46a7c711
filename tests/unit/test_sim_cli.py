"""``vigie simulate`` with drifts and simulated weeks, and how ``vigie up`` sets the demo's weak signals up."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from gateway.stack import UpOptions, _signals_text, demo_drifts, simulator_namespace
from simulations import cli, scenario
from simulations.crew import CrewSimulator
from simulations.publisher import schedule_days
from simulations.robots import RobotSimulator
from simulations.roster import make_roster
from simulations.timebase import Shifts


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_a_malformed_or_unknown_drift_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        _args("--drift", "hr_recovery_slowing:3")
    assert exited.value.code == 2 and "KIND:SUBJECT@DAY" in capsys.readouterr().err
    unknown = _args("--agents", "8", "--duration", "2", "--dry-run", "--drift", "resting_hr_drift:agent-0099@0")
    assert cli.run(unknown) == 2
    assert "agent-0099" in capsys.readouterr().err


def test_days_are_the_latest_worked_shifts_within_the_gateways_window():
    now = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)  # a Wednesday, 14:00 in Paris: today's 12:30 shift still on
    sc = scenario.build(_args("--agents", "8", "--days", "3", "--drift", "working_hr_drift:2@1:6"), now)
    assert [d.date.isoformat() for d in sc.run_days] == ["2026-06-12", "2026-06-15", "2026-06-16"]
    assert sc.day0 == sc.run_days[0].date and sc.drifts.items[0].start.isoformat() == "2026-06-13"
    with pytest.raises(ValueError, match="refuses frames that old"):
        scenario.build(_args("--days", "25"), now)
    history = scenario.build(_args("--history-days", "14"), now, now).history_days
    assert len(history) == 10 and history[-1].date.isoformat() == "2026-06-16" and history[0].index == -14


def test_simulated_days_follow_each_other_without_waiting_through_the_nights():
    roster = make_roster(2, 1, 1)
    shifts = Shifts(hours=3 / 3600)
    days = shifts.days(date(2026, 6, 15), 0, 1)
    batches = list(schedule_days(((CrewSimulator(roster, seed=1, start=d.start, day_index=d.index),
                                   RobotSimulator(roster, seed=1, start=d.start, day_index=d.index)) for d in days),
                                 shifts.duration_s))  # fmt: skip
    frames = [(b.at_s, orjson.loads(m.payload)["ts"]) for b in batches if b.frames for m in b.messages[:1]]
    assert [at for at, _ in frames] == [1, 2, 3, 4, 5, 6]
    assert frames[2][1] == "2026-06-15T10:30:02.000Z" and frames[3][1] == "2026-06-16T10:30:00.000Z"


def test_a_dry_run_with_history_prints_the_injected_drifts_and_what_is_flagged(capsys):
    assert cli.run(_args("--agents", "2", "--robots", "0", "--history-days", "3", "--shift-h", "0.02", "--dry-run",
                         "--drift", "resting_hr_drift:1@-2")) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "days of history" in err and "injected: resting_hr_drift on agent agent-0002" in err


def test_vigie_up_passes_the_demo_drifts_that_fit_its_roster_and_says_where_to_look(tmp_path: Path):
    assert demo_drifts(24, 3) == ["hr_recovery_slowing:agent-0005@-16:8", "heat_strain_recurring:crew-02@-16",
                                  "robot_near_misses:robot-01@-16"]  # fmt: skip
    assert demo_drifts(4, 0) == []  # no agent-0005, no crew-02, no robot
    argv = ["--history-days", "60", *(a for d in demo_drifts(24, 3) for a in ("--drift", d))]
    options = UpOptions(state_dir=tmp_path, simulator_args=argv)
    assert simulator_namespace(argv).history_days == 60
    text = _signals_text({"http_url": "http://127.0.0.1:8000"}, options)
    assert "http://127.0.0.1:8000/#/signals" in text and "preventeur" in text and "superviseur" in text
    assert text.count("injected:") == 3
    assert _signals_text({"http_url": "x"}, UpOptions(state_dir=tmp_path, simulator_args=["--history-days", "0"])) == ""


def test_a_continuous_run_has_its_start_day_as_day_0():
    start = datetime(2026, 6, 15, 22, 30, tzinfo=UTC)  # already the 16th in Paris
    sc = scenario.build(_args("--drift", "resting_hr_drift:0@-1"), start + timedelta(hours=1), start)
    assert sc.day0.isoformat() == "2026-06-16" and not sc.run_days
    assert sc.drifts.items[0].start.isoformat() == "2026-06-15"
