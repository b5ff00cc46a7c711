// The client-side store: what this page knows of alerts, agents, robots and device links, as the API
// said it. Panels read `state`; only the functions here change it.
//
// The store keeps two rules of its own. An alert's status never goes backwards (raised → acknowledged →
// resolved), whatever order the replies and live messages arrive in. And updates are coalesced: each
// change marks its panel dirty and asks for one animation frame, so a burst of messages (10,000 agents
// reporting) costs one render, of the panels that changed.
//
// With 10,000 agents a panel must not walk every agent on each frame, so the store also keeps what the
// map needs as the records change (each crew's head counts, the agents placed on the map) and which
// agent wears which device: an update costs the agents it brings, a render the records it draws.

const RESOLVED_LINGER_MS = 60_000; // a resolved alert stays in the feed, greyed, for everyone to see
const STATUS_ORDER = ["raised", "acknowledged", "resolved"];

/** The panels a change can mark dirty, each drawn by its own module. */
export const PANELS = ["alerts", "agents", "robots", "crews", "map"];

export const state = {
  alerts: new Map(), // alert_id -> Alert
  resolvedSeenAt: new Map(), // alert_id -> Date.now() when this page learnt it was resolved
  lastComments: new Map(), // alert_id -> {by, text, at}, the latest comment heard live
  agents: new Map(), // agent_id -> Agent
  robots: new Map(), // robot_id -> Robot
  crews: new Map(), // crew_id -> Crew (name, site, work area), from the snapshot
  deviceLinks: new Map(), // device_id -> "online" | "offline"
  crewCounts: new Map(), // crew_id -> {agents, inAlert}: its agents in the store, and how many are in alert
  countsVersion: 0, // bumped when a head count in crewCounts changes
  located: new Map(), // agent_id -> Agent whose record carries a position (the server sends one only in alert)
  // Bumped when an agent appears, leaves, is renamed or changes crew: the crew board's order is stale.
  rosterVersion: 0,
  serverOffsetMs: 0, // server clock minus ours, from the hello message
  hasSnapshot: false,
};

const dirty = new Set();
const wearersOf = new Map(); // device_id -> Set of the agent_ids whose record names that device
let frameRequested = false;
let drawFrame = () => {};

/** Sets what runs on the animation frame after a change; it collects the changed panels with `takeDirty`. */
export function onFrame(callback) {
  drawFrame = callback;
}

export function markDirty(panel) {
  dirty.add(panel);
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    drawFrame();
  });
}

/** The panels changed since the last call; the caller is about to draw them. */
export function takeDirty() {
  const panels = new Set(dirty);
  dirty.clear();
  return panels;
}

export function upsertAlert(alert) {
  const known = state.alerts.get(alert.alert_id);
  // The reply to our own ack may arrive after a live message saying someone resolved it: never go back.
  if (known && STATUS_ORDER.indexOf(alert.status) < STATUS_ORDER.indexOf(known.status)) return;
  state.alerts.set(alert.alert_id, alert);
  if (alert.status !== "resolved") state.resolvedSeenAt.delete(alert.alert_id);
  else if (!state.resolvedSeenAt.has(alert.alert_id)) state.resolvedSeenAt.set(alert.alert_id, Date.now());
  markDirty("alerts");
  // The agent's tile shows the alert now, not at the server's next agents.changed: give it a new record.
  const agent = alert.agent_id ? state.agents.get(alert.agent_id) : undefined;
  if (agent) upsertAgent({ ...agent });
}

/** Records the latest comment on an alert, from the live stream (there is no REST call for it). */
export function setLastComment({ alert_id: alertId, by, text, at }) {
  const known = state.lastComments.get(alertId);
  if (known && Date.parse(known.at) > Date.parse(at)) return;
  state.lastComments.set(alertId, { by, text, at });
  // The feed redraws an alert when its record object changes; give it a new one.
  const alert = state.alerts.get(alertId);
  if (alert) {
    state.alerts.set(alertId, { ...alert });
    markDirty("alerts");
  }
}

/** Drops resolved alerts that have lingered long enough; runs each second. */
export function pruneResolved() {
  for (const [alertId, seenAt] of state.resolvedSeenAt) {
    if (Date.now() - seenAt < RESOLVED_LINGER_MS) continue;
    state.resolvedSeenAt.delete(alertId);
    state.alerts.delete(alertId);
    state.lastComments.delete(alertId);
    markDirty("alerts");
  }
}

export function upsertAgent(agent) {
  putAgent(agent);
  markDirty("agents");
}

/** Many agents' records at once (an agents.changed message holds up to every agent on shift). */
export function upsertAgents(agents) {
  for (const agent of agents) putAgent(agent);
  markDirty("agents");
}

function putAgent(agent) {
  const known = state.agents.get(agent.agent_id);
  if (!known || known.display_name !== agent.display_name || known.crew_id !== agent.crew_id) {
    state.rosterVersion += 1;
  }
  state.agents.set(agent.agent_id, agent);
  reindex(known, agent);
}

/** Whether an agent counts as in alert in its crew's head count (the map's red areas and badges). */
function inAlert(agent) {
  return agent.open_alerts > 0 || agent.status === "alert";
}

function count(agent, step) {
  if (!agent?.crew_id) return;
  const counts = state.crewCounts.get(agent.crew_id) ?? { agents: 0, inAlert: 0 };
  counts.agents += step;
  if (inAlert(agent)) counts.inAlert += step;
  if (counts.agents > 0) state.crewCounts.set(agent.crew_id, counts);
  else state.crewCounts.delete(agent.crew_id);
}

/**
 * Keeps the indexes in step as `before` (undefined for a new agent) becomes `after`. Runs for every agent
 * of every agents.changed message, so it touches an index only where the record changed.
 */
function reindex(before, after) {
  if (before?.device_id !== after.device_id) {
    const previous = wearersOf.get(before?.device_id);
    previous?.delete(after.agent_id);
    if (previous?.size === 0) wearersOf.delete(before.device_id);
    if (after.device_id) {
      if (!wearersOf.has(after.device_id)) wearersOf.set(after.device_id, new Set());
      wearersOf.get(after.device_id).add(after.agent_id);
    }
  }
  if (after.position) state.located.set(after.agent_id, after);
  else if (before?.position) state.located.delete(after.agent_id);
  if (before && before.crew_id === after.crew_id && inAlert(before) === inAlert(after)) return;
  count(before, -1);
  count(after, 1);
  state.countsVersion += 1;
}

export function upsertRobots(robots) {
  for (const robot of robots) state.robots.set(robot.robot_id, robot);
  markDirty("robots");
}

/** Records a wearable's link ("online" | "offline"); its wearer's tile shows it. */
export function setDeviceLink(deviceId, status) {
  state.deviceLinks.set(deviceId, status);
  // Tiles redraw when their record object changes; give the wearer's a new one.
  for (const agentId of [...(wearersOf.get(deviceId) ?? [])]) upsertAgent({ ...state.agents.get(agentId) });
}

/** Notes how far the server's clock is from ours, so "il y a 5 s" counts from the server's time. */
export function setServerTime(isoTime) {
  const serverTime = Date.parse(isoTime);
  if (!Number.isNaN(serverTime)) state.serverOffsetMs = serverTime - Date.now();
}

/**
 * Takes a REST snapshot: agents and robots are replaced, open alerts merged. Returns the critical alerts
 * raised while this page was disconnected, as new to the supervisor as live ones.
 */
export function applySnapshot({ alerts, agents, robots, crews }) {
  const known = new Set(state.alerts.keys());
  // Open alerts this page knew but the server no longer lists were resolved while we were away.
  for (const [alertId, alert] of state.alerts) if (alert.status !== "resolved") state.alerts.delete(alertId);
  const missed = [];
  for (const alert of alerts) {
    upsertAlert(alert);
    const isNew = state.hasSnapshot && !known.has(alert.alert_id);
    if (isNew && alert.severity === "critical" && alert.status === "raised") missed.push(alert);
  }
  state.agents = new Map(agents.map((agent) => [agent.agent_id, agent]));
  state.rosterVersion += 1;
  wearersOf.clear();
  state.crewCounts = new Map();
  state.located = new Map();
  for (const agent of state.agents.values()) reindex(undefined, agent);
  state.robots = new Map(robots.map((robot) => [robot.robot_id, robot]));
  state.crews = new Map(crews.map((crew) => [crew.crew_id, crew]));
  state.hasSnapshot = true;
  for (const panel of PANELS) markDirty(panel);
  return missed;
}
