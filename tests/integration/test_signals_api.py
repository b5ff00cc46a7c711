"""Weak signals through the API and the weekly report, on eight weeks of seeded ledger, minutes, alerts and robot
states in a real TimescaleDB: the flagged subjects, who sees which signal, small groups withheld, the audit, and
the meanings in French by default or in English on request."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from gateway import cli
from gateway.db import ledger_store, robot_days, signals_queries
from gateway.db.rule_settings import RuleSettings
from gateway.db.signals_queries import Scope
from gateway.runtime.mosquitto import MosquittoBroker
from services.access import Principal, Role, pseudonym
from tests.gateway_harness import RunningGateway, running_gateway

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
FIRST = date(2026, 9, 28)  # a Monday; eight weeks to Sunday 2026-11-22 (ISO week 2026-W47)
LAST = date(2026, 11, 22)
WORKDAYS = [FIRST + timedelta(days=i) for i in range(56) if (FIRST + timedelta(days=i)).weekday() < 5]
STEP_AT = 24  # the drifts start on the 25th worked day: a 20-day baseline before, 16 days after
BIG, SMALL = "crew-sig-big", "crew-sig-small"
BIG_AGENTS = [f"sig-a{i}" for i in range(6)]
SMALL_AGENTS = [f"sig-s{i}" for i in range(3)]
DRIFTER = "sig-a0"  # resting heart rate steps up by 10 bpm
ROBOTS = ["sig-r1", "sig-r2"]  # protective stops double
READER = "officer-reader"


def _local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), PARIS).astimezone(UTC)


def _copy(conn: psycopg.Connection[Any], table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(database_url: str) -> None:
    rng = random.Random(9)
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO crews (crew_id, site_id, name) VALUES (%s, 'paris', 'Big round'),"
                     " (%s, 'paris', 'Small round')", (BIG, SMALL))  # fmt: skip
        for agent in BIG_AGENTS + SMALL_AGENTS:
            conn.execute("INSERT INTO agents (agent_id, display_name, crew_id) VALUES (%s, %s, %s)",
                         (agent, f"Name of {agent}", BIG if agent in BIG_AGENTS else SMALL))  # fmt: skip
        for robot in ROBOTS:
            conn.execute("INSERT INTO robots (robot_id, kind, crew_id) VALUES (%s, 'follower', %s)", (robot, BIG))
        conn.execute("INSERT INTO users (username, password_hash, role) VALUES (%s, 'x', 'safety_officer')",
                     (READER,))  # fmt: skip
        ledger, minutes, alerts = [], [], []
        for agent in BIG_AGENTS + SMALL_AGENTS:
            for i, day in enumerate(WORKDAYS):
                ledger.append((agent, day, 8 * 3600.0, 8 * 3600.0, 8 * 3600.0 * 10**7.5, 2, 4200.0, 0.0, True))
                rest = 60.0 + (10.0 if agent == DRIFTER and i >= STEP_AT else 0.0) + rng.gauss(0, 0.7)
                for m in range(60):
                    lifting = m >= 15 and m % 10 == 0
                    after = m >= 15 and (m - 1) % 10 == 0
                    hr = rest if m < 15 else rest + (45 if lifting else 40 if after else 35)
                    minutes.append((agent, _local(day, 7, m), 60, 60, 60 * (hr + rng.gauss(0, 0.3)),
                                    3 if lifting else 0))  # fmt: skip
            alerts.append(("fall", agent, _local(WORKDAYS[3], 10), "false_alarm", "wearer"))
            alerts.append(("heat_strain", agent, _local(WORKDAYS[5], 14), None, None))
        _copy(conn, "exposure_days", ("agent_id", "day", "worked_s", "noise_s", "noise_sum_t_10pow", "lifts_ge_25kg",
                                      "tonnage_kg", "night_s", "psi_dirty"), ledger)  # fmt: skip
        _copy(conn, "frame_minutes", ("agent_id", "minute", "worked_s", "hr_n", "hr_sum_bpm", "lifts"), minutes)
        while ledger_store.refresh_heat_strain(conn, PARIS):  # the housekeeper's pass: heart-rate features
            pass
        _copy(conn, "alerts", ("alert_id", "rule", "severity", "status", "subject_type", "subject_id", "agent_id",
                               "message", "raised_at", "source_ts", "last_seen_ts", "resolution", "resolved_by"),
              [(f"00000000-0000-4000-8000-{n:012d}", rule, "warning", "resolved" if res else "raised", "agent", agent,
                agent, rule, at, at, at, res, by) for n, (rule, agent, at, res, by) in enumerate(alerts)])  # fmt: skip
        _copy(conn, "robot_states", ("ts", "robot_id", "seq", "received_at", "kind", "protective_stop",
                                     "nearest_human_m"), robot_states(rng))  # fmt: skip
        # Copied, not ingested: mark their robot-days and run the housekeeper's roll-up (gateway/db/robot_days).
        robot_days.mark_stored(conn, PARIS, *signals_queries.utc_bounds(FIRST, LAST, PARIS))
        rules = RuleSettings()  # the site's rules, as the housekeeper reads them
        rules.load(conn)
        robot_days.refresh_all(conn, PARIS, rules.config_for)


def robot_states(rng: random.Random) -> list[tuple[Any, ...]]:
    """Per worked day: 8 h of work, two or three stops for a person (five or six after the step), one slow-down."""
    rows: list[tuple[Any, ...]] = []
    for robot in ROBOTS:
        seq = 0
        for i, day in enumerate(WORKDAYS):
            events: list[tuple[datetime, bool, float | None]] = [(_local(day, 7), False, None)]
            stops = (5 if i >= STEP_AT else 2) + rng.randint(0, 1)
            for k in range(stops):
                at = _local(day, 8, 10 * k)
                events += [(at, True, 0.3), (at + timedelta(seconds=1), True, 0.35),
                           (at + timedelta(seconds=5), False, None)]  # fmt: skip
            slow = _local(day, 12)
            events += [(slow, False, 0.8), (slow + timedelta(seconds=3), False, None), (_local(day, 15), False, None)]
            for ts, stop, distance in events:
                seq += 1
                rows.append((ts, robot, seq, ts, "follower", stop, distance))
    return rows


@pytest.fixture
def gateway(broker: MosquittoBroker, database_url: str) -> Iterator[RunningGateway]:
    seed(database_url)
    with running_gateway(broker.url, database_url, run_ingest=False) as g:
        yield g


def signals(gateway: RunningGateway, principal: Principal | None = None, **params: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {gateway.token_for(principal)}"} if principal else {}
    response = gateway.http.get("/api/v1/signals", params={"from": FIRST.isoformat(), "to": LAST.isoformat(),
                                                           **params}, headers=headers)  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def flagged(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(i["subject_kind"], i["subject_id"], i["kind"]) for i in body["items"] if i["flagged"]}


def test_inputs_hold_the_heart_rate_features_alerts_and_robot_onsets(database_url: str):
    seed(database_url)

    async def read() -> signals_queries.SignalInputs:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            return await signals_queries.inputs(conn, FIRST, LAST, PARIS, Scope(crew_id=BIG))

    data = asyncio.run(read())
    days = {(d.agent_id, d.day): d for d in data.agent_days}
    assert len(days) == len(BIG_AGENTS) * len(WORKDAYS)
    before, after = days[(DRIFTER, WORKDAYS[0])], days[(DRIFTER, WORKDAYS[-1])]
    assert before.resting_hr_bpm is not None and after.resting_hr_bpm is not None
    assert 58 < before.resting_hr_bpm < 62 and 68 < after.resting_hr_bpm < 72
    assert before.working_hr_bpm is not None and before.working_hr_bpm > before.resting_hr_bpm + 20
    assert before.hr_recovery_bpm == pytest.approx(10, abs=1.5)
    assert before.noise_lex_db == pytest.approx(75, abs=0.01)
    assert days[(DRIFTER, WORKDAYS[3])].stumbles == 1 and days[(DRIFTER, WORKDAYS[5])].heat_strain_episodes == 1
    assert {(e.agent_id, e.hour) for e in data.heat_episodes} == {(a, 14) for a in BIG_AGENTS}
    robot = {(r.robot_id, r.day): r for r in data.robot_days}
    first, last = robot[(ROBOTS[0], WORKDAYS[0])], robot[(ROBOTS[0], WORKDAYS[-1])]
    assert first.work_h == pytest.approx(8) and first.slowdowns == 1
    assert 2 <= first.protective_stops <= 3 and 5 <= last.protective_stops <= 6


def test_an_admin_named_reader_sees_the_drifting_agent_and_the_robots_stopping_more(gateway: RunningGateway):
    unnamed = flagged(signals(gateway, crew=BIG))
    assert ("agent", DRIFTER, "resting_hr_drift") not in unnamed  # individual: only for the site's named readers
    assert ("crew", BIG) in {(kind, subject) for kind, subject, _ in unnamed}
    name_the_admin_a_reader(gateway)
    body = signals(gateway, crew=BIG)
    found = flagged(body)
    assert ("agent", DRIFTER, "resting_hr_drift") in found
    assert not any(kind == "agent" and subject != DRIFTER and k == "resting_hr_drift" for kind, subject, k in found)
    assert {("robot", r) for r in ROBOTS} <= {(kind, subject) for kind, subject, _ in found}
    assert ("crew", BIG) in {(kind, subject) for kind, subject, _ in found}
    item = next(i for i in body["items"] if i["subject_id"] == DRIFTER and i["kind"] == "resting_hr_drift")
    assert item["subject_label"] == f"Name of {DRIFTER}" and item["recent"] > item["baseline"] + 5
    assert item["series"] and item["meaning"] and item["first_flagged"] >= WORKDAYS[STEP_AT].isoformat()


def test_a_supervisor_sees_only_crew_level_signals_of_their_crews(gateway: RunningGateway):
    mine = signals(gateway, Principal("sup-big", Role.SUPERVISOR, frozenset({BIG})), crew=BIG)
    assert mine["items"] and {i["subject_kind"] for i in mine["items"]} <= {"crew", "robot"}
    assert ("crew", BIG) in {(i["subject_kind"], i["subject_id"]) for i in mine["items"]}
    other = Principal("sup-other", Role.SUPERVISOR, frozenset({"crew-elsewhere"}))
    assert signals(gateway, other)["items"] == []
    refused = gateway.http.get("/api/v1/signals", params={"crew": BIG},
                               headers={"Authorization": f"Bearer {gateway.token_for(other)}"})  # fmt: skip
    assert refused.status_code == 403


def test_an_agent_sees_only_their_own_signals(gateway: RunningGateway):
    body = signals(gateway, Principal("agent-a0", Role.AGENT, agent_id=DRIFTER))
    assert body["items"] and {(i["subject_kind"], i["subject_id"]) for i in body["items"]} == {("agent", DRIFTER)}
    assert ("agent", DRIFTER, "resting_hr_drift") in flagged(body)


def test_an_officer_reads_individual_signals_only_once_named_and_pseudonymised(gateway: RunningGateway):
    officer = Principal(READER, Role.SAFETY_OFFICER)
    before = signals(gateway, officer, crew=BIG)
    assert before["items"] and all(i["subject_kind"] != "agent" for i in before["items"])
    assert gateway.http.put(f"/api/v1/sites/paris/signal-readers/{READER}").status_code == 200
    assert gateway.get("/api/v1/sites/paris/signal-readers")["items"][0]["username"] == READER
    after = signals(gateway, officer, crew=BIG)
    alias = pseudonym(DRIFTER, gateway.settings.pseudonym_key)
    assert ("agent", alias, "resting_hr_drift") in flagged(after)
    assert not any(DRIFTER in (i["subject_id"], i["subject_label"]) or "Name of" in (i["subject_label"] or "")
                   for i in after["items"])  # fmt: skip
    assert gateway.http.delete(f"/api/v1/sites/paris/signal-readers/{READER}").status_code == 204
    assert all(i["subject_kind"] != "agent" for i in signals(gateway, officer, crew=BIG)["items"])
    assert gateway.http.put("/api/v1/sites/paris/signal-readers/nobody-here").status_code == 404


def test_a_crew_smaller_than_the_minimum_is_withheld_and_counted(gateway: RunningGateway):
    body = signals(gateway, Principal("officer", Role.SAFETY_OFFICER), crew=SMALL)
    assert body["min_group_size"] == 5
    assert body["withheld"] > 0 and all(i["group_size"] >= 5 for i in body["items"])
    assert not any(i["subject_id"] == SMALL for i in body["items"])


def test_every_signal_read_is_audited(gateway: RunningGateway):
    signals(gateway, Principal("sup-big", Role.SUPERVISOR, frozenset({BIG})), crew=BIG)
    gateway.http.get("/api/v1/reports/signals", params={"week": "2026-W47", "crew": BIG}).raise_for_status()
    with psycopg.connect(gateway.settings.database_url) as conn:
        rows = conn.execute("SELECT actor, action, query FROM audit_log WHERE action LIKE %s ORDER BY id",
                            ("%signals%",)).fetchall()  # fmt: skip
    assert ("sup-big", "GET /api/v1/signals") in {(r[0], r[1]) for r in rows}
    assert any(r[1] == "GET /api/v1/reports/signals" and "week=2026-W47" in r[2] for r in rows)


def name_the_admin_a_reader(gateway: RunningGateway) -> None:
    """The tests' admin (``test-admin``) as a user named reader of the site: individual signals are theirs only then."""
    gateway.http.put("/api/v1/users/test-admin", json={"password": "a long enough secret", "role": "admin"}
                     ).raise_for_status()  # fmt: skip
    assert gateway.http.put("/api/v1/sites/paris/signal-readers/test-admin").status_code == 200


def test_the_weekly_report_parses_as_csv_and_renders_as_pdf(gateway: RunningGateway):
    name_the_admin_a_reader(gateway)
    response = gateway.http.get("/api/v1/reports/signals", params={"week": "2026-W47", "crew": BIG})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any(r["subject_id"] == DRIFTER and r["kind"] == "resting_hr_drift" and r["flagged"] == "true" for r in rows)
    assert all(int(r["days"]) > 0 for r in rows)
    pdf = gateway.http.get("/api/v1/reports/signals", params={"week": "2026-W47", "crew": BIG, "format": "pdf"},
                           timeout=120)  # fmt: skip
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.content.count(b"/Type /Page\n") + pdf.content.count(b"/Type /Page ") >= 2
    assert gateway.http.get("/api/v1/reports/signals", params={"week": "2026-W99"}).status_code == 422


def test_the_night_work_projection_counts_the_nights_of_the_whole_year_not_only_the_period_shown(
    gateway: RunningGateway,
):
    # 60 nights in February-March, long before the detection's ~190-day window and the 8 weeks asked for: the
    # D4163-2 count is per calendar year, so they must be in "nights so far".
    name_the_admin_a_reader(gateway)
    weekdays = [date(2026, 2, 2) + timedelta(days=i) for i in range(84)]
    nights = [day for day in weekdays if day.weekday() < 5][:60]
    copy_sql = "COPY exposure_days (agent_id, day, worked_s, night_s) FROM STDIN"
    with psycopg.connect(gateway.settings.database_url) as conn, conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for day in nights:
            copy.write_row((DRIFTER, day, 28_800.0, 18_000.0))
    body = signals(gateway, crew=BIG)
    night = next(i for i in body["items"] if i["subject_id"] == DRIFTER and i["kind"] == "night_work_projection")
    assert night["baseline"] == 60.0


def drifter_meaning(items: Sequence[Mapping[str, Any]]) -> str:
    meaning: str = next(i["meaning"] for i in items if i["subject_id"] == DRIFTER and i["kind"] == "resting_hr_drift")
    return meaning


def test_meanings_are_french_by_default_and_english_on_request(gateway: RunningGateway):
    name_the_admin_a_reader(gateway)
    french, english = signals(gateway, crew=BIG), signals(gateway, crew=BIG, lang="en")
    assert french["lang"] == "fr" and english["lang"] == "en"
    assert signals(gateway, crew=BIG, lang="fr")["items"] == french["items"]
    fr_text, en_text = drifter_meaning(french["items"]), drifter_meaning(english["items"])
    assert re.match(r"Fréquence cardiaque de repos : \d+,\d\d bpm en référence, \d+,\d\d bpm ces derniers jours "
                    r"\(\+\d+,\d écarts-types robustes, signal levé\)\.", fr_text), fr_text  # fmt: skip
    assert "médecin du travail" in fr_text
    assert re.match(r"Resting heart rate: \d+\.\d\d bpm at baseline, \d+\.\d\d bpm recently "
                    r"\(\+\d+\.\d robust sd, flagged\)\.", en_text), en_text  # fmt: skip
    # Only the sentences change with the language: the figures, flags and order are the same.
    assert [{**i, "meaning": ""} for i in french["items"]] == [{**i, "meaning": ""} for i in english["items"]]
    refused = gateway.http.get("/api/v1/signals", params={"crew": BIG, "lang": "de"})
    assert refused.status_code == 422
    assert gateway.http.get("/api/v1/reports/signals", params={"week": "2026-W47", "lang": "de"}).status_code == 422


def test_the_weekly_csv_and_the_cli_report_follow_the_report_language(gateway: RunningGateway, tmp_path: Path):
    name_the_admin_a_reader(gateway)

    def csv_rows(content: bytes) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))

    week = {"week": "2026-W47", "crew": BIG}
    french = csv_rows(gateway.http.get("/api/v1/reports/signals", params=week).content)
    english = csv_rows(gateway.http.get("/api/v1/reports/signals", params={**week, "lang": "en"}).content)
    assert drifter_meaning(french).startswith("Fréquence cardiaque de repos : ")
    assert drifter_meaning(english).startswith("Resting heart rate: ")
    assert [r["kind"] for r in french] == [r["kind"] for r in english]
    out = tmp_path / "signals-en.csv"
    assert cli.main(["report", "signals", "--week", "2026-W47", "--crew", BIG, "--format", "csv", "--lang", "en",
                     "--api-url", gateway.http_url, "--token", gateway.token, "-o", str(out)]) == 0  # fmt: skip
    assert csv_rows(out.read_bytes()) == english


def put_review(gateway: RunningGateway, principal: Principal, ref: str, outcome: str, note: str,
               **params: str) -> Any:  # fmt: skip
    return gateway.http.put(f"/api/v1/signals/{ref}/review", params={"to": LAST.isoformat(), **params},
                            json={"outcome": outcome, "note": note},
                            headers={"Authorization": f"Bearer {gateway.token_for(principal)}"})  # fmt: skip


def test_a_flags_follow_up_is_recorded_once_and_shown_to_every_reader_of_the_signal(gateway: RunningGateway):
    officer = Principal("officer-follow-up", Role.SAFETY_OFFICER)
    items = signals(gateway, officer, crew=BIG)["items"]
    assert all((i["ref"] is None) == (not i["flagged"]) for i in items)  # a reference for each flag, only them
    robot = next(i for i in items if i["subject_kind"] == "robot" and i["flagged"])
    assert robot["review"] is None

    saved = put_review(gateway, officer, robot["ref"], "action", "  Zone de chargement balisée, rappel à l'équipe. ")
    assert saved.status_code == 200, saved.text
    review = saved.json()["review"]
    assert (review["outcome"], review["note"], review["by"]) == ("action", "Zone de chargement balisée, rappel à "
                                                                 "l'équipe.", "officer-follow-up")  # fmt: skip

    supervisor = Principal("sup-big", Role.SUPERVISOR, frozenset({BIG}))
    seen = next(i for i in signals(gateway, supervisor, crew=BIG)["items"] if i["ref"] == robot["ref"])
    assert seen["review"] == review
    rewritten = put_review(gateway, supervisor, robot["ref"], "watch", "", crew=BIG)
    assert rewritten.status_code == 200 and rewritten.json()["review"]["by"] == "sup-big"  # replaces, one per flag
    with psycopg.connect(gateway.settings.database_url) as conn:
        assert conn.execute("SELECT count(*), min(outcome) FROM signal_reviews").fetchone() == (1, "watch")
        audited = conn.execute("SELECT actor FROM audit_log WHERE action = %s AND target = %s ORDER BY id",
                               ("PUT /api/v1/signals/{ref}/review", robot["ref"])).fetchall()  # fmt: skip
    assert [a[0] for a in audited] == ["officer-follow-up", "sup-big"]

    week = gateway.http.get("/api/v1/reports/signals", params={"week": "2026-W47", "crew": BIG})
    rows = list(csv.DictReader(io.StringIO(week.content.decode("utf-8-sig"))))
    row = next(r for r in rows if r["ref"] == robot["ref"])
    assert (row["review_outcome"], row["reviewed_by"]) == ("watch", "sup-big")


def test_an_individual_flag_is_reviewed_by_its_named_reader_under_a_pseudonym_and_read_by_its_agent(
    gateway: RunningGateway,
):
    officer = Principal(READER, Role.SAFETY_OFFICER)
    assert gateway.http.put(f"/api/v1/sites/paris/signal-readers/{READER}").status_code == 200
    alias = pseudonym(DRIFTER, gateway.settings.pseudonym_key)
    item = next(i for i in signals(gateway, officer, crew=BIG)["items"]
                if i["subject_id"] == alias and i["kind"] == "resting_hr_drift")  # fmt: skip
    assert DRIFTER not in item["ref"]
    saved = put_review(gateway, officer, item["ref"], "action", "Entretien, orientation vers la médecine du travail")
    assert saved.status_code == 200, saved.text
    assert saved.json()["subject_id"] == alias  # the answer keeps the pseudonym

    agent = Principal("agent-a0", Role.AGENT, agent_id=DRIFTER)
    own = next(i for i in signals(gateway, agent)["items"] if i["kind"] == "resting_hr_drift")
    assert own["ref"] == item["ref"] and own["review"]["outcome"] == "action"
    assert put_review(gateway, agent, item["ref"], "explained", "c'était la grippe").status_code == 403


def test_a_review_that_cannot_be_recorded_is_refused_with_its_reason(gateway: RunningGateway):
    officer = Principal("officer-refused", Role.SAFETY_OFFICER)
    items = signals(gateway, officer, crew=BIG)["items"]
    ref = next(i["ref"] for i in items if i["flagged"] and i["subject_kind"] == "crew")

    def refused(principal: Principal, ref: str, outcome: str, note: str, status: int, reason: str) -> None:
        response = put_review(gateway, principal, ref, outcome, note)
        assert response.status_code == status, response.text
        assert reason in response.text

    refused(officer, ref, "done", "x", 422, "outcome must be one of action, watch, explained")
    refused(officer, ref, "action", "   ", 422, "say in the note what was done")
    refused(officer, ref, "explained", "x" * 2001, 422, "at most 2000")
    refused(officer, "sig-" + "0" * 20, "watch", "", 404, "no flagged signal")
    refused(officer, "not-a-ref", "watch", "", 422, "pattern")
    refused(Principal("sup-other", Role.SUPERVISOR, frozenset({"crew-elsewhere"})), ref, "watch", "", 404,
            "no flagged signal")  # fmt: skip
    with psycopg.connect(gateway.settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM signal_reviews").fetchone() == (0,)
