// The crew board: one header row per crew ("12 agents · 2 en alerte"), then that crew's agents as tiles
// (status, open alerts, heart rate, heat strain, today's noise dose and HAV points with their projection,
// battery, last seen), as many per row as the width allows. With 10,000 agents on shift the board is a
// virtualised grid (virtual-grid.js): only the rows in view exist in the DOM, and a render redraws only
// the tiles in view whose record changed. Filters: alerts only (alert / stale / offline) and a name.
// Keyboard: the board is one tab stop (roving tabindex); arrows, Home/End and Page Up/Down move between
// tiles, and Enter opens the agent page.

import { openAgentPage } from "./agent.js";
import { el, query, setText } from "./dom.js";
import { formatAgo, formatNumber, formatQuantity, sinceElement, textOrder } from "./format.js";
import { t } from "./i18n.js";
import { state } from "./state.js";
import { VirtualRows, gridMove } from "./virtual-grid.js";

// Where a value reaches the threshold its unit is defined against. The server computes the values; these
// numbers are part of what the units mean, and only decide which values the tile marks.
//  - noise_dose_pct: 100 % = LEX,8h 85 dB(A), the upper exposure action value (Directive 2003/10/EC
//    art. 3; Code du travail R4431-2).
//  - hav_points: HSE points, 100 = exposure action value 2.5 m/s² A(8), 400 = exposure limit value
//    5 m/s² A(8) (Directive 2002/44/EC art. 3; HSE L140).
//  - psi: physiological strain index 0–10, 7 and above is high strain (Moran, Shitzer & Pandolf 1998,
//    Am J Physiol 275:R129).
const THRESHOLDS = {
  noise: [{ at: 100, level: "action" }],
  hav: [{ at: 100, level: "action" }, { at: 400, level: "limit" }],
  psi: [{ at: 7, level: "high" }],
};

const FILTERED_STATUSES = new Set(["alert", "stale", "offline"]); // "alertes seulement"
// Sizes in rem (the tile's CSS fits these): the virtual grid positions rows without measuring them.
const TILE_MIN_WIDTH_REM = 12;
const TILE_GAP_REM = 0.5;
const TILE_ROW_REM = 10.5; // tile height + gap
const HEADER_ROW_REM = 2.4;

const board = query("crew-board");
const empty = query("crew-empty");
const alertsOnlyToggle = query("crew-alerts-only");
const nameFilter = query("crew-filter");
const shownCount = query("crew-shown");
const grid = new VirtualRows(board, drawRow);

let crewLayout = []; // [{crewId, agentIds, searchTexts}] in display order
let layoutVersion = -1;
let rows = [];
let builtFor = ""; // what `rows` were built from
let shownAgents = 0;
let columns = 1;
let remPx = 16;
let alerting = new Set(); // agent ids with an open alert in the store
const tiles = new Map(); // agent_id -> {cell, button, parts, agent, status, signatures}, tiles in the DOM only
const spareTiles = [];
const MAX_SPARE_TILES = 200;
let activeAgentId = null; // the tile holding the board's tab stop
let activeRowHint = 0;
let forceDraw = false;
let pendingFrame = 0;
let pendingRebuild = false;

// Crews and agents in display order. Sorting 10,000 names takes a good part of a frame, so the layout is
// kept until the store's roster changes (an agent appears, leaves, is renamed or changes crew).
function layoutCrews() {
  const byCrew = new Map();
  for (const agent of state.agents.values()) {
    const crewId = agent.crew_id ?? "";
    if (!byCrew.has(crewId)) byCrew.set(crewId, []);
    byCrew.get(crewId).push(agent);
  }
  const compare = textOrder();
  return [...byCrew]
    .map(([crewId, agents]) => {
      agents.sort((a, b) => compare(a.display_name, b.display_name));
      return {
        crewId,
        agentIds: agents.map((agent) => agent.agent_id),
        searchTexts: agents.map((agent) => searchable(`${agent.display_name} ${crewId} ${crewName(crewId)}`)),
      };
    })
    // Agents without a crew come last.
    .sort((a, b) => (a.crewId === "") - (b.crewId === "") || compare(a.crewId, b.crewId));
}

/** The crew's name as registered (it defaults to its id; crews created since the snapshot show their id). */
function crewName(crewId) {
  return state.crews.get(crewId)?.name || crewId;
}

/** Lower case without accents, so "helene" finds "Hélène". */
function searchable(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The status a tile shows: the server's, except that an alert known to the store shows at once. */
function shownStatus(agent) {
  return alerting.has(agent.agent_id) ? "alert" : agent.status;
}

/**
 * The rows of the board under the current filters: a header per crew with an agent shown, then its tiles
 * `columns` to a row. Returns how many agents are shown.
 */
function buildRows() {
  const alertsOnly = alertsOnlyToggle.checked;
  const needle = searchable(nameFilter.value.trim());
  const headerPx = HEADER_ROW_REM * remPx;
  const tilePx = TILE_ROW_REM * remPx;
  rows = [];
  let shown = 0;
  for (const crew of crewLayout) {
    let kept = crew.agentIds;
    if (alertsOnly || needle) {
      kept = crew.agentIds.filter((agentId, index) => (!needle || crew.searchTexts[index].includes(needle))
        && (!alertsOnly || FILTERED_STATUSES.has(shownStatus(state.agents.get(agentId)))));
    }
    if (!kept.length) continue;
    shown += kept.length;
    rows.push({ kind: "crew", key: `c:${crew.crewId}`, crew, height: headerPx });
    for (let start = 0; start < kept.length; start += columns) {
      rows.push({ kind: "tiles", key: `t:${crew.crewId}:${start / columns}`,
        items: kept.slice(start, start + columns), height: tilePx });
    }
  }
  grid.setRows(rows);
  return shown;
}

/** Redraws the board: the rows follow the store and the filters; only tiles in view are touched. */
export function renderCrewBoard(force) {
  const started = performance.now();
  if (force || layoutVersion !== state.rosterVersion) {
    crewLayout = layoutCrews();
    layoutVersion = state.rosterVersion;
  }
  alerting = new Set();
  for (const alert of state.alerts.values()) if (alert.status !== "resolved" && alert.agent_id) alerting.add(alert.agent_id);
  // The rows change with the roster, the filters and the width; with "alerts only", with any status too.
  const rowsKey = [layoutVersion, columns, remPx, nameFilter.value.trim(), alertsOnlyToggle.checked].join("\u0000");
  if (force || rowsKey !== builtFor || alertsOnlyToggle.checked) {
    shownAgents = buildRows();
    builtFor = rowsKey;
  }
  if (force) {
    board.setAttribute("aria-label", t("crews.board_label"));
    nameFilter.placeholder = t("crews.filter_placeholder");
    alertsOnlyToggle.parentElement.title = t("crews.alerts_only_title");
  }
  board.setAttribute("aria-rowcount", rows.length);
  const filtering = alertsOnlyToggle.checked || nameFilter.value.trim() !== "";
  const total = state.agents.size;
  setText(shownCount, filtering
    ? t("crews.shown_of", { shown: formatNumber(shownAgents), total: formatNumber(total) })
    : t("crews.total", { n: total, count: formatNumber(total) }));
  empty.dataset.i18n = filtering && total > 0 ? "crews.no_match" : "crews.empty";
  setText(empty, t(empty.dataset.i18n));
  empty.hidden = !state.hasSnapshot || rows.length > 0;
  forceDraw = forceDraw || force;
  renderWindow(started);
}

/** Mounts the rows in view and redraws what changed in them; runs on scroll without rebuilding rows. */
function renderWindow(started = performance.now()) {
  const activeRow = rowOf(activeAgentId);
  if (activeRow < 0) {
    const first = rows.find((row) => row.kind === "tiles");
    activeAgentId = first?.items[0] ?? null;
  }
  const hadFocus = board.contains(document.activeElement);
  const drawn = new Set();
  grid.render(activeRow >= 0 ? [activeRow] : []).forEach((index) => {
    if (rows[index].kind === "tiles") for (const agentId of rows[index].items) drawn.add(agentId);
  });
  for (const [agentId, entry] of tiles) {
    if (drawn.has(agentId)) continue;
    tiles.delete(agentId);
    if (spareTiles.length < MAX_SPARE_TILES) spareTiles.push(entry);
  }
  forceDraw = false;
  // A focused tile that moved to another row (the roster or a filter changed) lost focus: give it back.
  if (hadFocus && !board.contains(document.activeElement)) tiles.get(activeAgentId)?.button.focus({ preventScroll: true });
  board.dataset.renderMs = (performance.now() - started).toFixed(2);
}

/** Draws on the next frame: the rows in view (after a scroll), or the rows themselves first (`rebuild`). */
function schedule(rebuild) {
  pendingRebuild ||= rebuild;
  if (pendingFrame) return;
  pendingFrame = requestAnimationFrame(() => {
    pendingFrame = 0;
    if (pendingRebuild) renderCrewBoard(false);
    else renderWindow();
    pendingRebuild = false;
  });
}

/** The index of the row holding `agentId`'s tile, or -1 (filtered out, or not on the board). */
function rowOf(agentId) {
  if (agentId === null) return -1;
  if (rows[activeRowHint]?.items?.includes(agentId)) return activeRowHint;
  const index = rows.findIndex((row) => row.kind === "tiles" && row.items.includes(agentId));
  if (index >= 0) activeRowHint = index;
  return index;
}

/**
 * Scrolls the board so that `agentId`'s tile is rendered, and returns the tile (or null when the agent is
 * not on the board or hidden by a filter).
 */
export function revealAgent(agentId) {
  if (layoutVersion !== state.rosterVersion || !rows.length) renderCrewBoard(false);
  const index = rowOf(agentId);
  if (index < 0) return null;
  // With the crew's header when it fits, so the tile is seen with its crew.
  const header = rows.findLastIndex((row, at) => at <= index && row.kind === "crew");
  grid.scrollToRows(index - header <= 2 ? header : index, index);
  renderWindow();
  return tiles.get(agentId)?.button ?? null;
}

function drawRow(row, index, element) {
  return row.kind === "crew" ? drawCrewHeader(row, index, element) : drawTileRow(row, index, element);
}

function drawCrewHeader(row, index, element) {
  if (!element) {
    element = el("div", { class: "crew-row crew-row--head", role: "row", dataset: { testid: "crew" } },
      el("div", { class: "crew__head", role: "gridcell" },
        el("h3", { class: "crew__title" }), el("span", { class: "crew__counts" })));
  }
  const { crewId, agentIds } = row.crew;
  // Counted here, for the headers in view only: a render never reads the agents of crews off screen.
  let inAlert = 0;
  for (const agentId of agentIds) if (shownStatus(state.agents.get(agentId)) === "alert") inAlert += 1;
  const cell = element.firstElementChild;
  const [title, counts] = cell.children;
  setText(title, crewId ? t("crew.name", { crew: crewName(crewId) }) : t("crew.none"));
  const agents = formatNumber(agentIds.length);
  setText(counts, inAlert
    ? t("crew.counts_alert", { n: agentIds.length, agents, alerts: formatNumber(inAlert) })
    : t("crew.counts", { n: agentIds.length, agents }));
  counts.classList.toggle("crew__counts--alert", inAlert > 0);
  element.dataset.crewId = crewId;
  element.setAttribute("aria-rowindex", index + 1);
  cell.setAttribute("aria-colspan", columns);
  return element;
}

function drawTileRow(row, index, element = el("div", { class: "crew-row crew-row--tiles", role: "row" })) {
  element.setAttribute("aria-rowindex", index + 1);
  const cells = element.children;
  row.items.forEach((agentId, column) => {
    const { cell } = drawTile(state.agents.get(agentId), column);
    if (cells[column] !== cell) element.insertBefore(cell, cells[column] ?? null);
  });
  while (cells.length > row.items.length) element.lastElementChild.remove();
  return element;
}

function drawTile(agent, column) {
  const status = shownStatus(agent);
  let entry = tiles.get(agent.agent_id);
  if (!entry) {
    // Scrolling mounts a row of tiles per frame: reuse the elements of tiles that left the view.
    entry = spareTiles.pop() ?? newTile();
    Object.assign(entry, { agent: null, status: null, signatures: [] });
    entry.button.dataset.agentId = agent.agent_id;
    tiles.set(agent.agent_id, entry);
  }
  if (forceDraw || entry.agent !== agent || entry.status !== status) {
    fillTile(entry, agent, status, forceDraw || entry.agent === null);
    entry.agent = agent;
    entry.status = status;
  }
  entry.cell.setAttribute("aria-colindex", column + 1);
  // The attribute, not the property: a button's tabIndex is already 0 without one.
  const tabIndex = agent.agent_id === activeAgentId ? "0" : "-1";
  if (entry.button.getAttribute("tabindex") !== tabIndex) entry.button.setAttribute("tabindex", tabIndex);
  return entry;
}

// A tile's parts are built once; a redraw changes only the texts that differ, since with 10,000 agents
// reporting every second the tiles in view are redrawn every second, mostly for one new heart rate.
const VITALS = [["hr", "agent.hr"], ["psi", "crew.psi", "crew.psi_title"], ["noise", "crew.noise", "crew.noise_title"],
  ["hav", "crew.hav", "crew.hav_title"], ["battery", "crew.battery", "crew.battery_title"], ["seen", "agent.last_seen"]];

function newTile() {
  const parts = {
    name: el("span", { class: "tile__name" }),
    chip: el("span", { class: "status-chip" }),
    alerts: el("span", { class: "tile__alerts" }),
    note: el("span", { class: "tile__note" }),
    labels: VITALS.map(() => el("span", { class: "tile__label" })),
    values: VITALS.map(([name]) => el("span", { class: "tile__value", dataset: { testid: `tile-${name}` } })),
  };
  const button = el("button", { type: "button", class: "tile", dataset: { testid: "agent-tile" } },
    parts.name,
    el("span", { class: "tile__status" }, parts.chip, parts.alerts, parts.note),
    el("span", { class: "tile__vitals" }, ...VITALS.map((_, index) =>
      el("span", { class: "tile__vital" }, parts.labels[index], parts.values[index]))));
  const cell = el("div", { role: "gridcell", class: "crew-cell" }, button);
  return { cell, button, parts };
}

function fillTile(entry, agent, status, force) {
  const { button, parts } = entry;
  if (force) {
    entry.signatures = [];
    VITALS.forEach(([, label, title], index) => {
      parts.labels[index].textContent = t(label);
      if (title) parts.labels[index].title = t(title);
    });
  }
  button.className = `tile tile--${status}`;
  button.dataset.status = status;
  setText(parts.name, agent.display_name);
  setText(parts.chip, t(`agent.status.${status}`));
  setText(parts.alerts, agent.open_alerts > 0 ? t("crew.open_alerts", { n: agent.open_alerts }) : "");
  let note = "";
  if (!agent.device_id) note = t("agent.no_device");
  else if (state.deviceLinks.get(agent.device_id) === "offline") note = t("agent.device_offline");
  setText(parts.note, note);

  const exposure = agent.exposure_today ?? {};
  const values = [
    [formatQuantity("unit.bpm", agent.hr_bpm)],
    [marked("psi", exposure.psi_max, formatNumber(exposure.psi_max, 1))],
    withProjection("noise", exposure.noise_dose_pct, exposure.noise_dose_projected_pct, "unit.pct"),
    withProjection("hav", exposure.hav_points, exposure.hav_points_projected, "unit.points"),
    [formatQuantity("unit.pct", agent.battery_pct)],
    [{ since: agent.last_seen }],
  ];
  values.forEach((value, index) => {
    const signature = JSON.stringify(value);
    if (entry.signatures[index] === signature) return;
    entry.signatures[index] = signature;
    parts.values[index].replaceChildren(...value.map(valueNode));
  });
}

/** "45 % → 92 %": today's value, then the server's projection to the end of the shift when it has one. */
function withProjection(kind, value, projected, unitKey) {
  if (value === null || value === undefined || projected === null || projected === undefined) {
    return [marked(kind, value, formatQuantity(unitKey, value))];
  }
  // The unit once, after the projection, so that both numbers fit a narrow tile.
  return [marked(kind, value, formatNumber(value)), { arrow: ` ${t("crew.projected")} ` },
    marked(kind, projected, formatQuantity(unitKey, projected))];
}

/** The value's text, with the threshold it reached (the highest), if any. */
function marked(kind, value, text) {
  let reached = null;
  if (value !== null && value !== undefined) {
    for (const threshold of THRESHOLDS[kind]) if (value >= threshold.at) reached = threshold.level;
  }
  return reached ? { text, reached } : text;
}

function valueNode(part) {
  if (typeof part === "string") return part;
  if ("since" in part) return seen(part.since);
  // The arrow is what a sighted reader sees; a screen reader hears "projected at end of shift".
  if ("arrow" in part) {
    return el("span", { class: "tile__arrow" }, el("span", { "aria-hidden": "true" }, "\u2009→\u2009"),
      el("span", { class: "visually-hidden" }, part.arrow));
  }
  // A value at or over its threshold: a sign and a word, not colour alone.
  const word = t(`crew.threshold.${part.reached}`);
  return el("span", { class: `tile__over tile__over--${part.reached}`, title: word },
    el("span", { class: "tile__sign", "aria-hidden": "true" }, part.reached === "limit" ? "▲▲" : "▲"), part.text,
    el("span", { class: "visually-hidden" }, ` (${word})`));
}

function seen(isoTime) {
  const element = sinceElement(isoTime);
  // Filled now: format.js's ticker refreshes it each second, but a tile scrolled into view can't wait.
  if (isoTime) element.textContent = formatAgo(Date.now() + state.serverOffsetMs - Date.parse(isoTime));
  return element;
}

// Keyboard: the board is one tab stop; arrows, Home/End and Page Up/Down move it, as in the ARIA grid pattern.
board.addEventListener("keydown", (event) => {
  const agentId = event.target.closest?.(".tile")?.dataset.agentId;
  const row = agentId ? rowOf(agentId) : -1;
  if (row < 0 || event.altKey || event.metaKey) return;
  const pageRows = Math.max(1, Math.floor(grid.viewHeight() / (TILE_ROW_REM * remPx)));
  const target = gridMove(rows, row, rows[row].items.indexOf(agentId), event, pageRows);
  if (target === undefined) return;
  event.preventDefault();
  if (target !== null) focusAgent(rows[target.row].items[target.column]);
});

function focusAgent(agentId) {
  activeAgentId = agentId;
  const index = rowOf(agentId);
  const header = index > 0 && rows[index - 1].kind === "crew" ? index - 1 : index;
  grid.scrollToRows(header, index);
  renderWindow();
  tiles.get(agentId)?.button.focus({ preventScroll: true });
}

board.addEventListener("focusin", (event) => {
  const agentId = event.target.closest?.(".tile")?.dataset.agentId;
  if (agentId && agentId !== activeAgentId) {
    tiles.get(activeAgentId)?.button.setAttribute("tabindex", "-1");
    activeAgentId = agentId;
    event.target.setAttribute("tabindex", "0");
  }
});

board.addEventListener("click", (event) => {
  const agentId = event.target.closest?.(".tile")?.dataset.agentId;
  if (agentId) openAgentPage(agentId);
});

board.addEventListener("scroll", () => schedule(false), { passive: true });
alertsOnlyToggle.addEventListener("change", () => schedule(true));
nameFilter.addEventListener("input", () => schedule(true));

// The number of tiles per row follows the board's width; the rows are rebuilt when it changes.
new ResizeObserver(([entry]) => {
  grid.setViewportHeight(entry.contentRect.height);
  remPx = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const { width } = entry.contentRect;
  const fit = Math.max(1, Math.floor((width + TILE_GAP_REM * remPx) / ((TILE_MIN_WIDTH_REM + TILE_GAP_REM) * remPx)));
  board.style.setProperty("--crew-columns", fit);
  schedule(fit !== columns);
  columns = fit;
}).observe(board);
