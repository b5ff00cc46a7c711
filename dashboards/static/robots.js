// The robot panel: one table row per robot, with its safety state (e-stop, protective stop or running),
// mode, nearest person, speed, payload, battery and last seen. Owns the table body and the empty-state line.

import { el, fill, query, reconcile } from "./dom.js";
import { formatQuantity, sinceElement, textOrder } from "./format.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

const table = query("robot-table");
const rows = table.tBodies[0];
const empty = query("robot-empty");

/** Redraws the table in robot-id order; only rows whose robot record changed are rebuilt unless `force`. */
export function renderRobots(force) {
  const compare = textOrder();
  const robots = [...state.robots.values()].sort((a, b) => compare(a.robot_id, b.robot_id));
  reconcile(rows, robots, (robot) => robot.robot_id, drawRobotRow, force);
  empty.hidden = robots.length > 0 || !state.hasSnapshot;
  table.hidden = robots.length === 0;
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
