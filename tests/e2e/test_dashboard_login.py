"""Signing in to the dashboard: the login dialog, a supervisor's scoped board, signing out (real stack, Chromium)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_dashboard import ARTIFACTS, Stack, browser, frame, tile_of  # noqa: F401 (browser: fixture)

REVEAL = """async (agentId) => {
    const { revealAgent } = await import(new URL("crew.js", document.baseURI).href);
    return revealAgent(agentId) !== null;
}"""

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:  # noqa: F811
    """A fresh screen with no token: the page must ask who we are."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(f"{stack.http_url}/")
    yield opened
    context.close()
    assert errors == []


def sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def test_a_supervisor_signs_in_and_sees_only_their_crews(page: Page, stack: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    mine, other = f"agent-login-{suffix}-a", f"agent-login-{suffix}-b"
    stack.assign(f"wear-login-{suffix}-a", mine, f"Mine {suffix}", "crew-01")  # the demo supervisor's crew
    stack.assign(f"wear-login-{suffix}-b", other, f"Other {suffix}", f"crew-login-{suffix}")
    for device in (f"wear-login-{suffix}-a", f"wear-login-{suffix}-b"):
        stack.publish_frame(frame(device, 1, hr_bpm=90))

    dialog = page.get_by_test_id("login-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("connection-state")).not_to_have_attribute("data-state", "open")
    page.screenshot(path=ARTIFACTS / "login.png")

    sign_in(page, "superviseur", "not the password")
    expect(page.get_by_test_id("login-error")).to_have_text("Identifiant ou mot de passe incorrect.")

    sign_in(page, "superviseur", stack.endpoints["users"]["superviseur"]["password"])
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("user-name")).to_have_text("superviseur (superviseur)")
    expect(tile_of(page, mine)).to_be_visible()
    # Not merely scrolled out of view (the board is virtualised): the board does not know this agent at all.
    assert page.evaluate(REVEAL, other) is False
    page.screenshot(path=ARTIFACTS / "login-supervisor-board.png")

    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-dialog")).to_be_visible()


def test_a_safety_officer_is_not_offered_alert_actions(page: Page, stack: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    device, agent = f"wear-officer-{suffix}", f"agent-officer-{suffix}"
    stack.assign(device, agent, f"Named Person {suffix}", "crew-01")
    sign_in(page, "preventeur", stack.endpoints["users"]["preventeur"]["password"])
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "open")
    stack.publish_frame(frame(device, 1, sos=True))
    alert = page.locator('[data-testid="alert"]').filter(has_text="agent-")
    expect(alert.first).to_be_visible()
    expect(page.get_by_text(f"Named Person {suffix}")).to_have_count(0)  # pseudonymised
    expect(alert.first.get_by_test_id("ack")).to_be_hidden()
    page.screenshot(path=Path(ARTIFACTS) / "login-officer.png")


def test_a_screen_waiting_for_sign_in_stops_knocking_and_connects_at_once_when_signed_in(
    browser: Browser, stack: Stack  # noqa: F811
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    sockets: list[str] = []
    screen = context.new_page()
    screen.on("websocket", lambda socket: sockets.append(socket.url))
    screen.goto(f"{stack.http_url}/")
    expect(screen.get_by_test_id("login-dialog")).to_be_visible()
    # The refused socket (4401) is not retried in a loop while nobody has signed in (the backoff would
    # otherwise have grown to seconds, delaying the feed after sign-in by as much).
    screen.wait_for_timeout(3_000)
    assert len(sockets) == 1
    sign_in(screen, "superviseur", stack.endpoints["users"]["superviseur"]["password"])
    expect(screen.get_by_test_id("connection-state")).to_have_attribute("data-state", "open", timeout=2_000)
    assert len(sockets) == 2
    context.close()
