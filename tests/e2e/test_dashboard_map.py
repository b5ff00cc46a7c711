"""The dashboard's map, in a real browser, against the whole stack.

The map is a canvas, so the tests read what it drew from the counters it keeps on the canvas element
(``data-markers``, ``data-robots``, ``data-areas``, ``data-basemap-features``) and find a marker on screen
from the view it reports (``data-centre``, ``data-scale``) with the same Web Mercator projection.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, Position, Route, WebSocketRoute, expect

from dashboards import basemap_file
from tests.e2e import test_dashboard as board
from tests.e2e.test_dashboard import OpenDashboard, Stack, Wearer, frame, tile_of
from tests.gateway_harness import now_rfc3339
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

# The dashboard tests' fixtures (a browser, a live dashboard, a registered wearer), found by name.
browser = board.browser
artifacts = board.artifacts
dashboard = board.dashboard
wearer = board.wearer

EARTH_RADIUS_M = 6_378_137  # EPSG:3857's sphere, as dashboards/static/map-view.js
HOTEL_DE_VILLE = {"lat": 48.85660, "lon": 2.35220, "acc_m": 4.0}


def canvas_of(page: Page) -> Locator:
    return page.get_by_test_id("map-canvas")


def counter(page: Page, name: str) -> int:
    return int(canvas_of(page).get_attribute(f"data-{name}") or 0)


def mercator(lat: float, lon: float) -> tuple[float, float]:
    phi = math.radians(lat)
    return EARTH_RADIUS_M * math.radians(lon), EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + phi / 2))


def on_screen(page: Page, lat: float, lon: float) -> Position:
    """Where (lat, lon) is drawn, in CSS px from the canvas's top-left, from the view the map reports."""
    view = canvas_of(page).evaluate(
        "e => ({centre: e.dataset.centre, scale: e.dataset.scale, width: e.clientWidth, height: e.clientHeight})")
    centre_lat, centre_lon = (float(value) for value in view["centre"].split(","))
    cx, cy = mercator(centre_lat, centre_lon)
    x, y = mercator(lat, lon)
    scale = float(view["scale"])
    return {"x": view["width"] / 2 + (x - cx) * scale, "y": view["height"] / 2 - (y - cy) * scale}


def view_of(page: Page) -> tuple[str, float]:
    canvas = canvas_of(page)
    return canvas.get_attribute("data-centre") or "", float(canvas.get_attribute("data-scale") or "nan")


def square_around(lat: float, lon: float, half_side_deg: float) -> dict[str, Any]:
    ring = [[lon - half_side_deg, lat - half_side_deg], [lon + half_side_deg, lat - half_side_deg],
            [lon + half_side_deg, lat + half_side_deg], [lon - half_side_deg, lat + half_side_deg]]  # fmt: skip
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_basemap_is_served_by_the_gateway_and_drawn_without_any_third_party(
    dashboard: OpenDashboard, stack: Stack, artifacts: Path
) -> None:
    requested: list[str] = []
    page = dashboard(prepare=lambda context: context.on("request", lambda request: requested.append(request.url)))
    shipped = json.loads(basemap_file().read_text(encoding="utf-8"))

    canvas = canvas_of(page)
    expect(canvas).to_have_attribute("data-basemap-features", str(len(shipped["features"])))
    expect(page.get_by_test_id("map-basemap-note")).to_be_hidden()
    expect(page.get_by_test_id("map-attribution")).to_have_text(shipped["properties"]["attribution"])
    expect(canvas).to_have_attribute("role", "img")
    expect(canvas).to_have_attribute("aria-label", re.compile(r"^Carte : \d+ agents? en alerte"))
    expect(page.get_by_test_id("map-cnil")).to_have_text(
        "Positions des agents affichées uniquement pendant une alerte (CNIL) ; sinon la zone de l'équipe.")
    expect(page.get_by_test_id("map-legend").get_by_text("Robot en arrêt d'urgence")).to_be_visible()
    assert any(url.endswith("/api/v1/basemap") for url in requested)
    assert [url for url in requested if not url.startswith(stack.http_url)] == []
    page.get_by_test_id("map-panel").screenshot(path=artifacts / "map-overview.png")

    page.get_by_test_id("lang-toggle").click()
    expect(canvas).to_have_attribute("aria-label", re.compile(r"^Map: "))
    expect(page.get_by_test_id("map-cnil")).to_have_text(
        "Agents' positions are shown only during an alert (CNIL); otherwise their crew's area.")
    expect(page.get_by_test_id("map-zoom-in")).to_have_attribute("aria-label", "Zoom in")
    page.get_by_test_id("lang-toggle").click()


def test_a_crew_registered_with_an_area_is_drawn_and_shows_its_details(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer
) -> None:
    name = f"Équipe carte {wearer.crew_id[-8:]}"
    centre = (48.8700, 2.3000)  # the 17e, away from the other tests' markers
    response = stack.http.put(f"/api/v1/crews/{wearer.crew_id}",
                              json={"name": name, "area": square_around(*centre, 0.004)})  # fmt: skip
    assert response.status_code == 200, response.text
    with_area = [crew for crew in stack.http.get("/api/v1/crews").json()["items"] if crew["area"]]

    page = dashboard()
    expect(canvas_of(page)).to_have_attribute("data-areas", str(len(with_area)))
    canvas_of(page).click(position=on_screen(page, *centre))
    popover = page.get_by_test_id("map-popover")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text(name)
    expect(popover).to_contain_text("Agents")
    popover.get_by_test_id("map-popover-close").click()
    expect(popover).to_be_hidden()


def test_an_agent_is_on_the_map_only_while_in_alert_and_the_marker_opens_their_page(
    dashboard: OpenDashboard, stack: Stack, wearer: Wearer, artifacts: Path
) -> None:
    page = dashboard()
    canvas = canvas_of(page)
    seq = iter(range(1, 1_000))
    stack.publish_frame(frame(wearer.device_id, next(seq), hr_bpm=88, gps=HOTEL_DE_VILLE))
    tile = tile_of(page, wearer.agent_id)
    expect(tile).to_contain_text("88 bpm")
    before = counter(page, "markers")
    assert stack.http.get(f"/api/v1/agents/{wearer.agent_id}").json()["position"] is None

    stack.publish_frame(frame(wearer.device_id, next(seq), sos=True, hr_bpm=120, gps=HOTEL_DE_VILLE))

    # A wearable reports every second; the map follows the agent's state as the live stream brings it.
    def marker_count_after_a_frame() -> int:
        stack.publish_frame(frame(wearer.device_id, next(seq), hr_bpm=118, gps=HOTEL_DE_VILLE))
        return counter(page, "markers")

    wait_until(lambda: marker_count_after_a_frame() == before + 1, timeout_s=10, interval_s=0.5,
               message="the agent in alert appeared on the map")  # fmt: skip
    expect(canvas).to_have_attribute("aria-label", re.compile(rf"^Carte : {before + 1} agents? en alerte"))
    page.get_by_test_id("map-panel").screenshot(path=artifacts / "map-alert.png")

    canvas.click(position=on_screen(page, HOTEL_DE_VILLE["lat"], HOTEL_DE_VILLE["lon"]))
    expect(page).to_have_url(re.compile(rf"#/agents/{wearer.agent_id}$"))

    open_alerts = stack.http.get("/api/v1/alerts", params={"status": "open", "agent_id": wearer.agent_id})
    for alert in open_alerts.json()["items"]:
        resolved = stack.http.post(f"/api/v1/alerts/{alert['alert_id']}/resolve",
                                   json={"reason": "test", "comment": "map e2e", "by": "Test"})  # fmt: skip
        assert resolved.status_code == 200, resolved.text
    wait_until(lambda: marker_count_after_a_frame() == before, timeout_s=10, interval_s=0.5,
               message="the agent's marker left the map once the alert was resolved")  # fmt: skip


def test_robots_are_always_on_the_map_with_their_safety_state(
    dashboard: OpenDashboard, stack: Stack, artifacts: Path
) -> None:
    page = dashboard()
    before = counter(page, "robots")
    robot_id = f"robot-map-{uuid.uuid4().hex[:8]}"
    position = (48.8350, 2.2950)  # the 15e, away from the other tests' markers
    publisher = stack.publisher()
    try:
        publisher.robot({"v": 1, "robot_id": robot_id, "seq": 1, "ts": now_rfc3339(), "kind": "mower",
                         "pose": {"x_m": 0, "y_m": 0, "yaw_rad": 0.8, "lat": position[0], "lon": position[1]},
                         "estop": True, "speed_ms": 0.0})  # fmt: skip
    finally:
        publisher.close()
    expect(canvas_of(page)).to_have_attribute("data-robots", str(before + 1))

    canvas_of(page).click(position=on_screen(page, *position))
    popover = page.get_by_test_id("map-popover")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text(robot_id)
    expect(popover).to_contain_text("Arrêt d'urgence")
    expect(popover).to_contain_text("mower")
    page.get_by_test_id("map-panel").screenshot(path=artifacts / "map-robot-popover.png")
    canvas_of(page).press("Escape")
    expect(popover).to_be_hidden()


def test_buttons_keyboard_wheel_and_drag_move_the_view(dashboard: OpenDashboard) -> None:
    page = dashboard()
    canvas = canvas_of(page)
    expect(canvas).to_have_attribute("data-basemap-features", re.compile(r"^[1-9]"))
    fitted_centre, fitted_scale = view_of(page)

    page.get_by_test_id("map-zoom-in").click()
    wait_until(lambda: view_of(page)[1] == pytest.approx(2 * fitted_scale, rel=1e-3), message="+ zoomed in twice")
    page.get_by_test_id("map-zoom-out").click()
    wait_until(lambda: view_of(page)[1] == pytest.approx(fitted_scale, rel=1e-3), message="zoomed back out")

    canvas.focus()
    page.keyboard.press("ArrowRight")
    wait_until(lambda: view_of(page)[0] != fitted_centre, message="the arrow key panned the map")
    lon_after_pan = float(view_of(page)[0].split(",")[1])
    assert lon_after_pan > float(fitted_centre.split(",")[1]), "ArrowRight shows what is east"
    page.keyboard.press("+")
    wait_until(lambda: view_of(page)[1] > fitted_scale * 1.5, message="+ zoomed in")
    page.keyboard.press("-")
    page.keyboard.press("-")
    wait_until(lambda: view_of(page)[1] < fitted_scale * 0.75, message="- zoomed out")

    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
    scale_before_wheel = view_of(page)[1]
    page.mouse.wheel(0, -300)
    wait_until(lambda: view_of(page)[1] > scale_before_wheel, message="the wheel zoomed in")
    centre_before_drag = view_of(page)[0]
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3, steps=5)
    page.mouse.up()
    wait_until(lambda: view_of(page)[0] != centre_before_drag, message="dragging panned the map")

    page.keyboard.press("0")
    wait_until(lambda: view_of(page) == (fitted_centre, fitted_scale), message="0 fitted everything again")
    page.get_by_test_id("map-zoom-in").click()
    page.get_by_test_id("map-fit").click()
    wait_until(lambda: view_of(page) == (fitted_centre, fitted_scale), message="'fit all' fitted everything again")


def test_without_a_basemap_the_map_still_draws_and_retries_on_the_next_snapshot(
    dashboard: OpenDashboard, stack: Stack
) -> None:
    gateway = {"basemap": False}
    sockets: list[WebSocketRoute] = []

    def basemap(route: Route) -> None:
        if gateway["basemap"]:
            route.continue_()
        else:
            route.fulfill(status=503, json={"detail": "basemap unavailable"})

    def live(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    def with_a_failing_basemap(context: BrowserContext) -> None:
        context.route("**/api/v1/basemap", basemap)
        context.route_web_socket("**/api/v1/live", live)

    page = dashboard(prepare=with_a_failing_basemap)
    canvas = canvas_of(page)
    note = page.get_by_test_id("map-basemap-note")
    expect(note).to_be_visible()
    expect(note).to_have_text("Fond de plan indisponible")
    expect(canvas).to_have_attribute("data-basemap-features", "0")
    located = [robot for robot in stack.http.get("/api/v1/robots").json()["items"]
               if robot["pose"] and robot["pose"]["lat"] is not None]  # fmt: skip
    expect(canvas).to_have_attribute("data-robots", str(len(located)))

    gateway["basemap"] = True
    sockets[-1].close(code=1012, reason="service restart")
    expect(canvas).to_have_attribute("data-basemap-features", re.compile(r"^[1-9]"), timeout=20_000)
    expect(note).to_be_hidden()
