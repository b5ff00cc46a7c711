"""The robots' near misses per day (``robot_days``, gateway/db/robot_days.py) in a real TimescaleDB.

The roll-up must count what the signals used to count from raw robot states (the former query is kept here as
the reference: with states a minute apart, the hysteresis of migration 0013 changes nothing), count a state
flickering at a zone's edge as one near miss and carry an unfinished clear spell from one batch to the next,
survive the raw retention, count on incrementally, recount a day a late state changed, be
marked by the ingest on the site's local day, and judge a robot at its crew's separation distance.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.types.json import Jsonb

from gateway.db import migrations, retention, robot_days, signals_queries
from gateway.db.ingest_store import IngestStore, RobotReceived
from gateway.db.rule_settings import RuleSettings
from gateway.db.signals_queries import Scope
from services.detection import RuleConfig
from services.model import RobotState
from services.retention import plan_retention
from services.signals.robot_onsets import slowdown_zone_m

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
CREW = "crew-robot-days"
FIRST = date(2026, 5, 1)
DAYS = [FIRST + timedelta(days=i) for i in range(45)]
AFTER = DAYS[-1] + timedelta(days=1)  # the last night shift ends then
DAY_ROBOT, NIGHT_ROBOT = "rd-follower", "rd-mower"  # 07:00–15:00, and 22:00–02:00 across midnight
# The slow-down zone per kind under the default rules (the reference query's parameters), and those rules for
# every crew: what the housekeeper's ``RuleSettings`` resolves when no site or crew overrides them.
DISTANCES_M = {f"{kind}_m": slowdown_zone_m(RuleConfig().separation_m(kind)) for kind in ("follower", "mower", "robot")}


def default_rules(crew_id: str | None) -> RuleConfig:
    return RuleConfig()


# The signals' former query over raw states (gateway/db/signals_queries.py before migration 0012): the reference.
REFERENCE = """
WITH s AS (
    SELECT rs.robot_id, r.kind AS robot_kind, r.crew_id, c.site_id, rs.ts, (rs.ts AT TIME ZONE %(tz)s)::date AS day,
           coalesce(rs.protective_stop, false) AND rs.nearest_human_m IS NOT NULL AS stop_for_person,
           NOT coalesce(rs.protective_stop, false) AND rs.nearest_human_m IS NOT NULL
             AND rs.nearest_human_m < CASE r.kind WHEN 'follower' THEN %(follower_m)s WHEN 'mower' THEN %(mower_m)s
                                                  ELSE %(robot_m)s END AS slow_for_person
    FROM robot_states rs JOIN robots r USING (robot_id) JOIN crews c ON c.crew_id = r.crew_id
    WHERE rs.ts >= %(t0)s AND rs.ts < %(t1)s
      AND (%(site)s::text IS NULL OR c.site_id = %(site)s) AND (%(crew)s::text IS NULL OR c.crew_id = %(crew)s)
), e AS (
    SELECT s.*, lag(stop_for_person) OVER w AS prev_stop, lag(slow_for_person) OVER w AS prev_slow
    FROM s WINDOW w AS (PARTITION BY robot_id ORDER BY ts)
)
SELECT robot_id, robot_kind, crew_id, site_id, day,
       extract(epoch FROM max(ts) - min(ts)) / 3600.0 AS work_h,
       count(*) FILTER (WHERE stop_for_person AND NOT coalesce(prev_stop, false))::int AS protective_stops,
       count(*) FILTER (WHERE slow_for_person AND NOT coalesce(prev_slow, false))::int AS slowdowns
FROM e GROUP BY robot_id, robot_kind, crew_id, site_id, day ORDER BY robot_id, day
"""

Row = tuple[datetime, str, int, datetime, str, bool, float | None]


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS).astimezone(UTC)


def _states(rng: random.Random, robot: str, kind: str, start: datetime, minutes: int, seq0: int) -> list[Row]:
    """One state a minute; persistent runs of clear, stopped for a person, slowed, stopped for nobody, far."""
    zone_m = DISTANCES_M[f"{kind}_m"]
    choices: list[tuple[bool, float | None]] = [(False, None), (True, 0.4), (False, 0.5 * zone_m), (True, None),
                                                (False, 3 * zone_m)]  # fmt: skip
    current = choices[0]
    rows: list[Row] = []
    for m in range(minutes):
        if m > 0 and rng.random() < 0.15:
            current = rng.choice(choices)
        ts = start + timedelta(minutes=m)
        rows.append((ts, robot, seq0 + m, ts, kind, *(choices[0] if m == 0 else current)))
    return rows


def _seed(conn: psycopg.Connection[Any]) -> list[Row]:
    rng = random.Random(12)
    conn.execute("INSERT INTO crews (crew_id, site_id, name) VALUES (%s, 'paris', 'Robots')", (CREW,))
    for robot, kind in ((DAY_ROBOT, "follower"), (NIGHT_ROBOT, "mower")):
        conn.execute("INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, %s, %s)", (robot, kind, CREW))
    rows: list[Row] = []
    for i, day in enumerate(DAYS):
        rows += _states(rng, DAY_ROBOT, "follower", _local(day, 7), 8 * 60, i * 10_000)
        night = _states(rng, NIGHT_ROBOT, "mower", _local(day, 22), 4 * 60, i * 10_000)
        if i % 5 == 0:  # a stop for a person across midnight: one near miss, on the night it began
            night = [(*r[:5], True, 0.4) if 118 <= k <= 122 else r for k, r in enumerate(night)]
        rows += night
    _copy(conn, rows)
    return rows


def _copy(conn: psycopg.Connection[Any], rows: list[Row]) -> None:
    columns = "ts, robot_id, seq, received_at, kind, protective_stop, nearest_human_m"
    with conn.cursor() as cur, cur.copy(f"COPY robot_states ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _reference(conn: psycopg.Connection[Any]) -> dict[tuple[str, date], tuple[float, int, int]]:
    t0, t1 = signals_queries.utc_bounds(DAYS[0], AFTER, PARIS)
    rows = conn.execute(REFERENCE, {"tz": PARIS.key, "t0": t0, "t1": t1, "site": None, "crew": CREW,
                                    **DISTANCES_M}).fetchall()  # fmt: skip
    return {(r[0], r[4]): (round(float(r[5]), 6), r[6], r[7]) for r in rows}


def _rolled_up(conn: psycopg.Connection[Any]) -> dict[tuple[str, date], tuple[float, int, int]]:
    rows = conn.execute("SELECT robot_id, day, extract(epoch FROM last_ts - first_ts) / 3600.0, protective_stops,"
                        " slowdowns FROM robot_days WHERE NOT dirty").fetchall()  # fmt: skip
    return {(r[0], r[1]): (round(float(r[2]), 6), r[3], r[4]) for r in rows}


def _inputs(database_url: str) -> dict[tuple[str, date], tuple[float, int, int]]:
    async def read() -> signals_queries.SignalInputs:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return await signals_queries.inputs(conn, DAYS[0], AFTER, PARIS, Scope(crew_id=CREW))

    return {(d.robot_id, d.day): (round(d.work_h, 6), d.protective_stops, d.slowdowns)
            for d in asyncio.run(read()).robot_days}  # fmt: skip


def _row(conn: psycopg.Connection[Any], robot: str, day: date) -> tuple[Any, ...] | None:
    return conn.execute("SELECT first_ts, last_ts, protective_stops, slowdowns, last_stop, last_slow, dirty"
                        " FROM robot_days WHERE robot_id = %s AND day = %s", (robot, day)).fetchone()  # fmt: skip


def test_robot_days_count_what_the_raw_states_did_and_outlive_the_raw_retention(database_url: str):
    with psycopg.connect(database_url) as conn:
        _seed(conn)
        reference = _reference(conn)
        assert robot_days.mark_stored(conn, PARIS, *signals_queries.utc_bounds(DAYS[0], AFTER, PARIS)) == 91
        conn.commit()
        assert robot_days.refresh_all(conn, PARIS, default_rules, limit=20) == 91
        assert robot_days.refresh(conn, PARIS, default_rules) == 0  # nothing left marked
        assert _rolled_up(conn) == reference
        assert sum(stops for _, stops, _ in reference.values()) > 100 and len(reference) == 91

        after_shifts = _local(DAYS[-1] + timedelta(days=2), 12)
        plan = plan_retention(after_shifts, raw_days=30, location_days=30, dead_letter_days=30, minute_days=400,
                              site_tz=PARIS)  # fmt: skip
        report = retention.run_retention(conn, plan)
        assert report.chunks_dropped["robot_states"] >= 10 and report.rows["robot_days_deleted"] == 0
        oldest = conn.execute("SELECT min(ts) FROM robot_states").fetchone()
        assert oldest is not None and oldest[0] > _local(DAYS[10], 0)  # the first weeks of raw states are gone
    inputs = _inputs(database_url)
    assert len([key for key in inputs if key[0] == DAY_ROBOT]) == 45
    assert inputs == reference

    with psycopg.connect(database_url) as conn:  # a year and more later, the roll-up goes with the minute tier
        plan = plan_retention(after_shifts + timedelta(days=420), raw_days=30, location_days=30, dead_letter_days=30,
                              minute_days=400, site_tz=PARIS)  # fmt: skip
        assert retention.run_retention(conn, plan).rows["robot_days_deleted"] == 91
        assert conn.execute("SELECT count(*) FROM robot_days").fetchone() == (0,)


def test_counting_on_over_two_batches_equals_recounting_the_whole_day(database_url: str):
    day = DAYS[3]
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO crews (crew_id, site_id, name) VALUES (%s, 'paris', 'Robots')", (CREW,))
        twins = ("rd-twin-a", "rd-twin-b")
        for robot in twins:
            conn.execute("INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, 'follower', %s)", (robot, CREW))
        states = _states(random.Random(5), "", "follower", _local(day, 7), 8 * 60, 0)
        split = next(k for k in range(200, len(states)) if states[k - 1][5] and states[k][5] and states[k][6])
        for robot in twins:  # the first batch ends inside a stop for a person
            _copy(conn, [(r[0], robot, *r[2:]) for r in states[:split]])
        t0, t1 = signals_queries.utc_bounds(day, day, PARIS)
        robot_days.mark_stored(conn, PARIS, t0, t1)
        conn.commit()
        assert robot_days.refresh_all(conn, PARIS, default_rules) == 2
        # Twin b's first batch is erased: only counting on from the stored flags can still give the whole day.
        conn.execute("DELETE FROM robot_states WHERE robot_id = 'rd-twin-b'")
        for robot in twins:
            _copy(conn, [(r[0], robot, *r[2:]) for r in states[split:]])
        robot_days.mark_stored(conn, PARIS, states[split][0], t1)
        conn.commit()
        assert robot_days.refresh_all(conn, PARIS, default_rules) == 2
        counted_on = _row(conn, "rd-twin-a", day)
        assert _row(conn, "rd-twin-b", day) == counted_on

        conn.execute("UPDATE robot_days SET dirty = true, computed_at = NULL WHERE robot_id = 'rd-twin-a'")
        conn.commit()
        assert robot_days.refresh_all(conn, PARIS, default_rules) == 1
        assert _row(conn, "rd-twin-a", day) == counted_on
        assert counted_on is not None and counted_on[2] >= 3 and counted_on[6] is False
        assert counted_on[:2] == (states[0][0], states[-1][0])


def test_a_flicker_at_the_zones_edge_is_one_near_miss_even_when_a_batch_ends_in_a_short_clear_spell(
    database_url: str,
):
    day, twins = DAYS[4], ("rd-flicker-a", "rd-flicker-b")
    zone_m = DISTANCES_M["follower_m"]
    start = _local(day, 9)
    # 2 Hz: clear 5 s, a person at the slow-down zone's edge for 20 s (the reading jitters across it), clear for
    # 2.5 s, the robot silent for a second, the person back for 5 s, clear. Two slow-downs: the 20 s of flicker
    # are one, and the person came back 3 s after leaving. The first batch ends inside that clear spell, so only the
    # stored "clear since" can tell the second batch that its first state begins a new near miss.
    seconds_nearest = [(k / 2, 3 * zone_m) for k in range(10)]
    seconds_nearest += [(5 + k / 2, zone_m * (0.95 if k % 2 else 1.05)) for k in range(40)]
    seconds_nearest += [(25 + k / 2, 3 * zone_m) for k in range(5)]
    split = len(seconds_nearest)
    seconds_nearest += [(28 + k / 2, 0.5 * zone_m) for k in range(10)] + [(33 + k / 2, 3 * zone_m) for k in range(10)]
    states = [(start + timedelta(seconds=t), "", k, start, "follower", False, m)
              for k, (t, m) in enumerate(seconds_nearest)]  # fmt: skip
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO crews (crew_id, site_id, name) VALUES (%s, 'paris', 'Robots')", (CREW,))
        for robot in twins:
            conn.execute("INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, 'follower', %s)", (robot, CREW))
            _copy(conn, [(r[0], robot, *r[2:]) for r in states[:split]])
        t0, t1 = signals_queries.utc_bounds(day, day, PARIS)
        robot_days.mark_stored(conn, PARIS, t0, t1)
        conn.commit()
        robot_days.refresh_all(conn, PARIS, default_rules)
        first = _row(conn, "rd-flicker-b", day)
        assert first is not None and first[2:6] == (0, 1, False, True)  # a slow-down under way, the person away
        conn.execute("DELETE FROM robot_states WHERE robot_id = 'rd-flicker-b'")  # only the stored episode is left
        for robot in twins:
            _copy(conn, [(r[0], robot, *r[2:]) for r in states[split:]])
        robot_days.mark_stored(conn, PARIS, states[split][0], t1)
        conn.commit()
        robot_days.refresh_all(conn, PARIS, default_rules)
        assert _row(conn, "rd-flicker-a", day) == _row(conn, "rd-flicker-b", day)
        assert _row(conn, "rd-flicker-a", day)[2:4] == (0, 2)  # type: ignore[index]
        conn.execute("UPDATE robot_days SET dirty = true, computed_at = NULL WHERE robot_id = 'rd-flicker-a'")
        conn.commit()
        robot_days.refresh_all(conn, PARIS, default_rules)
        assert _row(conn, "rd-flicker-a", day)[2:4] == (0, 2)  # type: ignore[index]


def _received(robot: str, seq: int, ts: datetime, stop: bool, nearest_m: float | None) -> RobotReceived:
    return RobotReceived(RobotState(robot, seq, ts, "follower", protective_stop=stop, nearest_human_m=nearest_m),
                         ts, False)  # fmt: skip


def test_a_late_state_of_a_computed_day_recounts_the_whole_day(database_url: str):
    day, robot = DAYS[7], "rd-late"
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO crews (crew_id, site_id, name) VALUES (%s, 'paris', 'Robots')", (CREW,))
        conn.execute("INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, 'follower', %s)", (robot, CREW))
        conn.commit()
        store = IngestStore(conn, site_tz=PARIS.key)
        # Clear every minute from 07:00 to 09:00, one stop for a person at 08:00 for two minutes.
        shift = [_received(robot, m, _local(day, 7, 0) + timedelta(minutes=m), 60 <= m < 62, 0.4 if 60 <= m < 62
                           else None) for m in range(121)]  # fmt: skip
        assert store.insert_robot_states(shift) == 121
        store.commit()
        robot_days.refresh_all(conn, PARIS, default_rules)
        assert _row(conn, robot, day)[2:4] == (1, 0)  # type: ignore[index]

        # A state delayed in a robot's buffer: a stop for a person at 07:30:30, between two clear states.
        late = _received(robot, 1_000, _local(day, 7, 30) + timedelta(seconds=30), True, 0.5)
        assert store.insert_robot_states([late]) == 1
        store.commit()
        marked = _row(conn, robot, day)
        assert marked is not None and marked[6] is True
        robot_days.refresh_all(conn, PARIS, default_rules)
        assert _row(conn, robot, day) == (shift[0].state.ts, shift[-1].state.ts, 2, 0, False, False, False)
        assert _rolled_up(conn) == _reference(conn)


def test_the_ingest_marks_the_local_day_of_its_states_and_not_a_duplicate(database_url: str):
    robot = "rd-ingest"
    late_evening = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 01:30 on 2 July in Paris (CEST, UTC+2)
    with psycopg.connect(database_url) as conn:
        store = IngestStore(conn, site_tz=PARIS.key)
        assert store.insert_robot_states([_received(robot, 1, late_evening, False, None)]) == 1
        store.commit()
        rows = conn.execute("SELECT day, dirty, dirty_from FROM robot_days WHERE robot_id = %s", (robot,)).fetchall()
        assert rows == [(date(2026, 7, 2), True, late_evening)]
        robot_days.refresh_all(conn, PARIS, default_rules)
        assert store.insert_robot_states([_received(robot, 1, late_evening, False, None)]) == 0  # redelivered
        store.commit()
        assert _row(conn, robot, date(2026, 7, 2)) == (late_evening, late_evening, 0, 0, False, False, False)


def test_migration_0013_recounts_only_the_days_whose_raw_states_are_all_still_stored(database_url: str):
    robot, days = "rd-migrated", DAYS[:6]
    update = dict(migrations.available())["0013_robot_days_hysteresis"]
    update = update[update.index("UPDATE robot_days"):]
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO robots (robot_id, kind) VALUES (%s, 'follower')", (robot,))
        # Counted by 0012's rule for six days; the raw states of the first three went with the raw retention.
        for day in days:
            conn.execute("INSERT INTO robot_days (robot_id, day, first_ts, last_ts, protective_stops, slowdowns,"
                         " last_stop, last_slow, dirty, computed_at) VALUES (%s, %s, %s, %s, 4, 9, false, false,"
                         " false, now())", (robot, day, _local(day, 7), _local(day, 15)))  # fmt: skip
        _copy(conn, [(_local(day, 7, m), robot, i * 100 + m, _local(day, 7, m), "follower", False, None)
                     for i, day in enumerate(days[3:], 3) for m in range(3)])  # fmt: skip
        conn.execute(update)
        marked = conn.execute("SELECT day FROM robot_days WHERE dirty AND computed_at IS NULL ORDER BY day").fetchall()
        # The oldest stored day may be partial, and the one after is kept too (a UTC date against a local day).
        assert [row[0] for row in marked] == days[5:]
        robot_days.refresh_all(conn, PARIS, default_rules)
        counts = dict(conn.execute("SELECT day, slowdowns FROM robot_days WHERE robot_id = %s", (robot,)).fetchall())
        assert counts == {**{day: 9 for day in days[:5]}, days[5]: 0}


def test_a_robot_is_judged_at_its_crews_separation_distance_as_its_alerts_are(database_url: str):
    """A crew whose followers keep 1 m from people (an override, 2 m slow-down zone): a person 1.5 m from its
    robot slows it; the same reading is clear for a robot of a crew under the site's 0.5 m (1 m zone)."""
    day, start = DAYS[9], _local(DAYS[9], 9)
    careful, default = "crew-rd-careful", "crew-rd-default"
    readings_m = [3.0] * 10 + [1.5] * 10 + [3.0] * 10  # one approach to 1.5 m, one state a second
    with psycopg.connect(database_url) as conn:
        for crew in (careful, default):
            conn.execute("INSERT INTO crews (crew_id, site_id, name) VALUES (%s, 'paris', 'Robots')", (crew,))
            conn.execute("INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, 'follower', %s)",
                         (f"rd-{crew}", crew))  # fmt: skip
            _copy(conn, [(start + timedelta(seconds=k), f"rd-{crew}", k, start, "follower", False, m)
                         for k, m in enumerate(readings_m)])  # fmt: skip
        conn.execute("INSERT INTO rule_overrides (scope_type, scope_id, overrides) VALUES ('crew', %s, %s)",
                     (careful, Jsonb({"follower_separation_m": 1.0})))  # fmt: skip
        t0, t1 = signals_queries.utc_bounds(day, day, PARIS)
        robot_days.mark_stored(conn, PARIS, t0, t1)
        conn.commit()
        rules = RuleSettings()
        rules.load(conn)
        assert robot_days.refresh_all(conn, PARIS, rules.config_for) == 2
        assert _row(conn, f"rd-{careful}", day)[2:4] == (0, 1)  # type: ignore[index]
        assert _row(conn, f"rd-{default}", day)[2:4] == (0, 0)  # type: ignore[index]


def test_a_follower_slowing_for_the_collector_it_follows_counts_no_near_miss_but_another_person_does(
    database_url: str,
):
    """Ingested as the gateway stores them: a follower that tells its leader apart (``tracks_leader``) at 0.8 m of
    its collector for two minutes (inside the 1 m slow-down zone), then a passer-by at 0.9 m for ten seconds."""
    day, robot = DAYS[11], "rd-leader"
    start = _local(day, 9)

    def state(k: int, nearest_m: float, other_m: float | None) -> RobotReceived:
        ts = start + timedelta(seconds=k)
        return RobotReceived(RobotState(robot, k, ts, "follower", protective_stop=False, nearest_human_m=nearest_m,
                                        tracks_leader=True, nearest_other_human_m=other_m), ts, False)  # fmt: skip

    states = [state(k, 0.8, None) for k in range(120)] + [state(120 + k, 0.8, 0.9) for k in range(10)]
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO crews (crew_id, site_id, name) VALUES (%s, 'paris', 'Robots')", (CREW,))
        conn.execute("INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, 'follower', %s)", (robot, CREW))
        conn.commit()
        store = IngestStore(conn, site_tz=PARIS.key)
        assert store.insert_robot_states(states[:120]) == 120
        store.commit()
        robot_days.refresh_all(conn, PARIS, default_rules)
        assert _row(conn, robot, day)[2:4] == (0, 0)  # type: ignore[index]
        assert store.insert_robot_states(states[120:]) == 10
        store.commit()
        robot_days.refresh_all(conn, PARIS, default_rules)
        assert _row(conn, robot, day)[2:4] == (0, 1)  # type: ignore[index]
        latest = conn.execute("SELECT tracks_leader, nearest_other_human_m FROM robot_latest WHERE robot_id = %s",
                              (robot,)).fetchone()  # fmt: skip
        assert latest == (True, pytest.approx(0.9))
