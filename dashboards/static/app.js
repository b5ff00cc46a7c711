// The supervisors' live dashboard. It holds no rules and no maths: it shows what the API says.
//
// Data flow: REST snapshot on every (re)connect, then WebSocket messages applied to `state` as they
// arrive; the DOM is redrawn at most once per animation frame, for the panels that changed, so a burst
// of messages (10,000 agents reporting) costs one render. Lists are keyed, and an element is rebuilt
// only when its record changed; a virtualised crew board can later replace `reconcile` for that panel.

import * as api from "./api.js";
import {
  formatAgo, formatClock, formatQuantity, has, lang, onLangChange, t, toggleLang, translatePage,
} from "./i18n.js";
import { readPref, writePref } from "./prefs.js";

const SUPERVISOR_PREF = "vigie.supervisor";
const SOUND_PREF = "vigie.sound";
const DEFAULT_SUPERVISOR = "superviseur";
const RESOLVED_LINGER_MS = 60_000; // a resolved alert stays in the feed, greyed, for everyone to see
const NOTICE_MS = 8_000;
const BEEP_MIN_INTERVAL_MS = 1_500;
const STATUS_ORDER = ["raised", "acknowledged", "resolved"];

const state = {
  alerts: new Map(), // alert_id -> Alert
  resolvedSeenAt: new Map(), // alert_id -> Date.now() when this page learnt it was resolved
  agents: new Map(), // agent_id -> Agent
  robots: new Map(), // robot_id -> Robot
  deviceLinks: new Map(), // device_id -> "online" | "offline"
  newCritical: new Set(), // alert ids to flash on their first render
  serverOffsetMs: 0, // server clock minus ours, from the hello message
  hasSnapshot: false,
};

const ui = {
  connection: query("connection-state"),
  connectionText: query("connection-state").querySelector(".connection__text"),
  banner: query("connection-banner"),
  notice: query("notice"),
  supervisor: query("supervisor-name"),
  soundToggle: query("sound-toggle"),
  langToggle: query("lang-toggle"),
  alertFeed: query("alert-feed"),
  alertCount: query("alert-count"),
  alertEmpty: query("alert-empty"),
  crewBoard: query("crew-board"),
  crewEmpty: query("crew-empty"),
  robotTable: query("robot-table"),
  robotRows: query("robot-table").tBodies[0],
  robotEmpty: query("robot-empty"),
  resolveDialog: query("resolve-dialog"),
  resolveForm: query("resolve-dialog").querySelector("form"),
  resolveSubject: query("resolve-subject"),
  resolveError: query("resolve-error"),
  resolveConfirm: query("resolve-confirm"),
};

function query(testId) {
  return document.querySelector(`[data-testid="${testId}"]`);
}

/** Builds an element: `el("li", {class: "x", dataset: {id: 1}}, "text", child)`. Text is never parsed as HTML. */
function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  return fill(element, ...children);
}

/** Replaces `element`'s children; null and undefined children (optional parts) are left out. */
function fill(element, ...children) {
  element.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

// Render scheduling: everything that changes state marks a panel dirty and asks for a frame.

const dirty = new Set();
let frameRequested = false;

function markDirty(panel) {
  dirty.add(panel);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    render(false);
  });
}

function render(force) {
  const panels = force ? new Set(["alerts", "agents", "robots"]) : new Set(dirty);
  dirty.clear();
  if (panels.has("alerts")) renderAlerts(force);
  if (panels.has("agents")) renderCrewBoard(force);
  if (panels.has("robots")) renderRobots(force);
  updateElapsed();
}

const rendered = new WeakMap(); // container -> Map(key -> {element, item})

/**
 * Makes `container`'s children match `items`, in order, one element per key. `draw(item, element?)`
 * builds an element or refills the given one; it runs only for new items, items whose record object
 * changed since the last pass, or all of them when `force` (a language change).
 */
function reconcile(container, items, keyOf, draw, force) {
  const previous = rendered.get(container) ?? new Map();
  const next = new Map();
  let cursor = container.firstElementChild;
  for (const item of items) {
    const key = keyOf(item);
    let entry = previous.get(key);
    if (!entry) {
      entry = { element: draw(item), item };
    } else if (force || entry.item !== item) {
      draw(item, entry.element);
      entry.item = item;
    }
    next.set(key, entry);
    if (entry.element === cursor) cursor = cursor.nextElementSibling;
    else container.insertBefore(entry.element, cursor);
  }
  for (const [key, entry] of previous) if (!next.has(key)) entry.element.remove();
  rendered.set(container, next);
}

// Alert feed.

function renderAlerts(force) {
  const alerts = [...state.alerts.values()].sort(
    (a, b) => Date.parse(b.raised_at) - Date.parse(a.raised_at) || a.alert_id.localeCompare(b.alert_id),
  );
  reconcile(ui.alertFeed, alerts, (alert) => alert.alert_id, drawAlert, force);
  const openCount = alerts.filter((alert) => alert.status !== "resolved").length;
  ui.alertCount.textContent = `(${t("alerts.count", { n: openCount })})`;
  ui.alertEmpty.hidden = alerts.length > 0 || !state.hasSnapshot;
}

function ruleLabel(rule) {
  return has(`rule.${rule}`) ? t(`rule.${rule}`) : rule;
}

function subjectLabel(alert) {
  return alert.agent_name ?? alert.subject_id;
}

function drawAlert(alert, element = el("li")) {
  const focused = element.contains(document.activeElement) ? document.activeElement : null;
  element.className = `alert alert--${alert.severity} alert--${alert.status}`;
  Object.assign(element.dataset, { testid: "alert", alertId: alert.alert_id, status: alert.status,
    severity: alert.severity, subjectId: alert.subject_id });
  if (alert.agent_id) element.dataset.agentId = alert.agent_id;
  element.tabIndex = -1;

  const badges = [];
  if (alert.late) badges.push(el("span", { class: "badge badge--late" }, t("alert.late")));
  if (alert.repeat_count > 1) badges.push(el("span", { class: "badge" }, t("alert.repeat", { n: alert.repeat_count })));
  if (alert.escalation_level > 0) {
    badges.push(el("span", { class: "badge badge--escalation" }, t("alert.escalation", { n: alert.escalation_level })));
  }

  const actions = [];
  if (alert.status === "raised") {
    actions.push(el("button", { type: "button", class: "button button--primary", dataset: { testid: "ack", action: "ack" } },
      t("alert.ack")));
  }
  if (alert.status !== "resolved") {
    actions.push(el("button", { type: "button", class: "button", dataset: { testid: "resolve", action: "resolve" } },
      t("alert.resolve")));
  }

  fill(element,
    el("div", { class: "alert__head" },
      el("span", { class: "severity" }, t(`severity.${alert.severity}`)),
      el("strong", { class: "alert__rule" }, ruleLabel(alert.rule)),
      el("span", { class: "alert__subject" }, subjectLabel(alert)),
      ...badges),
    alert.message ? el("p", { class: "alert__message" }, alert.message) : null,
    el("p", { class: "alert__meta" },
      el("span", { class: "alert__status" }, t(`status.${alert.status}`)),
      " · ",
      el("time", { datetime: alert.raised_at, title: t("alert.raised_at", { time: formatClock(alert.raised_at) }) },
        el("span", { "aria-hidden": "true", dataset: { since: alert.raised_at } }),
        el("span", { class: "visually-hidden" }, t("alert.raised_at", { time: formatClock(alert.raised_at) })))),
    handlingLine(alert),
    actions.length ? el("div", { class: "alert__actions" }, ...actions) : null,
  );

  if (state.newCritical.delete(alert.alert_id)) flash(element);
  // Redrawing replaced the focused button (acknowledging removes it): keep keyboard users on this alert.
  if (focused && !focused.isConnected) {
    const sameAction = element.querySelector(`button[data-action="${focused.dataset.action}"]`);
    (sameAction ?? element.querySelector("button") ?? element).focus();
  }
  return element;
}

function handlingLine(alert) {
  if (alert.status === "resolved") {
    const reason = alert.resolution ? t(`reason.${alert.resolution}`) : t("value.none");
    return el("p", { class: "alert__handling" },
      t("alert.resolved_by", { by: alert.resolved_by ?? t("value.none"), time: formatClock(alert.resolved_at), reason }),
      alert.resolution_comment ? el("q", { class: "alert__comment" }, alert.resolution_comment) : null);
  }
  if (alert.status === "acknowledged") {
    return el("p", { class: "alert__handling" },
      t("alert.acknowledged_by", { by: alert.acknowledged_by ?? t("value.none"), time: formatClock(alert.acknowledged_at) }));
  }
  return null;
}

function upsertAlert(alert) {
  const known = state.alerts.get(alert.alert_id);
  // The reply to our own ack may arrive after a live message saying someone resolved it: never go back.
  if (known && STATUS_ORDER.indexOf(alert.status) < STATUS_ORDER.indexOf(known.status)) return;
  state.alerts.set(alert.alert_id, alert);
  if (alert.status !== "resolved") state.resolvedSeenAt.delete(alert.alert_id);
  else if (!state.resolvedSeenAt.has(alert.alert_id)) state.resolvedSeenAt.set(alert.alert_id, Date.now());
  markDirty("alerts");
}

function pruneResolved() {
  for (const [alertId, seenAt] of state.resolvedSeenAt) {
    if (Date.now() - seenAt < RESOLVED_LINGER_MS) continue;
    state.resolvedSeenAt.delete(alertId);
    state.alerts.delete(alertId);
    markDirty("alerts");
  }
}

// Crew board: one section per crew, one tile per agent.

function textOrder() {
  return new Intl.Collator(lang(), { numeric: true, sensitivity: "base" }).compare;
}

// Crews and agents in display order, as ids. Sorting 10,000 names takes a good part of a frame, so the
// layout is kept until an agent appears, leaves, is renamed or changes crew (`crewLayout = null`).
let crewLayout = null;

function layoutCrews() {
  const byCrew = new Map();
  for (const agent of state.agents.values()) {
    const crewId = agent.crew_id ?? "";
    if (!byCrew.has(crewId)) byCrew.set(crewId, []);
    byCrew.get(crewId).push(agent);
  }
  const compare = textOrder();
  return [...byCrew]
    .map(([crewId, agents]) => ({
      crewId,
      agentIds: agents.sort((a, b) => compare(a.display_name, b.display_name)).map((agent) => agent.agent_id),
    }))
    // Agents without a crew come last.
    .sort((a, b) => (a.crewId === "") - (b.crewId === "") || compare(a.crewId, b.crewId));
}

function upsertAgent(agent) {
  const known = state.agents.get(agent.agent_id);
  if (!known || known.display_name !== agent.display_name || known.crew_id !== agent.crew_id) crewLayout = null;
  state.agents.set(agent.agent_id, agent);
  markDirty("agents");
}

function renderCrewBoard(force) {
  if (force || !crewLayout) crewLayout = layoutCrews();
  const crews = crewLayout.map(({ crewId, agentIds }) => ({
    crewId,
    agents: agentIds.map((agentId) => state.agents.get(agentId)),
  }));
  reconcile(ui.crewBoard, crews, (crew) => crew.crewId, (crew, element) => drawCrew(crew, element, force), force);
  ui.crewEmpty.hidden = crews.length > 0 || !state.hasSnapshot;
}

function drawCrew({ crewId, agents }, element, force) {
  element ??= el("section", { class: "crew", dataset: { testid: "crew", crewId } },
    el("h3", { class: "crew__title" }), el("ul", { class: "crew__tiles" }));
  if (force || !element.firstElementChild.textContent) {
    element.firstElementChild.textContent = crewId ? t("crew.name", { crew: crewId }) : t("crew.none");
  }
  reconcile(element.lastElementChild, agents, (agent) => agent.agent_id, drawAgentTile, force);
  return element;
}

function drawAgentTile(agent, element = el("li")) {
  element.className = `tile tile--${agent.status}`;
  Object.assign(element.dataset, { testid: "agent-tile", agentId: agent.agent_id, status: agent.status });

  let device = null;
  if (!agent.device_id) device = el("p", { class: "tile__note" }, t("agent.no_device"));
  else if (state.deviceLinks.get(agent.device_id) === "offline") {
    device = el("p", { class: "tile__note" }, t("agent.device_offline"));
  }

  fill(element,
    el("p", { class: "tile__name" }, agent.display_name),
    el("p", { class: "tile__status" },
      el("span", { class: "status-chip" }, t(`agent.status.${agent.status}`)),
      agent.open_alerts > 0 ? el("span", { class: "tile__alerts" }, t("agent.open_alerts", { n: agent.open_alerts })) : null),
    el("dl", { class: "tile__vitals" },
      vital(t("agent.hr"), formatQuantity("unit.bpm", agent.hr_bpm)),
      vital(t("agent.battery"), formatQuantity("unit.pct", agent.battery_pct)),
      vital(t("agent.last_seen"), sinceElement(agent.last_seen))),
    device,
  );
  return element;
}

function vital(label, value) {
  return el("div", {}, el("dt", {}, label), el("dd", {}, value));
}

/** An element the per-second ticker keeps showing "il y a 5 s" in; `isoTime` null means never. */
function sinceElement(isoTime) {
  if (!isoTime) return el("span", {}, t("agent.never_seen"));
  return el("time", { datetime: isoTime, title: formatClock(isoTime), dataset: { since: isoTime } });
}

// Robot panel.

function renderRobots(force) {
  const compare = textOrder();
  const robots = [...state.robots.values()].sort((a, b) => compare(a.robot_id, b.robot_id));
  reconcile(ui.robotRows, robots, (robot) => robot.robot_id, drawRobotRow, force);
  ui.robotEmpty.hidden = robots.length > 0 || !state.hasSnapshot;
  ui.robotTable.hidden = robots.length === 0;
}

function drawRobotRow(robot, element = el("tr")) {
  let safety = "running";
  if (robot.estop) safety = "estop";
  else if (robot.protective_stop) safety = "protective_stop";
  element.className = `robot robot--${safety}`;
  Object.assign(element.dataset, { testid: "robot-row", robotId: robot.robot_id, safety });
  fill(element,
    el("th", { scope: "row" }, robot.robot_id),
    el("td", {}, robot.kind ?? t("value.none")),
    el("td", {}, el("span", { class: "status-chip" }, t(`robot.${safety}`))),
    el("td", {}, robot.mode ?? t("value.none")),
    el("td", {}, formatQuantity("unit.m", robot.nearest_human_m, 1)),
    el("td", {}, formatQuantity("unit.ms", robot.speed_ms, 1)),
    el("td", {}, formatQuantity("unit.kg", robot.payload_kg)),
    el("td", {}, formatQuantity("unit.pct", robot.battery_pct)),
    el("td", {}, sinceElement(robot.last_seen)),
  );
  return element;
}

/** Refreshes every "il y a 5 s" text; runs each second and after each render. */
function updateElapsed() {
  const now = Date.now();
  for (const element of document.querySelectorAll("[data-since]")) {
    const text = formatAgo(now + state.serverOffsetMs - Date.parse(element.dataset.since));
    if (element.textContent !== text) element.textContent = text;
  }
}

// New critical alerts: a flash and a short beep (WebAudio, no file to fetch).

const FLASH_MS = 3_000; // matches the CSS pulses
let pageFlashTimer = null;

function flash(element) {
  element.classList.add("is-new");
  setTimeout(() => element.classList.remove("is-new"), FLASH_MS);
  document.body.classList.add("is-flashing");
  clearTimeout(pageFlashTimer);
  pageFlashTimer = setTimeout(() => document.body.classList.remove("is-flashing"), FLASH_MS);
}

const sound = {
  enabled: readPref(SOUND_PREF, "on") === "on",
  context: null,
  lastBeepAt: 0,

  /** Browsers only start audio after a user gesture; call this from one. */
  unlock() {
    this.context ??= new AudioContext();
    if (this.context.state === "suspended") this.context.resume();
  },

  beep() {
    if (!this.enabled || this.context?.state !== "running") return;
    if (Date.now() - this.lastBeepAt < BEEP_MIN_INTERVAL_MS) return;
    this.lastBeepAt = Date.now();
    const start = this.context.currentTime;
    for (const [offsetS, frequencyHz] of [[0, 880], [0.22, 1175]]) {
      const oscillator = new OscillatorNode(this.context, { type: "square", frequency: frequencyHz });
      const gain = new GainNode(this.context, { gain: 0 });
      // Short ramps avoid the click of a hard start and stop.
      gain.gain.setValueAtTime(0, start + offsetS);
      gain.gain.linearRampToValueAtTime(0.2, start + offsetS + 0.01);
      gain.gain.linearRampToValueAtTime(0, start + offsetS + 0.18);
      oscillator.connect(gain).connect(this.context.destination);
      oscillator.start(start + offsetS);
      oscillator.stop(start + offsetS + 0.2);
    }
  },
};

function announceNewCritical(alert) {
  state.newCritical.add(alert.alert_id);
  sound.beep();
}

// Live connection: a REST snapshot on every (re)connect, so nothing that happened while disconnected is
// missed. It is fetched on "hello", which the server sends as it subscribes this socket, so snapshot and
// live stream overlap rather than leave a gap; messages arriving meanwhile wait in `buffered` and are
// replayed over the snapshot.

let live = null;
let generation = 0; // one per connection: a snapshot answering for a dropped connection is discarded
let buffered = null; // null when no snapshot is loading

const liveHandlers = {
  onOpen() {
    generation += 1;
    buffered = [];
  },
  onMessage(message) {
    if (message.type === "hello") {
      const serverTime = Date.parse(message.server_time);
      if (!Number.isNaN(serverTime)) state.serverOffsetMs = serverTime - Date.now();
      loadSnapshot(generation);
    } else if (buffered) {
      buffered.push(message);
    } else {
      applyMessage(message);
    }
  },
  onClose() {
    generation += 1;
    buffered = null;
    setConnection("lost");
  },
};

async function loadSnapshot(forGeneration) {
  let alerts, agents, robots;
  try {
    [alerts, agents, robots] = await Promise.all([api.listOpenAlerts(), api.listAgents(), api.listRobots()]);
  } catch (error) {
    console.warn("snapshot failed, reconnecting:", error);
    if (forGeneration === generation) live.reconnect();
    return;
  }
  if (forGeneration !== generation) return;

  const known = new Set(state.alerts.keys());
  // Open alerts this page knew but the server no longer lists were resolved while we were away.
  for (const [alertId, alert] of state.alerts) if (alert.status !== "resolved") state.alerts.delete(alertId);
  for (const alert of alerts) {
    upsertAlert(alert);
    // Raised while this page was disconnected: as new to the supervisor as a live one.
    const missed = state.hasSnapshot && !known.has(alert.alert_id);
    if (missed && alert.severity === "critical" && alert.status === "raised") announceNewCritical(alert);
  }
  state.agents = new Map(agents.map((agent) => [agent.agent_id, agent]));
  crewLayout = null;
  state.robots = new Map(robots.map((robot) => [robot.robot_id, robot]));
  state.hasSnapshot = true;

  const replay = buffered;
  buffered = null;
  for (const message of replay) applyMessage(message);
  for (const panel of ["alerts", "agents", "robots"]) markDirty(panel);
  setConnection("open");
}

function applyMessage(message) {
  switch (message.type) {
    case "alert.raised":
      if (message.alert.severity === "critical" && !state.alerts.has(message.alert.alert_id)) {
        announceNewCritical(message.alert);
      }
      upsertAlert(message.alert);
      break;
    case "alert.updated":
      upsertAlert(message.alert);
      break;
    case "agents.changed":
      for (const agent of message.items) upsertAgent(agent);
      break;
    case "robots.changed":
      for (const robot of message.items) state.robots.set(robot.robot_id, robot);
      markDirty("robots");
      break;
    case "device.status":
      state.deviceLinks.set(message.device_id, message.status);
      // Tiles redraw when their record object changes; give the wearer's a new one.
      for (const agent of state.agents.values()) {
        if (agent.device_id === message.device_id) upsertAgent({ ...agent });
      }
      break;
    default:
      // Unknown types are ignored, so the server can add new ones before the dashboard uses them.
      break;
  }
}

function setConnection(connection) {
  ui.connection.dataset.state = connection;
  ui.connectionText.dataset.i18n = `conn.${connection}`;
  ui.connectionText.textContent = t(`conn.${connection}`);
  ui.banner.hidden = connection !== "lost";
}

// Actions: acknowledge and resolve, as the supervisor named in the header.

function supervisorName() {
  return ui.supervisor.value.trim() || DEFAULT_SUPERVISOR;
}

let noticeTimer = null;

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    ui.notice.hidden = true;
  }, NOTICE_MS);
}

function describeError(error) {
  if (error instanceof api.ApiError) {
    return error.status === 409 ? t("error.conflict") : t("error.request", { status: error.status });
  }
  return t("error.network");
}

// Buttons busy with a request are marked aria-disabled rather than disabled: a disabled button drops
// keyboard focus, and the supervisor would have to find their place again.
function isBusy(button) {
  return button.getAttribute("aria-disabled") === "true";
}

function setBusy(button, busy) {
  if (busy) button.setAttribute("aria-disabled", "true");
  else button.removeAttribute("aria-disabled");
}

async function acknowledge(alertId, button) {
  if (isBusy(button)) return;
  setBusy(button, true);
  try {
    upsertAlert(await api.acknowledgeAlert(alertId, supervisorName()));
  } catch (error) {
    setBusy(button, false);
    showNotice(describeError(error));
  }
}

let resolvingId = null;

function openResolveDialog(alertId) {
  const alert = state.alerts.get(alertId);
  if (!alert) return;
  resolvingId = alertId;
  ui.resolveForm.reset();
  ui.resolveError.hidden = true;
  ui.resolveSubject.textContent = `${ruleLabel(alert.rule)} — ${subjectLabel(alert)}`;
  ui.resolveDialog.showModal();
}

async function submitResolve(event) {
  event.preventDefault();
  if (isBusy(ui.resolveConfirm)) return;
  const form = new FormData(ui.resolveForm);
  const comment = String(form.get("comment") ?? "").trim();
  setBusy(ui.resolveConfirm, true);
  try {
    const updated = await api.resolveAlert(resolvingId, {
      reason: form.get("reason"),
      comment: comment || null,
      by: supervisorName(),
    });
    upsertAlert(updated);
    ui.resolveDialog.close();
  } catch (error) {
    ui.resolveError.textContent = describeError(error);
    ui.resolveError.hidden = false;
  } finally {
    setBusy(ui.resolveConfirm, false);
  }
}

ui.alertFeed.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const alertId = button.closest("[data-alert-id]").dataset.alertId;
  if (button.dataset.action === "ack") acknowledge(alertId, button);
  else if (button.dataset.action === "resolve") openResolveDialog(alertId);
});
ui.resolveForm.addEventListener("submit", submitResolve);
query("resolve-cancel").addEventListener("click", () => ui.resolveDialog.close());
ui.resolveDialog.addEventListener("close", () => {
  // The browser returns focus to the button that opened the dialog, unless a live update redrew the
  // alert meanwhile; then bring keyboard focus back to the alert itself.
  const item = ui.alertFeed.querySelector(`[data-alert-id="${CSS.escape(resolvingId ?? "")}"]`);
  if (item && !item.contains(document.activeElement)) (item.querySelector('[data-action="resolve"]') ?? item).focus();
});

// Header controls.

ui.supervisor.value = readPref(SUPERVISOR_PREF, DEFAULT_SUPERVISOR);
ui.supervisor.addEventListener("change", () => writePref(SUPERVISOR_PREF, supervisorName()));

function drawSoundToggle() {
  ui.soundToggle.setAttribute("aria-pressed", String(sound.enabled));
  ui.soundToggle.title = t(sound.enabled ? "sound.on_title" : "sound.off_title");
}

ui.soundToggle.addEventListener("click", () => {
  sound.enabled = !sound.enabled;
  writePref(SOUND_PREF, sound.enabled ? "on" : "off");
  drawSoundToggle();
});
for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(type, () => sound.unlock(), { once: true, capture: true });
}

function drawLanguage() {
  translatePage();
  ui.langToggle.textContent = t("lang.toggle");
  ui.langToggle.title = t("lang.toggle_title");
  ui.langToggle.lang = lang() === "fr" ? "en" : "fr";
  drawSoundToggle();
}

ui.langToggle.addEventListener("click", toggleLang);
onLangChange(() => {
  drawLanguage();
  render(true);
});

// Start.

drawLanguage();
setConnection("connecting");
render(true);
live = api.connectLive(liveHandlers);
setInterval(() => {
  pruneResolved();
  updateElapsed();
}, 1_000);
