"""Accessibility of the dashboard's main views, in a real browser against the whole stack.

axe-core (bundled by ``axe-playwright-python``) checks the WCAG 2.1 A and AA rules it can check by itself
(contrast, labels and names, roles, lists, dialogs...) on the main view, the resolve dialog and the agent page,
in French and in English; a finding of impact "serious" or "critical" fails the test, and every finding is
printed. A second test handles an alert with the keyboard alone (WCAG 2.1.1 Keyboard, 2.4.3 Focus Order,
2.4.7 Focus Visible), checking at each step that the focus is on a control and visibly marked.
Screenshots go to ``test-artifacts/a11y-*.png``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.e2e import test_dashboard as dashboard_tests
from tests.e2e.test_dashboard import OpenDashboard, Stack, Wearer, alert_of, frame, unique_place

pytestmark = dashboard_tests.pytestmark

# The dashboard's fixtures, shared with its other tests.
browser = dashboard_tests.browser
artifacts = dashboard_tests.artifacts
dashboard = dashboard_tests.dashboard
wearer = dashboard_tests.wearer

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
MAX_TABS = 80  # more stops than this before the newest alert is itself a finding
MAX_CYCLE = 400  # a whole Tab cycle: every open alert of the session's stack has its buttons in it
AXE = Axe()


def check_accessibility(page: Page, name: str, artifacts: Path) -> None:
    """Runs axe on the whole page; fails on serious or critical findings, printing all of them."""
    page.screenshot(path=artifacts / f"a11y-{name}.png", full_page=True)
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]})
    violations: list[dict[str, Any]] = results.response["violations"]
    (artifacts / f"a11y-{name}.json").write_text(json.dumps(violations, indent=2, ensure_ascii=False))
    report = describe(violations)
    print(f"axe {results.response['testEngine']['version']} on {name}: {report or 'no findings'}")
    blocking = [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"accessibility findings on {name} (serious or critical ones fail):\n{report}"


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.extend(f"      {line}" for line in (node.get("failureSummary") or "").splitlines())
    return "\n".join(lines)


def switch_language(page: Page, language: str) -> None:
    if page.locator("html").get_attribute("lang") != language:
        page.get_by_test_id("lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def on_shift_with_an_sos_near_a_robot(dashboard: OpenDashboard, stack: Stack, wearer: Wearer) -> tuple[Page, Locator]:
    """The main view with the wearer on the crew board, a robot in the table and the wearer's SOS in the feed,
    once the new-alert flash is over (a pulsing background would make the contrast check read a mid-pulse)."""
    robot_id = f"robot-a11y-{uuid.uuid4().hex[:8]}"
    lat, lon = unique_place()  # the stack is shared: not where another test's robot stands
    stack.publish_frame(frame(wearer.device_id, 1, hr_bpm=92, battery_pct=77))
    page = dashboard()
    publisher = stack.publisher()
    try:
        publisher.robot({"v": 1, "robot_id": robot_id, "seq": 1, "ts": frame(wearer.device_id, 0)["ts"],
                         "kind": "follower", "pose": {"x_m": 0, "y_m": 0, "lat": lat + 1e-5, "lon": lon + 1e-5},
                         "speed_ms": 0.6})  # fmt: skip
    finally:
        publisher.close()
    expect(page.locator(f'[data-testid="robot-row"][data-robot-id="{robot_id}"]')).to_be_visible()
    stack.publish_frame(frame(wearer.device_id, 2, sos=True, hr_bpm=118, gps={"lat": lat, "lon": lon}))
    alert = alert_of(page, wearer)
    expect(alert).to_have_attribute("data-status", "raised", timeout=5000)
    expect(page.locator(".is-new")).to_have_count(0, timeout=6000)
    expect(page.locator("body.is-flashing")).to_have_count(0, timeout=6000)
    return page, alert


@pytest.mark.parametrize("language", ["fr", "en"])
def test_main_view_with_an_alert_and_a_robot_has_no_serious_accessibility_findings(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path, language: str
) -> None:
    page, _ = on_shift_with_an_sos_near_a_robot(dashboard, stack, wearer)
    switch_language(page, language)
    check_accessibility(page, f"main-{language}", artifacts)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_resolve_dialog_has_no_serious_accessibility_findings(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path, language: str
) -> None:
    page, alert = on_shift_with_an_sos_near_a_robot(dashboard, stack, wearer)
    switch_language(page, language)
    alert.get_by_test_id("resolve").click()
    expect(page.get_by_test_id("resolve-dialog")).to_be_visible()
    check_accessibility(page, f"resolve-dialog-{language}", artifacts)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_agent_page_has_no_serious_accessibility_findings(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path, language: str
) -> None:
    page, _ = on_shift_with_an_sos_near_a_robot(dashboard, stack, wearer)
    switch_language(page, language)
    page.evaluate("(agentId) => { location.hash = `#/agents/${encodeURIComponent(agentId)}`; }", wearer.agent_id)
    agent_page = page.get_by_test_id("agent-page")
    expect(agent_page).to_be_visible()
    expect(agent_page).to_contain_text(wearer.display_name)
    # Checked once the page has drawn what the API answered (its curves, or its message when there are none).
    page.wait_for_load_state("networkidle")
    check_accessibility(page, f"agent-page-{language}", artifacts)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_signals_view_has_no_serious_accessibility_findings(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path, language: str
) -> None:
    page, _ = on_shift_with_an_sos_near_a_robot(dashboard, stack, wearer)
    switch_language(page, language)
    page.get_by_test_id("signals-link").click()
    view = page.get_by_test_id("signals-page")
    expect(view).to_be_visible()
    # Checked once the view has drawn what the API answered (its cards, or its empty state).
    expect(view.get_by_test_id("signals-span")).to_be_visible()
    check_accessibility(page, f"signals-{language}", artifacts)


FOCUS_STATE = """() => {
    const element = document.activeElement;
    if (!element || element === document.body || element === document.documentElement) return null;
    const style = getComputedStyle(element);
    return {
        testid: element.dataset.testid ?? null,
        tag: element.tagName.toLowerCase(),
        text: (element.textContent || element.value || "").trim().slice(0, 60),
        inDialog: Boolean(element.closest("dialog[open]")),
        focusVisible: element.matches(":focus-visible"),
        outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
        alertId: element.closest("[data-alert-id]")?.dataset.alertId ?? null,
    };
}"""


def focused(page: Page, step: str) -> dict[str, Any]:
    """Where the keyboard focus is: it must be on an element, and visibly so (a 2 px outline or more)."""
    state: dict[str, Any] | None = page.evaluate(FOCUS_STATE)
    assert state is not None, f"{step}: the focus was lost to the page body"
    assert state["focusVisible"] and state["outline"], f"{step}: the focus is not visible on {state}"
    return state


def press(page: Page, key: str, step: str) -> dict[str, Any]:
    page.keyboard.press(key)
    return focused(page, f"{step} ({key})")


def test_a_live_update_between_pressing_and_releasing_space_does_not_swallow_the_keystroke(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer
) -> None:
    """Space activates a button on release. A comment heard live while the key is down redraws the alert;
    the button pressed must still be the one released on, or the supervisor's keystroke is lost."""
    page, alert = on_shift_with_an_sos_near_a_robot(dashboard, stack, wearer)
    alert.get_by_test_id("resolve").focus()
    page.keyboard.down("Space")
    response = stack.http.post(f"/api/v1/alerts/{alert.get_attribute('data-alert-id')}/comments",
                               json={"by": "Marc", "text": "j'arrive"})  # fmt: skip
    assert response.status_code in (200, 201), response.text
    expect(alert.get_by_test_id("alert-comment")).to_contain_text("j'arrive")
    page.keyboard.up("Space")
    expect(page.get_by_test_id("resolve-dialog")).to_be_visible()
    assert focused(page, "after the redraw")["inDialog"]
    page.keyboard.press("Escape")


def test_a_supervisor_acknowledges_and_resolves_an_alert_with_the_keyboard_alone(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    page, alert = on_shift_with_an_sos_near_a_robot(dashboard, stack, wearer)
    alert_id = alert.get_attribute("data-alert-id")
    page.locator("body").click(position={"x": 1, "y": 1})  # start from the top, as a person arriving would

    stops = []
    for _ in range(MAX_TABS):
        state = press(page, "Tab", "moving to the alert")
        stops.append(state["testid"] or state["tag"])
        if state["testid"] == "ack" and state["alertId"] == alert_id:
            break
    else:
        pytest.fail(f"the alert's acknowledge button is not reached in {MAX_TABS} Tab presses: {stops}")
    page.screenshot(path=artifacts / "a11y-keyboard-ack-focused.png")

    # Shift+Tab goes back to where we came from, and Tab returns: the order is the same both ways.
    if len(stops) > 1:
        assert press(page, "Shift+Tab", "going back")["testid"] == stops[-2]
        assert press(page, "Tab", "returning")["testid"] == "ack"

    press(page, "Enter", "acknowledging")
    expect(alert).to_have_attribute("data-status", "acknowledged")
    state = focused(page, "after acknowledging")
    assert state["alertId"] == alert_id, f"the focus left the alert once acknowledged: {state}"
    if state["testid"] != "resolve":
        state = press(page, "Tab", "moving to the resolve button")
    assert state["testid"] == "resolve", f"the resolve button should follow: {state}"

    dialog = page.get_by_test_id("resolve-dialog")
    state = press(page, "Space", "opening the resolve dialog")
    expect(dialog).to_be_visible()
    assert state["inDialog"], f"the dialog opened without the focus in it: {state}"
    press(page, "Escape", "closing the dialog")
    expect(dialog).to_be_hidden()
    state = focused(page, "after Escape")
    assert state["testid"] == "resolve" and state["alertId"] == alert_id, f"the focus did not come back: {state}"

    state = press(page, "Enter", "reopening the resolve dialog")
    expect(dialog).to_be_visible()
    for _ in range(6):  # the reason is the dialog's first control, but do not depend on it
        if state["testid"] == "resolve-reason":
            break
        state = press(page, "Tab", "moving to the reason")
    assert state["testid"] == "resolve-reason", f"the reason list is not reached: {state}"
    press(page, "ArrowDown", "picking a reason")
    expect(page.get_by_test_id("resolve-reason")).to_have_value("real_incident")
    for _ in range(6):
        state = press(page, "Tab", "moving to the confirm button")
        assert state["inDialog"], f"the focus left the open dialog: {state}"
        if state["testid"] == "resolve-confirm":
            break
    assert state["testid"] == "resolve-confirm", f"the confirm button is not reached: {state}"
    page.screenshot(path=artifacts / "a11y-keyboard-resolve-dialog.png")

    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(alert).to_have_attribute("data-status", "resolved")
    state = focused(page, "after resolving")
    assert state["alertId"] == alert_id, f"the focus should stay on the resolved alert: {state}"
    page.screenshot(path=artifacts / "a11y-keyboard-resolved.png")


def test_every_tab_stop_of_the_main_view_shows_where_the_focus_is(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer
) -> None:
    page, alert = on_shift_with_an_sos_near_a_robot(dashboard, stack, wearer)
    page.locator("body").click(position={"x": 1, "y": 1})
    first = press(page, "Tab", "first stop")
    stops = [first]
    left_the_page = 0
    for _ in range(MAX_CYCLE):
        page.keyboard.press("Tab")
        state: dict[str, Any] | None = page.evaluate(FOCUS_STATE)
        if state is None:
            # Past the last stop the browser moves the focus out of the page (to its own toolbar) once.
            left_the_page += 1
            assert left_the_page == 1, f"the focus fell on the page body between stops: {stops}"
            continue
        assert state["focusVisible"] and state["outline"], f"the focus is not visible on {state}"
        if state == first:
            break
        stops.append(state)
    else:
        pytest.fail(f"the Tab order did not come round in {MAX_CYCLE} presses: {stops}")
    reached = {stop["testid"] for stop in stops}
    assert {"lang-toggle", "ack", "resolve"} <= reached, f"controls missing from the Tab order: {reached}"
    assert any(stop["alertId"] == alert.get_attribute("data-alert-id") for stop in stops)
