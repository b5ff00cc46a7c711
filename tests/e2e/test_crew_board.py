"""The crew board at city scale, in a real browser against the whole stack.

The board is virtualised: only the tiles in view exist in the DOM, so a test first asks the board to scroll
to an agent (``revealAgent`` in crew.js, as the page itself would) and then looks at the tile.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from tests.e2e import test_dashboard as dashboard_tests
from tests.e2e.test_dashboard import LIVE_URL, OpenDashboard, Stack, Wearer, alert_of, frame, tile_of
from tests.helpers import wait_until

pytestmark = dashboard_tests.pytestmark

# The dashboard's fixtures, shared with its other tests.
browser = dashboard_tests.browser
artifacts = dashboard_tests.artifacts
dashboard = dashboard_tests.dashboard
wearer = dashboard_tests.wearer

SITE_TZ = ZoneInfo("Europe/Paris")
WORKED_S = 960  # past the 900 s of data the server wants before it projects a dose to the end of the shift
MAX_TILES_IN_DOM = 150


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def spaced(text: str) -> str:
    """Intl puts no-break spaces in numbers and before units: compare texts with plain, single spaces."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def fr_integer(value: float) -> str:
    """A number as the French page shows it with no decimals ("3 162"): Intl rounds halves up."""
    rounded = int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return f"{rounded:,}".replace(",", " ")


def is_on_the_board(page: Page, agent_id: str) -> bool:
    """Whether the board lists the agent under its current filters (revealAgent finds a tile)."""
    found: bool = page.evaluate("""async (agentId) => {
        const { revealAgent } = await import(new URL("crew.js", document.baseURI).href);
        return revealAgent(agentId) !== null;
    }""", agent_id)  # fmt: skip
    return found


def tiles_in_dom(page: Page) -> int:
    return page.locator('[data-testid="agent-tile"]').count()


def register(stack: Stack, agent_id: str, display_name: str, crew_id: str) -> None:
    stack.http.put(f"/api/v1/agents/{agent_id}", json={"display_name": display_name, "crew_id": crew_id}
                   ).raise_for_status()  # fmt: skip


def another_wearer(stack: Stack) -> Wearer:
    suffix = uuid.uuid4().hex[:8]
    second = Wearer(device_id=f"wear-e2e-{suffix}", agent_id=f"agent-e2e-{suffix}",
                    display_name=f"Dominique Essai {suffix}", crew_id=f"crew-e2e-{suffix}")  # fmt: skip
    stack.assign(second.device_id, second.agent_id, second.display_name, second.crew_id)
    return second


def test_a_tile_shows_todays_noise_dose_and_hav_points_with_their_projection(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    if (datetime.now(SITE_TZ) - timedelta(seconds=WORKED_S + 60)).date() != datetime.now(SITE_TZ).date():
        pytest.skip("the worked seconds would straddle the site's midnight")
    page = dashboard()
    tile = tile_of(page, wearer.agent_id)
    # 16 minutes of a loud, vibrating tool: 100 dB(A) is past the 85 dB(A) daily dose in 16 min (105 %),
    # and 10 m/s² for 16 min projects past the 400-point limit by the end of the shift.
    now = datetime.now(UTC).replace(microsecond=0)
    for back in range(WORKED_S, 0, -1):
        stack.publish_frame({"v": 1, "device_id": wearer.device_id, "seq": WORKED_S - back + 1,
                             "ts": rfc3339(now - timedelta(seconds=back - 1)), "hr_bpm": 101,
                             "noise": {"laeq_db": 100.0}, "hav": {"tool_id": "breaker-1", "ahv_ms2": 10.0,
                             "trigger_s": 1.0}})  # fmt: skip

    def exposure() -> dict[str, Any]:
        today: dict[str, Any] = stack.http.get(f"/api/v1/agents/{wearer.agent_id}").json()["exposure_today"] or {}
        return today if today.get("worked_s", 0) >= WORKED_S else {}

    server = wait_until(exposure, timeout_s=30, interval_s=0.2, message="the server counted the worked seconds")
    assert server["noise_dose_pct"] >= 100 and server["hav_points"] < 100 and server["hav_points_projected"] >= 400

    # What the server says, as the tile shows it: today's value → the projection, and at or over a threshold
    # a sign and a word (a screen reader hears the arrow as "projected at end of shift"), never only a colour.
    noise = (f"▲{fr_integer(server['noise_dose_pct'])} (valeur d'action atteinte) → prévu en fin de poste : "
             f"▲{fr_integer(server['noise_dose_projected_pct'])} % (valeur d'action atteinte)")  # fmt: skip
    hav = (f"{fr_integer(server['hav_points'])} → prévu en fin de poste : "
           f"▲▲{fr_integer(server['hav_points_projected'])} pts (valeur limite atteinte)")  # fmt: skip
    shown = {"tile-noise": noise, "tile-hav": hav, "tile-hr": "101 bpm"}
    wait_until(lambda: {key: spaced(tile.get_by_test_id(key).inner_text()) for key in shown} == shown, timeout_s=10,
               message="the tile shows the server's exposure")  # fmt: skip
    page.locator(".panel--crews").screenshot(path=artifacts / "crew-board.png")


def test_a_tile_turns_alert_on_the_alert_itself_before_the_next_agents_changed(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    holding = {"agents.changed": False}
    held: list[str] = []
    sockets: list[WebSocketRoute] = []

    def live(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            kind = json.loads(message).get("type") if isinstance(message, str) else None
            if kind == "agents.changed" and holding["agents.changed"]:
                held.append(str(message))
            else:
                ws.send(message)

        server.on_message(from_server)

    def holding_agents_changed(context: BrowserContext) -> None:
        context.route_web_socket(LIVE_URL, live)

    page = dashboard(prepare=holding_agents_changed)
    stack.publish_frame(frame(wearer.device_id, 1, hr_bpm=92))
    tile = tile_of(page, wearer.agent_id)
    expect(tile).to_have_attribute("data-status", "ok")

    holding["agents.changed"] = True
    stack.publish_frame(frame(wearer.device_id, 2, sos=True, hr_bpm=125))
    expect(alert_of(page, wearer)).to_be_visible()
    expect(tile).to_have_attribute("data-status", "alert")
    expect(tile.locator(".status-chip")).to_have_text("En alerte")

    # No agents.changed reached the page since the SOS: the tile turned on alert.raised alone. The server's
    # own update, held here, says the same and still has the last word.
    def server_sent_the_agents_new_state() -> bool:
        page.wait_for_timeout(50)  # Playwright hands over WebSocket messages only while it is called
        return any(wearer.agent_id in message for message in held)

    wait_until(server_sent_the_agents_new_state, timeout_s=5)
    assert tile.get_attribute("data-status") == "alert"
    page.locator(".panel--crews").screenshot(path=artifacts / "crew-board-alert.png")

    holding["agents.changed"] = False
    for message in held:
        sockets[-1].send(message)
    expect(tile).to_have_attribute("data-status", "alert")
    expect(tile.get_by_test_id("tile-hr")).to_have_text("125 bpm")


def test_hundreds_of_agents_keep_a_bounded_number_of_tiles_and_scrolling_reveals_them(
    dashboard: OpenDashboard, stack: Stack, artifacts: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    # Crews named to sort after the other tests' crews, so the boards those tests open start as before.
    agents = [(f"bulk-{suffix}-{n:03d}", f"Agent Volume {n:03d}", f"zz-bulk-{suffix}-{n // 40}") for n in range(320)]
    for agent_id, name, crew_id in agents:
        register(stack, agent_id, name, crew_id)
    last_id = agents[-1][0]

    page = dashboard()
    board = page.get_by_test_id("crew-board")
    assert 0 < tiles_in_dom(page) < MAX_TILES_IN_DOM
    shown = int(re.sub(r"\D", "", page.get_by_test_id("crew-shown").inner_text()))
    assert shown >= 320
    expect(page.locator(f'[data-agent-id="{last_id}"]')).to_have_count(0)

    last = page.locator(f'[data-agent-id="{last_id}"]')

    def last_tile_shows_in_the_board() -> bool:
        if not last.count():
            return False
        tile_box, board_box = last.bounding_box(), board.bounding_box()
        assert tile_box is not None and board_box is not None
        return (
            board_box["y"] <= tile_box["y"]
            and tile_box["y"] + tile_box["height"] <= board_box["y"] + board_box["height"]
        )

    board.hover()
    for _ in range(400):  # wheel as a person would, down to the end of the board
        if last_tile_shows_in_the_board():
            break
        page.mouse.wheel(0, 1000)
        page.wait_for_timeout(20)
    assert last_tile_shows_in_the_board()
    assert tiles_in_dom(page) < MAX_TILES_IN_DOM
    assert float(board.get_attribute("data-render-ms") or "nan") >= 0
    board.screenshot(path=artifacts / "crew-board-scrolled.png")


def test_alerts_only_and_the_name_filter_narrow_the_board(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    in_alert = another_wearer(stack)
    stack.publish_frame(frame(wearer.device_id, 1, hr_bpm=80))
    stack.publish_frame(frame(in_alert.device_id, 1, sos=True))
    page = dashboard()
    expect(tile_of(page, wearer.agent_id)).to_have_attribute("data-status", "ok")
    expect(tile_of(page, in_alert.agent_id)).to_have_attribute("data-status", "alert")

    page.get_by_test_id("crew-alerts-only").check()
    wait_until(lambda: not is_on_the_board(page, wearer.agent_id), message="the agent who is ok left the board")
    tile = tile_of(page, in_alert.agent_id)
    expect(tile).to_have_attribute("data-status", "alert")
    header = page.locator(f'[data-testid="crew"][data-crew-id="{in_alert.crew_id}"]')
    expect(header).to_contain_text("1 agent · 1 en alerte")
    expect(page.locator('[data-testid="agent-tile"][data-status="ok"]')).to_have_count(0)
    expect(page.get_by_test_id("crew-shown")).to_contain_text(" sur ")
    page.locator(".panel--crews").screenshot(path=artifacts / "crew-board-alerts-only.png")

    page.get_by_test_id("crew-alerts-only").uncheck()
    page.get_by_test_id("crew-filter").fill(wearer.display_name.upper().replace("E", "É", 1))
    expect(page.locator('[data-testid="agent-tile"]')).to_have_count(1)
    expect(page.locator('[data-testid="agent-tile"]')).to_have_attribute("data-agent-id", wearer.agent_id)
    expect(page.get_by_test_id("crew-shown")).to_contain_text("1 sur ")

    page.get_by_test_id("crew-filter").fill("personne-de-ce-nom")
    expect(page.get_by_test_id("crew-empty")).to_have_text("Aucun agent ne correspond aux filtres.")
    page.get_by_test_id("crew-filter").fill("")
    expect(tile_of(page, wearer.agent_id)).to_be_visible()


def test_arrow_keys_move_between_tiles_and_enter_opens_the_agent_page(dashboard: OpenDashboard, stack: Stack) -> None:
    suffix = uuid.uuid4().hex[:6]
    crew_id = f"crew-e2e-keys-{suffix}"
    first, second, third, fourth = (f"keys-{suffix}-{n}" for n in "abcd")
    for agent_id, name in ((first, "Anne"), (second, "Bruno"), (third, "Chloé")):
        register(stack, agent_id, f"{name} Clavier {suffix}", crew_id)
    register(stack, fourth, f"Denis Clavier {suffix}", f"{crew_id}-2")  # the next crew down
    page = dashboard()
    tile = tile_of(page, first)

    def focused() -> str | None:
        agent_id: str | None = page.evaluate("document.activeElement?.dataset?.agentId ?? null")
        return agent_id

    # One tab stop for the whole board: Tab from the filters lands on a tile.
    page.get_by_test_id("crew-alerts-only").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "agent-tile"
    expect(page.locator('[data-testid="agent-tile"][tabindex="0"]')).to_have_count(1)

    # Tab focused the board's first tile, which scrolled the board there: bring this crew back into view.
    tile = tile_of(page, first)
    tile.focus()
    page.keyboard.press("ArrowRight")
    assert focused() == second
    page.keyboard.press("ArrowRight")
    assert focused() == third
    page.keyboard.press("ArrowLeft")
    assert focused() == second
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowDown")
    columns = int(page.get_by_test_id("crew-board").evaluate("board => board.style.getPropertyValue('--crew-columns')"))
    assert focused() == (fourth if columns >= 3 else third)
    page.keyboard.press("ArrowUp")
    assert focused() == first
    expect(page.locator('[data-testid="agent-tile"][tabindex="0"]')).to_have_attribute("data-agent-id", first)

    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"#/agents/{second}$"))
