"""The signals view of the dashboard (issue 9): weak signals over weeks, as ``GET /api/v1/signals`` answers.

A real browser against the whole stack. Eight weeks of history cannot be lived through in a test, so the
days are written straight into the stack's database, as the ledger and the minute tier would hold them: a
crew of six whose noise exposure went over the action value in the last two weeks, one of them with a resting
heart rate that stepped up at the same time, a crew of three with the same noise (too small a group to be
shown), and a crew with nobody in it. The page is checked against what the API says about the same data, in
French and, once the language is switched, in English (the meanings are the server's, asked for in the page's
language).
Screenshots go to ``test-artifacts/signals-*.png``.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from playwright.sync_api import Locator, Page, expect

from gateway.db import ledger_store
from tests.e2e import test_dashboard as dashboard_tests
from tests.e2e.conftest import Stack
from tests.e2e.test_accessibility import check_accessibility
from tests.e2e.test_dashboard import OpenDashboard
from tests.helpers import wait_until

pytestmark = dashboard_tests.pytestmark

# The dashboard's fixtures, shared with its other tests.
browser = dashboard_tests.browser
artifacts = dashboard_tests.artifacts
dashboard = dashboard_tests.dashboard

SITE_TZ = ZoneInfo("Europe/Paris")
HISTORY_DAYS = 55  # eight weeks, the view's default period
DRIFT_WORKDAYS = 10  # the last two working weeks changed
SHIFT_START_UTC_H = 7  # 08:00 or 09:00 in Paris: the whole shift on one local day
SHIFT_MIN = 420
QUIET_LAEQ_DB = 74.0
LOUD_LAEQ_DB = 88.0  # LEX,8h ≈ 87.4 dB(A) over a 7-h shift: above the action values (R4431-2)
RESTING_HR_BPM = 62.0
RESTING_HR_DRIFTED_BPM = 74.0
WORKING_HR_ABOVE_REST_BPM = 35.0
BREAK_MIN = (200, 230)  # a half-hour break mid-shift: the lowest 10-min heart rate of the day


@dataclass(frozen=True)
class History:
    big_crew: str  # six agents: shown
    small_crew: str  # three agents: under the minimum group size, withheld
    empty_crew: str  # nobody: no signal at all
    drifting_agent: str
    drifting_name: str


def workdays(today: date) -> list[date]:
    """Monday to Friday over the last HISTORY_DAYS days, yesterday included (today is still being worked)."""
    days = [today - timedelta(days=back) for back in range(HISTORY_DAYS, 0, -1)]
    return [day for day in days if day.weekday() < 5]


def seed(stack: Stack, crews: dict[str, list[str]], drifting_agent: str) -> None:
    """Writes the ledger rows (exposure_days) and the minute tier (frame_minutes) of every agent's workdays, then
    runs the housekeeper's refresh that derives each day's heart-rate features from its minutes."""
    days = workdays(datetime.now(SITE_TZ).date())
    drifted = set(days[-DRIFT_WORKDAYS:])
    rng = random.Random(9)
    ledger: list[tuple[Any, ...]] = []
    heart: list[tuple[str, datetime, float]] = []  # (agent, shift start, resting heart rate of the day)
    for agents in crews.values():
        for agent_id in agents:
            for day in days:
                laeq_db = (LOUD_LAEQ_DB if day in drifted else QUIET_LAEQ_DB) + rng.uniform(-1.0, 1.0)
                noise_s = SHIFT_MIN * 60.0
                ledger.append((agent_id, day, noise_s, noise_s, noise_s * 10 ** (0.1 * laeq_db)))
                resting = RESTING_HR_DRIFTED_BPM if agent_id == drifting_agent and day in drifted else RESTING_HR_BPM
                start = datetime(day.year, day.month, day.day, SHIFT_START_UTC_H, tzinfo=ZoneInfo("UTC"))
                heart.append((agent_id, start, resting + rng.gauss(0.0, 1.0)))
    with psycopg.connect(stack.database_url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO exposure_days (agent_id, day, worked_s, noise_s, noise_sum_t_10pow, psi_dirty)"
            " VALUES (%s, %s, %s, %s, %s, true)", ledger)  # fmt: skip
        # One row a minute: the heart rate is the day's resting level during the break, and above it at work.
        cur.execute(
            "INSERT INTO frame_minutes (agent_id, minute, worked_s, hr_n, hr_sum_bpm)"
            " SELECT h.agent_id, h.start + g.m * interval '1 minute', 60, 60,"
            "        60 * (h.resting + CASE WHEN g.m BETWEEN %(b0)s AND %(b1)s THEN 0 ELSE %(above)s END)"
            " FROM unnest(%(agents)s::text[], %(starts)s::timestamptz[], %(resting)s::float8[])"
            "      AS h(agent_id, start, resting),"
            "      generate_series(0, %(n)s - 1) AS g(m)",
            {"agents": [h[0] for h in heart], "starts": [h[1] for h in heart], "resting": [h[2] for h in heart],
             "b0": BREAK_MIN[0], "b1": BREAK_MIN[1], "above": WORKING_HR_ABOVE_REST_BPM, "n": SHIFT_MIN},
        )  # fmt: skip
    with psycopg.connect(stack.database_url) as conn:
        while ledger_store.refresh_heat_strain(conn, SITE_TZ):
            pass
    agents = [agent_id for members in crews.values() for agent_id in members]

    def refreshed() -> bool:  # the stack's own housekeeper may have held some days a moment
        with psycopg.connect(stack.database_url) as conn:
            row = conn.execute("SELECT count(*) FROM exposure_days WHERE psi_dirty AND agent_id = ANY(%s)",
                               (agents,)).fetchone()  # fmt: skip
            return row is not None and row[0] == 0

    wait_until(refreshed, 30)


@pytest.fixture(scope="module")
def history(stack: Stack) -> Iterator[History]:
    suffix = uuid.uuid4().hex[:6]
    crews = {f"crew-sig-{suffix}-{name}": [f"agent-sig-{suffix}-{name}-{i}" for i in range(size)]
             for name, size in (("big", 6), ("small", 3), ("empty", 0))}  # fmt: skip
    big, small, empty = crews
    for crew_id, members in crews.items():
        stack.http.put(f"/api/v1/crews/{crew_id}", json={"name": f"Voirie {crew_id[-5:]}"}).raise_for_status()
        for agent_id in members:
            stack.http.put(f"/api/v1/agents/{agent_id}", json={"display_name": f"Dominique {agent_id[-7:]}",
                                                                "crew_id": crew_id}).raise_for_status()  # fmt: skip
    drifting = crews[big][0]
    seed(stack, crews, drifting)
    # Individual signals go only to the site's named readers (issue 9): the demo's admin names itself.
    stack.http.put("/api/v1/sites/paris/signal-readers/admin").raise_for_status()
    yield History(big, small, empty, drifting, f"Dominique {drifting[-7:]}")


def signals(stack: Stack, crew: str, lang: str = "fr") -> dict[str, Any]:
    """What the API answers for the crew over the view's default period (the last eight weeks, UTC days), with
    the meanings in ``lang``."""
    today = datetime.now(ZoneInfo("UTC")).date()
    params = {"crew": crew, "from": (today - timedelta(days=HISTORY_DAYS)).isoformat(), "to": today.isoformat(),
              "lang": lang}  # fmt: skip
    response = stack.http.get("/api/v1/signals", params=params)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def open_signals(page: Page) -> Locator:
    """Opens the view from the header link, as a user does."""
    page.get_by_test_id("signals-link").click()
    view = page.get_by_test_id("signals-page")
    expect(view).to_be_visible()
    return view


def choose_crew(page: Page, crew: str) -> None:
    with page.expect_response(lambda response: "/api/v1/signals?" in response.url and f"crew={crew}" in response.url):
        page.get_by_test_id("signals-crew").select_option(crew)


def toggle_language(page: Page) -> None:
    """What the header's toggle does; the toggle itself is behind the modal view."""
    page.evaluate("""async () => {
        const { toggleLang } = await import(new URL("i18n.js", document.baseURI).href);
        toggleLang();
    }""")  # fmt: skip


def card_of(view: Locator, item: dict[str, Any]) -> Locator:
    return view.locator(f'[data-testid="signal-card"][data-subject-id="{item["subject_id"]}"]'
                        f'[data-metric="{item["metric"]}"]')  # fmt: skip


def test_a_flagged_crew_drift_shows_first_with_its_trend_and_meaning(
    dashboard: OpenDashboard, stack: Stack, history: History, artifacts: Path
) -> None:
    answer = signals(stack, history.big_crew)
    flagged = [item for item in answer["items"] if item["flagged"]]
    crew_drifts = [item for item in flagged if item["subject_id"] == history.big_crew]
    assert crew_drifts, f"the API flags no drift of the crew: {answer}"
    crew_drift = crew_drifts[0]

    page = dashboard()
    view = open_signals(page)
    expect(page).to_have_url(f"{stack.http_url}/#/signals")
    expect(page.get_by_test_id("signals-title")).to_have_text("Signaux faibles")
    choose_crew(page, history.big_crew)
    expect(page).to_have_url(f"{stack.http_url}/#/signals?crew={history.big_crew}")

    cards = view.get_by_test_id("signal-card")
    expect(cards).to_have_count(len(answer["items"]))
    expect(cards.first).to_have_attribute("data-flagged", "true")  # flagged signals come first
    card = card_of(view, crew_drift)
    expect(card).to_have_attribute("data-flagged", "true")
    expect(card.get_by_test_id("signal-state")).to_have_text("Dérive signalée")
    # The meaning is the server's French sentence (the page asked for ?lang=fr), marked as French.
    meaning = card.get_by_test_id("signal-meaning")
    expect(meaning).to_have_text(crew_drift["meaning"])
    expect(meaning).to_have_text(re.compile(r" en référence, .+ ces derniers jours \(.+, signal levé\)"))
    expect(meaning).to_have_attribute("lang", "fr")
    expect(card.get_by_test_id("signal-subject")).to_contain_text(f"{crew_drift['group_size']} agents")
    expect(card.get_by_test_id("signal-individual")).to_have_count(0)
    # Sizes and confidences in words and numbers, not by colour alone.
    direction = {"up": "en hausse", "down": "en baisse"}[crew_drift["direction"]]
    expect(card.locator('[data-fact="change"] dd')).to_have_text(re.compile(rf"^.+ → .+ \({direction}\)$"))
    effect = f"{abs(crew_drift['effect_size']):.1f}".removesuffix(".0").replace(".", ",")
    expect(card.locator('[data-fact="effect"] dd')).to_contain_text(effect)
    expect(card.locator('[data-fact="effect"] dd')).to_have_text(
        re.compile(r"^(négligeable|faible|moyenne|forte) \([-−]?[\d\u202f ]+(,\d)?\)$")
    )
    expect(card.locator('[data-fact="confidence"] dd')).to_have_text(
        re.compile(r"^(faible|modérée|élevée|très élevée) \((> )?\d+(,\d)?\s%\)$")
    )
    expect(card.locator('[data-fact="first_flagged"] time')).to_have_attribute("datetime", crew_drift["first_flagged"])
    chart = card.get_by_test_id("chart")
    known = [point for point in crew_drift["series"] if point["value"] is not None]
    expect(chart).to_have_attribute("data-points", str(len(known)))
    for line in ("baseline", "recent"):
        drawn = chart.locator(f'[data-line-key="{line}"]').get_attribute("data-value")
        assert drawn is not None and float(drawn) == pytest.approx(crew_drift[line]), f"{line} line at {drawn}"
    # The numbers behind the chart, for a screen reader: one row a day of the series.
    expect(card.locator("table tbody tr")).to_have_count(len(crew_drift["series"]))
    page.screenshot(path=artifacts / "signals-fr.png", full_page=True)
    check_accessibility(page, "signals-cards-fr", artifacts)

    # The agent whose resting heart rate stepped up: an individual signal, which this admin, a named reader of the
    # site, may read, by name.
    individual = [item for item in flagged if item["subject_kind"] == "agent"
                  and item["subject_id"] == history.drifting_agent]  # fmt: skip
    assert individual, f"the API flags no drift of {history.drifting_agent}: {flagged}"
    agent_card = card_of(view, individual[0])
    expect(agent_card.get_by_test_id("signal-individual")).to_have_text("Individuel")
    expect(agent_card.get_by_test_id("signal-subject")).to_have_text(f"Agent : {history.drifting_name}")
    agent_meaning = agent_card.get_by_test_id("signal-meaning")
    expect(agent_meaning).to_have_text(re.compile(r" : \d+,\d\d \S+ en référence, \d+,\d\d \S+ ces derniers jours "
                                                  r"\(\+\d+,\d écarts-types robustes, signal levé\)"))  # fmt: skip

    # Switching to English redraws the view and asks the server for the English meanings.
    english = {(i["subject_id"], i["kind"]): i["meaning"] for i in signals(stack, history.big_crew, "en")["items"]}
    with page.expect_response(lambda response: "/api/v1/signals?" in response.url and "lang=en" in response.url):
        toggle_language(page)
    expect(page.get_by_test_id("signals-title")).to_have_text("Weak signals")
    expect(card.get_by_test_id("signal-state")).to_have_text("Drift flagged")
    expect(agent_card.get_by_test_id("signal-individual")).to_have_text("Individual")
    expect(meaning).to_have_text(english[(crew_drift["subject_id"], crew_drift["kind"])])
    expect(meaning).to_have_text(re.compile(r" at baseline, .+ recently \(.+, flagged\)"))
    expect(meaning).to_have_attribute("lang", "en")
    expect(agent_meaning).to_have_text(english[(individual[0]["subject_id"], individual[0]["kind"])])
    expect(agent_meaning).to_have_text(re.compile(r": \d+\.\d\d \S+ at baseline, \d+\.\d\d \S+ recently "
                                                  r"\(\+\d+\.\d robust sd, flagged\)"))  # fmt: skip
    page.screenshot(path=artifacts / "signals-en.png", full_page=True)
    check_accessibility(page, "signals-cards-en", artifacts)

    # Refreshed on demand only: the button asks again, and the same cards come back.
    with page.expect_response(lambda response: "/api/v1/signals?" in response.url and "lang=en" in response.url):
        page.get_by_test_id("signals-refresh").click()
    expect(card.get_by_test_id("signal-state")).to_have_text("Drift flagged")

    # And back to French: the French sentences again.
    with page.expect_response(lambda response: "/api/v1/signals?" in response.url and "lang=fr" in response.url):
        toggle_language(page)
    expect(meaning).to_have_text(crew_drift["meaning"])
    expect(meaning).to_have_attribute("lang", "fr")


def test_a_crew_too_small_to_show_is_announced_as_withheld(
    dashboard: OpenDashboard, stack: Stack, history: History, artifacts: Path
) -> None:
    answer = signals(stack, history.small_crew)
    assert answer["withheld"] >= 1, f"the API withholds nothing of a crew of three: {answer}"
    assert all(item["subject_id"] != history.small_crew for item in answer["items"])

    page = dashboard()
    view = open_signals(page)
    choose_crew(page, history.small_crew)
    notice = view.get_by_test_id("signals-withheld")
    n, size = answer["withheld"], answer["min_group_size"]
    expected = f"{n} groupe de moins de {size} agents n'est pas affiché" if n == 1 else \
        f"{n} groupes de moins de {size} agents ne sont pas affichés"  # fmt: skip
    expect(notice).to_contain_text(expected)
    expect(view.locator(f'[data-testid="signal-card"][data-subject-id="{history.small_crew}"]')).to_have_count(0)
    page.screenshot(path=artifacts / "signals-withheld.png", full_page=True)

    toggle_language(page)
    expect(notice).to_contain_text(f"under {size} agents not shown, to protect privacy")


def test_a_crew_without_data_shows_the_empty_state_and_closing_goes_back(
    dashboard: OpenDashboard, stack: Stack, history: History, artifacts: Path
) -> None:
    answer = signals(stack, history.empty_crew)
    assert answer["items"] == [] and answer["withheld"] == 0, answer
    page = dashboard()
    view = open_signals(page)
    choose_crew(page, history.empty_crew)
    expect(view.get_by_test_id("signals-empty")).to_have_text("Aucun signal sur cette période pour ce périmètre.")
    expect(view.get_by_test_id("signals-withheld")).to_be_hidden()
    page.screenshot(path=artifacts / "signals-empty.png", full_page=True)

    view.get_by_test_id("signals-close").click()
    expect(view).to_be_hidden()
    expect(page).to_have_url(f"{stack.http_url}/")
    expect(page.get_by_test_id("signals-link")).to_be_focused()


def test_the_header_link_is_only_offered_to_roles_that_may_read_signals(
    dashboard: OpenDashboard, history: History
) -> None:
    page = dashboard()
    link = page.get_by_test_id("signals-link")
    expect(page.locator("body")).to_have_attribute("data-role", "admin")
    expect(link).to_be_visible()
    for role, shown in (("safety_officer", True), ("supervisor", True), ("agent", True), ("", False)):
        # What auth.js sets from GET /api/v1/me; the server refuses the endpoint to others whatever shows.
        page.evaluate("(role) => { document.body.dataset.role = role; }", role)
        if shown:
            expect(link).to_be_visible()
        else:
            expect(link).to_be_hidden()


def test_a_safety_officer_records_the_follow_up_of_a_flag_and_it_is_there_next_time(
    dashboard: OpenDashboard, stack: Stack, history: History, artifacts: Path
) -> None:
    crew_drift = next(item for item in signals(stack, history.big_crew)["items"]
                      if item["flagged"] and item["subject_id"] == history.big_crew)  # fmt: skip
    page = dashboard()
    view = open_signals(page)
    choose_crew(page, history.big_crew)
    card = card_of(view, crew_drift)
    review = card.get_by_test_id("signal-review")
    expect(review).to_have_text("Aucun suivi enregistré pour ce signal.")
    for unflagged in view.locator('[data-testid="signal-card"][data-flagged="false"]').all():
        expect(unflagged.get_by_test_id("signal-review")).to_have_count(0)  # nothing to follow up

    card.get_by_test_id("signal-review-toggle").click()
    card.get_by_label("Décision").select_option("action")
    card.get_by_label("Ce qui a été fait, ou ce qui explique le signal").fill("Bouchons moulés distribués")
    card.get_by_test_id("signal-review-save").click()
    expect(review).to_contain_text("Suivi : mesures prises ou prévues — admin, ")
    expect(review).to_contain_text("Bouchons moulés distribués")
    expect(review).to_be_focused()  # the reader is taken to what was recorded, the form folded away
    expect(card.get_by_test_id("signal-review-form")).to_be_hidden()
    expect(view.get_by_test_id("signals-status")).to_have_text("Suivi enregistré.")
    page.screenshot(path=artifacts / "signals-follow-up.png", full_page=True)
    check_accessibility(page, "signals-follow-up", artifacts)

    recorded = next(i for i in signals(stack, history.big_crew)["items"] if i["ref"] == crew_drift["ref"])
    assert recorded["review"]["outcome"] == "action" and recorded["review"]["by"] == "admin"

    # Next time, on another screen, in English: the follow-up is there, and the form starts from it.
    other = dashboard()
    toggle_language(other)
    again = open_signals(other)
    choose_crew(other, history.big_crew)
    card = card_of(again, crew_drift)
    expect(card.get_by_test_id("signal-review")).to_contain_text("Follow-up: measures taken or planned — admin, ")
    card.get_by_test_id("signal-review-toggle").click()
    expect(card.get_by_test_id("signal-review-outcome")).to_have_value("action")
    expect(card.get_by_test_id("signal-review-note")).to_have_value("Bouchons moulés distribués")

    # An outcome that needs a note, sent without one: the server's reason is shown and nothing changes.
    card.get_by_test_id("signal-review-outcome").select_option("explained")
    card.get_by_test_id("signal-review-note").fill("")
    card.get_by_test_id("signal-review-save").click()
    expect(card.get_by_test_id("signal-review-error")).to_contain_text("say in the note")
    expect(card.get_by_test_id("signal-review")).to_contain_text("measures taken or planned")

    # The worklist: only the flags nobody has followed up yet.
    items = signals(stack, history.big_crew)["items"]
    awaiting = [i for i in items if i["flagged"] and i["review"] is None]
    flagged = sum(i["flagged"] for i in items)
    expect(again.get_by_test_id("signals-status")).to_have_text(
        f"{len(items)} signals; flagged drifts: {flagged}, {len(awaiting)} without follow-up.")
    again.get_by_test_id("signals-open-only").check()
    expect(again.get_by_test_id("signal-card")).to_have_count(len(awaiting))
    expect(card).to_have_count(0)
