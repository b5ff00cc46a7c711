// The crew board: one section per crew, one tile per agent (status, open alerts, vitals, last seen, and
// whether their wearable is missing or offline). Owns the board and its empty-state line.

import { el, fill, query, reconcile } from "./dom.js";
import { formatQuantity, sinceElement, textOrder } from "./format.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

const board = query("crew-board");
const empty = query("crew-empty");

// Crews and agents in display order, as ids. Sorting 10,000 names takes a good part of a frame, so the
// layout is kept until the store's roster changes (an agent appears, leaves, is renamed or changes crew).
let crewLayout = null;
let layoutVersion = -1;

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

/** Redraws the board; only tiles whose agent record changed are rebuilt unless `force`. */
export function renderCrewBoard(force) {
  if (force || layoutVersion !== state.rosterVersion) {
    crewLayout = layoutCrews();
    layoutVersion = state.rosterVersion;
  }
  const crews = crewLayout.map(({ crewId, agentIds }) => ({
    crewId,
    agents: agentIds.map((agentId) => state.agents.get(agentId)),
  }));
  reconcile(board, crews, (crew) => crew.crewId, (crew, element) => drawCrew(crew, element, force), force);
  empty.hidden = crews.length > 0 || !state.hasSnapshot;
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
