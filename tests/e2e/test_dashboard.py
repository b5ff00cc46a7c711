"""The supervisors' dashboard, in a real browser, against the whole stack (gateway, Mosquitto, TimescaleDB).

Debian's Chromium is driven by Playwright (never ``playwright install``). Each browser context is one
supervisor's screen, with its own storage. Screenshots of every state go to ``test-artifacts/`` at the
repository root, for a person to look at after the run.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, WebSocketRoute, expect, sync_playwright

from tests.gateway_harness import Publisher
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LIVE_URL = "**/api/v1/live"
REST_URL = "**/api/v1/**"


class Stack(Protocol):
    """What the session fixture ``stack`` (tests/e2e/conftest.py) offers these tests."""

    http_url: str
    token: str
    http: httpx.Client
    mqtt_host: str
    mqtt_port: int

    def publish_frame(self, payload: dict[str, Any]) -> None: ...

    def publisher(self) -> Publisher: ...

    def assign(self, device_id: str, agent_id: str, display_name: str, crew_id: str) -> None: ...


@dataclass(frozen=True)
class Wearer:
    device_id: str
    agent_id: str
    display_name: str
    crew_id: str


OpenDashboard = Callable[..., Page]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def dashboard(browser: Browser, stack: Stack) -> Iterator[OpenDashboard]:
    """Opens the dashboard on a new supervisor's screen and waits until it is live.

    ``prepare(context)`` runs before the page loads (to install routes). The test fails if any page
    threw an uncaught error.
    """
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_dashboard(prepare: Callable[[BrowserContext], None] | None = None) -> Page:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        contexts.append(context)
        # Signed in as the demo's admin (the login dialog itself is tested in test_dashboard_login.py).
        context.add_init_script(f"sessionStorage.setItem('vigie.token', {json.dumps(stack.token)})")
        if prepare is not None:
            prepare(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{stack.http_url}/")
        expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "open")
        return page

    yield open_dashboard
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


@pytest.fixture
def wearer(stack: Stack) -> Wearer:
    """A newly registered agent wearing a new device, with random ids so tests never share one."""
    suffix = uuid.uuid4().hex[:8]
    registered = Wearer(device_id=f"wear-e2e-{suffix}", agent_id=f"agent-e2e-{suffix}",
                        display_name=f"Camille Essai {suffix}", crew_id=f"crew-e2e-{suffix}")  # fmt: skip
    stack.assign(registered.device_id, registered.agent_id, registered.display_name, registered.crew_id)
    return registered


def frame(device_id: str, seq: int, **fields: Any) -> dict[str, Any]:
    """A contract v1 frame stamped now (UTC)."""
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"v": 1, "device_id": device_id, "seq": seq, "ts": ts, **fields}


def unique_place() -> tuple[float, float]:
    """A random point in the north-east of Paris (about 3 × 2 km), so that tests sharing the stack never meet
    within a link distance (30 m) of each other's robots, and stay clear of the map tests' own places (the
    Hôtel de Ville and the 15e) where a click on the canvas must hit their marker."""
    return 48.87 + random.random() * 0.02, 2.36 + random.random() * 0.04


def alert_of(page: Page, wearer: Wearer) -> Locator:
    return page.locator(f'[data-testid="alert"][data-agent-id="{wearer.agent_id}"]')


def tile_of(page: Page, agent_id: str) -> Locator:
    """The agent's crew-board tile. The board is virtualised (only tiles in view exist): scroll to it first."""
    reveal = """async (agentId) => {
        const { revealAgent } = await import(new URL("crew.js", document.baseURI).href);
        return revealAgent(agentId) !== null;
    }"""
    wait_until(lambda: page.evaluate(reveal, agent_id), message=f"the crew board has a tile for {agent_id}")
    return page.locator(f'[data-testid="agent-tile"][data-agent-id="{agent_id}"]')


def test_dashboard_loads_in_french_and_shows_the_crew_board(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    stack.publish_frame(frame(wearer.device_id, 1, hr_bpm=96, battery_pct=81))
    page = dashboard()

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Alertes")).to_be_visible()
    expect(page.get_by_test_id("connection-state")).to_have_text("En direct")
    expect(page.get_by_test_id("lang-toggle")).to_have_text("English")
    board = page.get_by_test_id("crew-board")
    tile = tile_of(page, wearer.agent_id)
    expect(board.get_by_role("heading", name=f"Équipe {wearer.crew_id}")).to_be_visible()
    expect(tile).to_contain_text(wearer.display_name)
    expect(tile).to_contain_text("96 bpm")
    expect(tile).to_contain_text("81 %")
    page.screenshot(path=artifacts / "dashboard-fr.png", full_page=True)


def test_sos_appears_live_and_its_handling_shows_on_another_screen(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    supervisor = dashboard()
    observer = dashboard()
    # Signed in, the page signs actions with the account (the server records it; no name field to fill).
    expect(supervisor.get_by_test_id("supervisor-name")).to_be_hidden()

    stack.publish_frame(frame(wearer.device_id, 1, sos=True, hr_bpm=120))
    alert, seen = alert_of(supervisor, wearer), alert_of(observer, wearer)
    expect(alert).to_be_visible(timeout=2000)
    expect(seen).to_be_visible(timeout=2000)
    expect(alert).to_have_attribute("data-status", "raised")
    expect(alert).to_have_attribute("data-severity", "critical")
    expect(alert).to_contain_text("SOS")
    expect(alert).to_contain_text(wearer.display_name)
    supervisor.screenshot(path=artifacts / "sos-raised.png", full_page=True)

    alert.get_by_test_id("ack").click()
    expect(alert).to_have_attribute("data-status", "acknowledged")
    expect(alert.get_by_test_id("ack")).to_have_count(0)
    expect(seen).to_have_attribute("data-status", "acknowledged")
    expect(seen).to_contain_text("Prise en charge par admin")
    supervisor.screenshot(path=artifacts / "sos-acknowledged.png", full_page=True)
    observer.screenshot(path=artifacts / "sos-acknowledged-other-screen.png", full_page=True)

    alert.get_by_test_id("resolve").click()
    dialog = supervisor.get_by_test_id("resolve-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("resolve-reason").select_option("test")
    dialog.get_by_test_id("resolve-comment").fill("Exercice de bout en bout")
    supervisor.screenshot(path=artifacts / "sos-resolve-dialog.png")
    dialog.get_by_test_id("resolve-confirm").click()
    expect(dialog).to_be_hidden()
    expect(alert).to_have_attribute("data-status", "resolved")
    expect(seen).to_have_attribute("data-status", "resolved")
    expect(seen).to_contain_text("Close par admin")
    expect(seen.get_by_test_id("resolve")).to_have_count(0)
    supervisor.screenshot(path=artifacts / "sos-resolved.png", full_page=True)
    observer.screenshot(path=artifacts / "sos-resolved-other-screen.png", full_page=True)


def test_sos_near_a_robot_shows_the_linked_robot_and_the_latest_comment(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    robot_id = f"robot-e2e-{uuid.uuid4().hex[:8]}"
    # A place of this test's own: the stack is shared, and an incident links the *nearest* robot.
    lat, lon = unique_place()
    page = dashboard()
    publisher = stack.publisher()
    try:
        publisher.robot({"v": 1, "robot_id": robot_id, "seq": 1, "ts": frame(wearer.device_id, 0)["ts"],
                         "kind": "follower", "pose": {"x_m": 0, "y_m": 0, "lat": lat + 1e-5, "lon": lon + 1e-5},
                         "speed_ms": 1.0})  # fmt: skip
    finally:
        publisher.close()
    expect(page.locator(f'[data-testid="robot-row"][data-robot-id="{robot_id}"]')).to_be_visible()

    stack.publish_frame(frame(wearer.device_id, 1, sos=True, gps={"lat": lat, "lon": lon}))
    alert = alert_of(page, wearer)
    linked = alert.get_by_test_id("alert-robot")
    expect(linked).to_be_visible(timeout=2000)
    expect(linked).to_contain_text(robot_id)
    expect(linked).to_contain_text("follower")
    expect(linked).to_contain_text("mis en pause")

    alert_id = alert.get_attribute("data-alert-id")
    response = stack.http.post(f"/api/v1/alerts/{alert_id}/comments", json={"by": "Marc", "text": "on my way"})
    assert response.status_code == 201, response.text
    comment = alert.get_by_test_id("alert-comment")
    expect(comment).to_contain_text("Marc")
    expect(comment).to_contain_text("on my way")
    page.screenshot(path=artifacts / "sos-near-robot-commented.png", full_page=True)


def test_language_toggle_switches_to_english_and_back_and_is_remembered(
    dashboard: OpenDashboard, artifacts: Path
) -> None:
    page = dashboard()
    toggle = page.get_by_test_id("lang-toggle")

    toggle.focus()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Crews")).to_be_visible()
    expect(page.get_by_test_id("connection-state")).to_have_text("Live")
    expect(toggle).to_have_text("Français")
    page.screenshot(path=artifacts / "dashboard-en.png", full_page=True)

    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()

    toggle.click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Équipes")).to_be_visible()
    expect(toggle).to_have_text("English")
    page.screenshot(path=artifacts / "dashboard-fr-again.png", full_page=True)


def test_banner_shows_while_disconnected_and_what_was_missed_appears_on_reconnect(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    gateway = {"reachable": True}
    sockets: list[WebSocketRoute] = []

    def live(ws: WebSocketRoute) -> None:
        if gateway["reachable"]:
            ws.connect_to_server()
            sockets.append(ws)
        else:
            ws.close(code=1012, reason="service restart")

    def rest(route: Route) -> None:
        if gateway["reachable"]:
            route.continue_()
        else:
            route.abort("connectionrefused")

    def through_a_switchable_gateway(context: BrowserContext) -> None:
        context.route_web_socket(LIVE_URL, live)
        context.route(REST_URL, rest)

    page = dashboard(prepare=through_a_switchable_gateway)
    banner = page.get_by_test_id("connection-banner")
    expect(banner).to_be_hidden()

    gateway["reachable"] = False
    sockets[-1].close(code=1012, reason="service restart")
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Connexion perdue — reconnexion…")
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "lost")

    stack.publish_frame(frame(wearer.device_id, 1, sos=True))
    open_alerts = f"/api/v1/alerts?status=open&agent_id={wearer.agent_id}"
    wait_until(lambda: stack.http.get(open_alerts).json()["items"], message="the gateway raised the SOS")
    expect(alert_of(page, wearer)).to_have_count(0)
    page.screenshot(path=artifacts / "connection-lost.png", full_page=True)

    gateway["reachable"] = True
    expect(banner).to_be_hidden(timeout=20_000)
    alert = alert_of(page, wearer)
    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("data-status", "raised")
    page.screenshot(path=artifacts / "reconnected.png", full_page=True)

    alert.get_by_test_id("resolve").click()
    page.get_by_test_id("resolve-reason").select_option("test")
    page.get_by_test_id("resolve-confirm").click()
    expect(alert).to_have_attribute("data-status", "resolved")


def test_every_string_on_the_page_is_in_both_catalogues(dashboard: OpenDashboard) -> None:
    page = dashboard()
    problems = page.evaluate(
        """async () => {
            const { CATALOGUE } = await import(new URL("i18n.js", document.baseURI).href);
            const fr = Object.keys(CATALOGUE.fr), en = Object.keys(CATALOGUE.en);
            const used = [...document.querySelectorAll("[data-i18n]")].map((element) => element.dataset.i18n);
            return {
                only_fr: fr.filter((key) => !(key in CATALOGUE.en)),
                only_en: en.filter((key) => !(key in CATALOGUE.fr)),
                missing: used.filter((key) => !(key in CATALOGUE.fr)),
            };
        }"""
    )
    assert problems == {"only_fr": [], "only_en": [], "missing": []}
