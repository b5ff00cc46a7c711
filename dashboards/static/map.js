// The map: an offline vector basemap, crews' work areas, robots always, and an agent's position only while
// they have an open alert (CNIL: no continuous tracking of employees; the server sends `position` only
// then, and the crew's area otherwise). Drawn on a canvas so 10,000 agents and hundreds of areas cost one
// pass per animation frame; the basemap and the areas are drawn on a second canvas, under the first, only
// when they change.
//
//   map-view.js  projection (Web Mercator), pan and zoom maths, point-in-polygon for hit-testing
//   map-draw.js  the basemap and every symbol, on a 2D context
//   map-ui.js    the DOM around the canvas: buttons, legend, popover, notes
//   map-input.js wheel, drag, click and keyboard, turned into pan / zoom / fit / click intents
//
// For tests and benchmarks the canvas carries data-markers, data-robots, data-areas (what is placed on
// the map), data-basemap-features, data-scale, data-centre ("lat,lon") and data-render-ms.

import { openAgentPage } from "./agent.js";
import { getBasemap } from "./api.js";
import { query } from "./dom.js";
import { drawAgentMarker, drawArea, drawBadge, drawBasemap, drawRobotMarker, drawText, COLOURS, prepareAreas,
  prepareBasemap, showsNames, wantsBadge } from "./map-draw.js";
import { wireInput } from "./map-input.js";
import { buildMapUi, placePopover, relabel, showCrew, showRobot, summary } from "./map-ui.js";
import * as geo from "./map-view.js";
import { markDirty, state } from "./state.js";

const FIT_PADDING_PX = 24;
const HIT_RADIUS_PX = 14;
const NAMED_MARKERS_MAX = 30; // agents' names next to their marker while the alerts are this few
const LABEL_PX_PER_CHAR = 7; // about the advance of bold 11–12 px text, to keep labels from overlapping
const SEVERITY_RANK = { info: 1, warning: 2, critical: 3 };

let ui = null;
let fontFamily = "sans-serif";
let view = geo.initialView();
let dpr = 1;
const base = { view: null, basemap: null, areas: null, countsVersion: -1 }; // what the base canvas shows, see draw()
let basemap = null; // prepareBasemap's result, once loaded
let basemapStatus = "idle"; // "loading" | "ready" | "failed"
let crewsSeen = null; // state.crews is replaced on each snapshot: the areas are re-projected then
let areas = []; // [{crew, polygons, bounds}]
let needsFit = true; // fit everything until the supervisor moves the map themselves
let userMoved = false;
let drawn = { agents: [], robots: [], counts: new Map() }; // the last render, for hit-testing and popovers
let popoverTarget = null; // {kind: "robot" | "crew", id, at: [x, y] projected}

/** Starts the map: builds its elements, loads the basemap and wires its controls. */
export function wireMap() {
  ui = buildMapUi(query("map"));
  fontFamily = getComputedStyle(ui.canvas).fontFamily || fontFamily;
  const observer = new ResizeObserver(([entry]) => resize(entry));
  try {
    observer.observe(ui.canvas, { box: "device-pixel-content-box" });
  } catch {
    observer.observe(ui.canvas); // a browser without device-pixel boxes (TypeError): CSS pixels × ratio
  }
  wireControls();
  loadBasemap();
}

async function loadBasemap() {
  if (basemapStatus === "loading" || basemapStatus === "ready") return;
  basemapStatus = "loading";
  try {
    const prepared = prepareBasemap(await getBasemap());
    if (!prepared.count) throw new Error("the basemap has no drawable feature");
    basemap = prepared;
    basemapStatus = "ready";
    if (!userMoved) needsFit = true;
  } catch (error) {
    // Retried on the next snapshot (each reconnect); meanwhile the map draws on a blank background.
    console.warn("map: basemap unavailable:", error);
    basemapStatus = "failed";
  }
  markDirty("map");
}

/** Redraws the map; `force` after a language change. Never throws for missing or partial data. */
export function renderMap(force) {
  if (!ui) return;
  const startedMs = performance.now();
  if (state.crews !== crewsSeen) {
    crewsSeen = state.crews;
    areas = prepareAreas(state.crews);
    if (basemapStatus === "failed") loadBasemap();
    if (!userMoved) needsFit = true;
  }
  if (force) relabel(ui);
  ui.note.hidden = basemapStatus !== "failed";
  ui.attribution.textContent = basemap?.attribution ?? "";
  if (!view.width || !view.height) return;

  const scene = collectScene();
  if (needsFit) fitAll(scene);
  draw(scene);
  drawn = scene;
  updatePopover(force);

  const { dataset } = ui.canvas;
  setIfChanged(dataset, "markers", scene.agents.length);
  setIfChanged(dataset, "robots", scene.robots.length);
  setIfChanged(dataset, "areas", areas.length);
  setIfChanged(dataset, "basemapFeatures", basemap?.count ?? 0);
  const [lon, lat] = geo.unproject(view.cx, view.cy);
  setIfChanged(dataset, "centre", `${lat.toFixed(6)},${lon.toFixed(6)}`);
  setIfChanged(dataset, "scale", view.scale.toPrecision(6));
  const label = summary(scene.agents.length, scene.robots.length, areas.length);
  if (ui.canvas.getAttribute("aria-label") !== label) ui.canvas.setAttribute("aria-label", label);
  dataset.renderMs = (performance.now() - startedMs).toFixed(2);
}

function setIfChanged(dataset, key, value) {
  if (dataset[key] !== String(value)) dataset[key] = String(value);
}

/**
 * What to draw this frame: agents placed (in alert), robots placed, and each crew's live head counts. The
 * store keeps the agents with a position and the counts as records change, so with 10,000 agents a
 * frame reads the few placed agents, not every agent.
 */
function collectScene() {
  const severityOf = new Map(); // agent_id -> the worst severity of their open alerts
  for (const alert of state.alerts.values()) {
    if (alert.status === "resolved" || !alert.agent_id) continue;
    const known = severityOf.get(alert.agent_id);
    if (!known || (SEVERITY_RANK[alert.severity] ?? 0) > (SEVERITY_RANK[known] ?? 0)) {
      severityOf.set(alert.agent_id, alert.severity);
    }
  }
  const agents = [];
  for (const agent of state.located.values()) {
    const at = geo.project(agent.position.lon, agent.position.lat);
    // An alert we have not heard of yet is drawn as critical: better too visible than missed.
    if (at) agents.push({ agent, at, severity: severityOf.get(agent.agent_id) ?? "critical" });
  }
  // Critical markers last, so they are drawn on top and win hit-tests.
  agents.sort((a, b) => (SEVERITY_RANK[a.severity] ?? 0) - (SEVERITY_RANK[b.severity] ?? 0));
  const robots = [];
  for (const robot of state.robots.values()) {
    const at = robot.pose ? geo.project(robot.pose.lon, robot.pose.lat) : null;
    if (at) robots.push({ robot, at, safety: safetyOf(robot) });
  }
  return { agents, robots, counts: state.crewCounts };
}

function safetyOf(robot) {
  if (robot.estop) return "estop";
  return robot.protective_stop ? "protective_stop" : "running";
}

function countsOf(crew, counts) {
  return counts.get(crew.crew_id) ?? { agents: crew.agents ?? 0, inAlert: crew.agents_in_alert ?? 0 };
}

function contentBounds(scene) {
  const bounds = geo.emptyBounds();
  if (basemap) geo.extendBounds(bounds, basemap.bounds);
  for (const area of areas) geo.extendBounds(bounds, area.bounds);
  for (const { at } of [...scene.robots, ...scene.agents]) geo.extendBounds(bounds, at);
  return bounds;
}

function fitAll(scene) {
  const fitted = geo.fitBounds(view, contentBounds(scene), FIT_PADDING_PX);
  if (fitted === view) return; // nothing to show yet: try again on the next render
  view = fitted;
  needsFit = false;
}

function draw(scene) {
  const { ctx, baseCtx } = ui;
  // The basemap and the crews' areas change only when the view moves, a snapshot brings new areas or a
  // head count changes: only then is the canvas under the symbols redrawn.
  const { countsVersion } = state;
  if (base.view !== view || base.basemap !== basemap || base.areas !== areas || base.countsVersion !== countsVersion) {
    baseCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawBasemap(baseCtx, view, basemap, fontFamily);
    drawAreas(baseCtx, areas.map((area) => countsOf(area.crew, scene.counts)));
    Object.assign(base, { view, basemap, areas, countsVersion });
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ui.canvas.width, ui.canvas.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

  for (const item of [...scene.robots, ...scene.agents]) {
    item.x = geo.screenX(view, item.at[0]);
    item.y = geo.screenY(view, item.at[1]);
    item.shown = onCanvas(item, 20);
  }
  for (const item of scene.robots) {
    if (item.shown) drawRobotMarker(ctx, item.x, item.y, item.robot.pose.yaw_rad ?? null, item.safety);
  }
  for (const item of scene.agents) if (item.shown) drawAgentMarker(ctx, item.x, item.y, item.severity);

  // Names over every symbol, the most urgent first; one that would overlap a name already drawn is left out.
  const font = `700 12px ${fontFamily}`;
  const placed = [];
  const label = (x, y, text, colour) => {
    if (geo.claim(placed, x, y - 8, text.length * LABEL_PX_PER_CHAR, 16)) drawText(ctx, x, y, text, font, colour);
  };
  if (showsNames(view) || scene.agents.length <= NAMED_MARKERS_MAX) {
    for (const { agent, x, y, shown, severity } of [...scene.agents].reverse()) {
      const colour = severity === "critical" ? COLOURS.critical : COLOURS.text;
      if (shown) label(x + 16, y, agent.display_name ?? agent.agent_id, colour);
    }
  }
  if (showsNames(view)) {
    for (const { robot, x, y, shown } of scene.robots) if (shown) label(x + 14, y - 12, robot.robot_id, COLOURS.text);
  }
}

function drawAreas(ctx, counts) {
  const badges = [];
  areas.forEach((area, index) => {
    if (!geo.isVisible(view, area.bounds, 20)) return;
    const { agents, inAlert } = counts[index];
    const sizePx = drawArea(ctx, view, area, inAlert > 0);
    if (!wantsBadge(sizePx, inAlert > 0)) return;
    // At the top of the area rather than its centre, where its robots and agents tend to be.
    const top = geo.screenY(view, area.bounds.maxY);
    const bottom = geo.screenY(view, area.bounds.minY);
    badges.push([geo.screenX(view, (area.bounds.minX + area.bounds.maxX) / 2), Math.min(top + 14, (top + bottom) / 2),
      inAlert > 0 ? `! ${inAlert}/${agents}` : String(agents), inAlert > 0]);
  });
  // Badges after every area, so no area is drawn over another's badge; those of areas in alert first, and
  // a badge that would cover one already drawn is left out (its area's popover still gives the count).
  badges.sort((a, b) => b[3] - a[3]);
  const placed = [];
  for (const [x, y, text, alert] of badges) {
    const widthPx = text.length * LABEL_PX_PER_CHAR + 12;
    if (geo.claim(placed, x - widthPx / 2, y - 10, widthPx, 20)) drawBadge(ctx, x, y, text, alert, fontFamily);
  }
}

function onCanvas({ x, y }, marginPx) {
  return x >= -marginPx && y >= -marginPx && x <= view.width + marginPx && y <= view.height + marginPx;
}

function resize(entry) {
  const box = entry.contentBoxSize?.[0];
  const width = box ? box.inlineSize : entry.contentRect.width;
  const height = box ? box.blockSize : entry.contentRect.height;
  // Device pixels when the browser reports them (exact, and reported again when the window moves to a
  // screen of another density), else CSS pixels times the device pixel ratio.
  const device = entry.devicePixelContentBoxSize?.[0];
  dpr = device && width ? device.inlineSize / width : window.devicePixelRatio || 1;
  for (const canvas of [ui.canvas, ui.base]) {
    canvas.width = Math.max(1, device ? device.inlineSize : Math.round(width * dpr));
    canvas.height = Math.max(1, device ? device.blockSize : Math.round(height * dpr));
  }
  view = geo.resized(view, width, height);
  if (!userMoved) needsFit = true;
  markDirty("map");
}

/** Moves the view (a supervisor's pan or zoom): automatic fitting stops until "fit all". */
function moveTo(next) {
  if (next === view) return;
  view = next;
  userMoved = true;
  needsFit = false;
  markDirty("map");
}

function fitRequested() {
  userMoved = false;
  needsFit = true;
  markDirty("map");
}

function wireControls() {
  wireInput(ui, {
    pan: (dxPx, dyPx) => moveTo(geo.panBy(view, dxPx, dyPx)),
    zoom: (factor, x, y) => moveTo(geo.zoomAround(view, factor, x, y)),
    fit: fitRequested,
    click: (x, y) => select(hitTest(x, y), [x, y]),
    hover: (x, y) => hitTest(x, y) !== null,
    escape: () => closePopover(false),
  });
  ui.popover.addEventListener("click", (event) => {
    if (event.target.closest(".map__popover-close")) closePopover(true);
  });
  ui.popover.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePopover(true);
  });
}

/** What is under (x, y) CSS px: the nearest agent marker, else robot, else the topmost crew area; or null. */
function hitTest(x, y) {
  const nearest = (items) => {
    let best = null;
    let bestPx = HIT_RADIUS_PX;
    for (const item of items) {
      const distancePx = Math.hypot(item.x - x, item.y - y);
      if (distancePx <= bestPx) [best, bestPx] = [item, distancePx];
    }
    return best;
  };
  const agent = nearest(drawn.agents);
  if (agent) return { kind: "agent", id: agent.agent.agent_id };
  const robot = nearest(drawn.robots);
  if (robot) return { kind: "robot", id: robot.robot.robot_id };
  const [wx, wy] = geo.toWorld(view, x, y);
  for (let i = areas.length - 1; i >= 0; i -= 1) {
    const area = areas[i];
    if (area.polygons.some((polygon) => geo.polygonContains(polygon, wx, wy))) {
      return { kind: "crew", id: area.crew.crew_id };
    }
  }
  return null;
}

function select(hit, [x, y]) {
  if (hit?.kind === "agent") {
    closePopover(false);
    openAgentPage(hit.id);
  } else if (hit) {
    // Filled on the next frame, like every panel, so its "il y a 5 s" is refreshed with the rest.
    popoverTarget = { ...hit, at: geo.toWorld(view, x, y), record: null };
    markDirty("map");
  } else {
    closePopover(false);
  }
}

/** Keeps the popover's content and position in step with its robot or crew; closes it when they go. */
function updatePopover(force) {
  if (!popoverTarget) return;
  const { kind, id } = popoverTarget;
  const record = kind === "robot" ? state.robots.get(id) : state.crews.get(id);
  if (!record) {
    closePopover(false);
    return;
  }
  if (kind === "robot") {
    const robot = drawn.robots.find((item) => item.robot.robot_id === id);
    if (robot) popoverTarget.at = robot.at;
    if (force || popoverTarget.record !== record) showRobot(ui.popover, record, safetyOf(record));
  } else {
    const counts = countsOf(record, drawn.counts);
    const key = `${counts.agents}/${counts.inAlert}`;
    if (force || popoverTarget.record !== record || popoverTarget.key !== key) showCrew(ui.popover, record, counts);
    popoverTarget.key = key;
  }
  popoverTarget.record = record;
  const [x, y] = popoverTarget.at;
  placePopover(ui.popover, geo.screenX(view, x), geo.screenY(view, y), view.width, view.height);
}

function closePopover(refocus) {
  popoverTarget = null;
  ui.popover.hidden = true;
  if (refocus) ui.canvas.focus();
}
