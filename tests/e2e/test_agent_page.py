"""The agent page of the dashboard: today's exposure curves against their action and limit lines.

A real browser against the whole stack: frames with noise, vibration, heat and lifting go through the broker
and the exposure ledger, and the page draws what ``GET /api/v1/agents/{id}/exposure/today`` answers. One test
holds the API's answers back (``page.route``) to make them arrive out of order, which a real gateway cannot
be made to do on demand.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, Locator, Page, Route, expect

from tests.e2e import test_dashboard as dashboard_tests
from tests.e2e.test_dashboard import OpenDashboard, Stack, Wearer, tile_of
from tests.helpers import wait_until

pytestmark = dashboard_tests.pytestmark

# The dashboard's fixtures, shared with its other tests.
browser = dashboard_tests.browser
artifacts = dashboard_tests.artifacts
dashboard = dashboard_tests.dashboard
wearer = dashboard_tests.wearer

SITE_TZ = ZoneInfo("Europe/Paris")
EXPOSURE_URL = "**/api/v1/agents/*/exposure/today*"
SERIES = ["noise_dose_pct", "hav_points", "wbgt_c", "hr_bpm", "lifts", "tonnage_kg"]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def publish_worked_minutes(stack: Stack, device_id: str, minutes: int) -> int:
    """Publishes a few seconds of noisy, vibrating, hot work with a lift in each of the last `minutes` minutes
    of today (site time), the current one included; returns how many minutes fell on today."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    midnight = datetime.now(SITE_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [now - timedelta(minutes=back) for back in range(minutes - 1, -1, -1)]
    starts = [start for start in starts if start >= midnight]
    seq = 0
    for start in starts:
        for second in range(5):
            seq += 1
            stack.publish_frame({
                "v": 1, "device_id": device_id, "seq": seq, "ts": rfc3339(start + timedelta(seconds=second)),
                "hr_bpm": 104 + second, "noise": {"laeq_db": 97.0}, "hav": {"tool_id": "trimmer-3", "ahv_ms2": 9.0,
                "trigger_s": 1.0}, "env": {"temp_c": 31.0, "rh_pct": 50, "globe_temp_c": 38.0},
                **({"lift": {"count": 1, "load_kg": 22.0}} if second == 0 else {}),
            })  # fmt: skip
    return len(starts)


def exposure_today(stack: Stack, agent_id: str) -> dict[str, Any]:
    response = stack.http.get(f"/api/v1/agents/{agent_id}/exposure/today")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def open_agent_page(page: Page, agent_id: str) -> None:
    """Opens the page as a crew-board tile or a map marker does."""
    page.evaluate("""async (agentId) => {
        const { openAgentPage } = await import(new URL("agent.js", document.baseURI).href);
        openAgentPage(agentId);
    }""", agent_id)  # fmt: skip


def toggle_language(page: Page) -> None:
    """What the header's toggle does; the toggle itself is behind the modal page."""
    page.evaluate("""async () => {
        const { toggleLang } = await import(new URL("i18n.js", document.baseURI).href);
        toggleLang();
    }""")  # fmt: skip


def chart(page: Page, series: str) -> Locator:
    return page.locator(f'[data-testid="exposure-chart"][data-series="{series}"] svg')


def spaced(text: str) -> str:
    """Intl puts no-break spaces in numbers and before units: compare texts with plain spaces."""
    return re.sub(r"[\u00a0\u202f]", " ", text)


def test_agent_page_shows_todays_curves_against_the_action_and_limit_lines(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    worked = publish_worked_minutes(stack, wearer.device_id, minutes=4)

    def ledgered() -> dict[str, Any] | None:
        body = exposure_today(stack, wearer.agent_id)
        lifts = body["series"]["lifts"]
        return body if len(lifts) >= worked and lifts[-1] >= worked else None

    exposure = wait_until(ledgered, timeout_s=15, message="the ledger has every minute worked")
    assert exposure is not None
    minutes = len(exposure["series"]["t"])
    page = dashboard()
    toggle = page.get_by_test_id("lang-toggle")
    toggle.focus()

    open_agent_page(page, wearer.agent_id)
    agent_page = page.get_by_test_id("agent-page")
    expect(agent_page).to_be_visible()
    expect(page).to_have_url(re.compile(f"#/agents/{wearer.agent_id}$"))
    title = agent_page.get_by_test_id("agent-page-title")
    expect(title).to_have_text(wearer.display_name)
    expect(title).to_be_focused()
    expect(agent_page).to_contain_text(f"Équipe {wearer.crew_id}")

    expect(agent_page.get_by_test_id("exposure-panel")).to_have_count(4)
    for series in SERIES:
        known = sum(value is not None for value in exposure["series"][series])
        expect(chart(page, series)).to_have_attribute("data-points", str(known))
    noise = page.locator('[data-testid="exposure-panel"][data-panel="noise"]')
    upper = noise.locator('[data-line-key="upper_action"]')
    expect(upper).to_have_count(1)
    expect(upper).to_contain_text("valeur d'action supérieure (85 dB(A))")
    expect(noise.locator('[data-line-key="limit"]')).to_contain_text("valeur limite (87 dB(A) à l'oreille)")
    expect(page.locator('[data-testid="exposure-panel"][data-panel="hav"] [data-line-key="limit"]')).to_have_count(1)
    expect(chart(page, "noise_dose_pct").locator("desc")).to_contain_text(f"{minutes} minutes mesurées")

    noise.get_by_text("Voir les données").click()
    rows = noise.locator("tbody tr")
    expect(rows).to_have_count(minutes)
    last_dose = f"{exposure['series']['noise_dose_pct'][-1]:.1f}".replace(".", ",").removesuffix(",0")
    assert spaced(rows.last.locator("td").inner_text()) == f"{last_dose} %"

    report = agent_page.get_by_test_id("agent-report")
    expect(report).to_have_text("Rapport d'exposition (PDF)")
    href = report.get_attribute("href")
    assert href is not None and f"agent_id={wearer.agent_id}" in href and "format=pdf" in href and "lang=fr" in href
    with page.expect_download(timeout=30_000) as download:
        report.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    # The summary follows the live record.
    stack.publish_frame({"v": 1, "device_id": wearer.device_id, "seq": 1000, "ts": rfc3339(datetime.now(UTC)),
                         "hr_bpm": 131})  # fmt: skip
    expect(agent_page.get_by_test_id("agent-summary")).to_contain_text("131 bpm", timeout=5000)
    page.set_viewport_size({"width": 1400, "height": 1700})  # the whole page in one picture
    page.screenshot(path=artifacts / "agent-page.png")

    toggle_language(page)
    expect(noise.get_by_role("heading", name="Noise")).to_be_visible()
    expect(upper).to_contain_text("upper exposure action value (85 dB(A))")
    expect(noise.get_by_text("Show data")).to_be_visible()
    expect(report).to_have_text("Exposure report (PDF)")
    assert "lang=en" in (report.get_attribute("href") or "")
    expect(agent_page.get_by_test_id("agent-page-close")).to_have_text("Close")
    page.screenshot(path=artifacts / "agent-page-en.png")

    page.keyboard.press("Escape")
    expect(agent_page).to_be_hidden()
    expect(page).to_have_url(f"{stack.http_url}/")
    expect(toggle).to_be_focused()


def test_the_curves_follow_the_day_while_the_page_is_open(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer
) -> None:
    def minutes_ledgered() -> int:
        return len(exposure_today(stack, wearer.agent_id)["series"]["t"])

    worked = publish_worked_minutes(stack, wearer.device_id, minutes=2)
    wait_until(lambda: minutes_ledgered() >= worked, timeout_s=15, message="the ledger has the minutes worked")
    page = dashboard(prepare=lambda context: context.clock.install())
    open_agent_page(page, wearer.agent_id)
    noise = chart(page, "noise_dose_pct")
    expect(noise).to_have_attribute("data-points", str(minutes_ledgered()))

    # The next minute of work (a frame may be stamped up to 5 min ahead), then the page's minute goes by.
    next_minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    stack.publish_frame({"v": 1, "device_id": wearer.device_id, "seq": 500, "ts": rfc3339(next_minute),
                         "noise": {"laeq_db": 97.0}})  # fmt: skip
    wait_until(lambda: minutes_ledgered() > worked, timeout_s=15, message="the ledger has the new minute")
    expect(noise).to_have_attribute("data-points", str(worked))
    page.clock.fast_forward(61_000)
    expect(noise).to_have_attribute("data-points", str(worked + 1))


def test_an_agent_without_data_today_gets_a_clear_message_and_back_closes_the_page(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer
) -> None:
    page = dashboard()
    tile = tile_of(page, wearer.agent_id)
    tile.click()
    agent_page = page.get_by_test_id("agent-page")
    expect(agent_page.get_by_test_id("agent-page-message")).to_have_text("Aucune donnée aujourd'hui.")
    expect(agent_page.get_by_test_id("exposure-panel")).to_have_count(0)

    page.go_back()
    expect(agent_page).to_be_hidden()
    expect(page).to_have_url(f"{stack.http_url}/")

    expect(tile).to_be_focused()

    page.go_forward()
    expect(agent_page).to_be_visible()
    agent_page.get_by_test_id("agent-page-close").click()
    expect(agent_page).to_be_hidden()
    expect(page).to_have_url(f"{stack.http_url}/")


def test_an_unknown_agent_shows_an_error_and_the_page_still_closes(
    dashboard: OpenDashboard, stack: Stack, artifacts: Path
) -> None:
    page = dashboard()
    # Opened from a link (the address typed or bookmarked), then reloaded: the page opens on load.
    page.goto(f"{stack.http_url}/#/agents/nobody-here")
    page.reload()
    agent_page = page.get_by_test_id("agent-page")
    expect(agent_page).to_be_visible()
    error = agent_page.get_by_role("alert")
    expect(error).to_contain_text("Agent inconnu : nobody-here.")
    expect(error.get_by_role("button", name="Réessayer")).to_be_visible()
    expect(agent_page.get_by_test_id("exposure-panel")).to_have_count(0)
    page.screenshot(path=artifacts / "agent-page-unknown.png")

    error.get_by_role("button", name="Réessayer").click()
    expect(error).to_contain_text("Agent inconnu")
    page.keyboard.press("Escape")
    expect(agent_page).to_be_hidden()
    expect(page).to_have_url(f"{stack.http_url}/")


def stub_day(agent_id: str, minutes: int) -> dict[str, Any]:
    """An answer in the API's shape, `minutes` minutes long, for a test that holds answers back."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=minutes)
    return {
        "agent_id": agent_id, "display_name": "Agent Témoin", "day": datetime.now(SITE_TZ).date().isoformat(),
        "timezone": "Europe/Paris",
        "series": {"t": [rfc3339(start + timedelta(minutes=k)) for k in range(minutes)],
                   "noise_dose_pct": [2.0 * (k + 1) for k in range(minutes)],
                   "hav_points": [3.0 * (k + 1) for k in range(minutes)],
                   "wbgt_c": [27.0] * minutes, "hr_bpm": [100.0] * minutes,
                   "lifts": list(range(minutes)), "tonnage_kg": [20.0 * k for k in range(minutes)]},
        "lines": {"noise_dose_pct": [{"key": "lower_action", "value": 31.6}, {"key": "upper_action", "value": 100},
                                     {"key": "limit", "value": 158.5}],
                  "hav_points": [{"key": "action", "value": 100}, {"key": "limit", "value": 400}],
                  "wbgt_c": [{"key": "reference", "value": 28.0}], "hr_bpm": [], "lifts": [], "tonnage_kg": []},
    }  # fmt: skip


def test_a_slow_older_answer_does_not_replace_a_newer_one(dashboard: OpenDashboard) -> None:
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    def hold_answers_back(context: BrowserContext) -> None:
        context.route(EXPOSURE_URL, hold)

    page = dashboard(prepare=hold_answers_back)

    def wait_for_requests(count: int) -> None:
        deadline = time.monotonic() + 5
        while len(held) < count:
            assert time.monotonic() < deadline, f"{len(held)} exposure requests, expected {count}"
            page.wait_for_timeout(20)  # lets Playwright hand the held requests over

    open_agent_page(page, "agent-witness")
    wait_for_requests(1)
    held[0].fulfill(status=503, content_type="application/json", body=json.dumps({"detail": "starting"}))
    retry = page.get_by_test_id("agent-page-error").get_by_role("button", name="Réessayer")
    expect(page.get_by_test_id("agent-page-error")).to_contain_text("erreur 503")
    # An impatient supervisor clicks twice; the first answer is slow and comes last.
    retry.click()
    wait_for_requests(2)
    retry.click()
    wait_for_requests(3)

    older, newer = held[1:]
    newer.fulfill(status=200, content_type="application/json", body=json.dumps(stub_day("agent-witness", 12)))
    noise = chart(page, "noise_dose_pct")
    expect(noise).to_have_attribute("data-points", "12")
    expect(page.get_by_test_id("agent-page-error")).to_be_hidden()
    older.fulfill(status=200, content_type="application/json", body=json.dumps(stub_day("agent-witness", 3)))
    page.wait_for_timeout(500)  # time for the older answer to be (wrongly) drawn
    expect(noise).to_have_attribute("data-points", "12")
    expect(page.get_by_test_id("agent-page-title")).to_have_text("Agent Témoin")
