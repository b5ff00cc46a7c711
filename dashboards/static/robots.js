// The robot panel: one table row per robot, with its safety state (e-stop, protective stop or running),
// mode, nearest person, speed, payload, battery and last seen. Owns the table body and the empty-state line.
// Every robot reports each second, so a row is built once and then only its texts that differ are set:
// rebuilding a hundred rows a second made the browser restyle and relayout the whole page each second.

import { el, query, reconcile, setText } from "./dom.js";
import { formatClock, formatQuantity, sinceElement, textOrder } from "./format.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

const table = query("robot-table");
const rows = table.tBodies[0];
const empty = query("robot-empty");
const cellsOf = new WeakMap(); // row -> its cells, in column order
let forcing = false; // a language change: every text is redrawn

/** Redraws the table in robot-id order; only rows whose robot record changed are redrawn unless `force`. */
export function renderRobots(force) {
  const compare = textOrder();
  const robots = [...state.robots.values()].sort((a, b) => compare(a.robot_id, b.robot_id));
  forcing = Boolean(force);
  reconcile(rows, robots, (robot) => robot.robot_id, drawRobotRow, force);
  empty.hidden = robots.length > 0 || !state.hasSnapshot;
  table.hidden = robots.length === 0;
}

function drawRobotRow(robot, element) {
  let cells = element && cellsOf.get(element);
  if (!cells) {
    cells = [el("th", { scope: "row" }), ...Array.from({ length: 8 }, () => el("td"))];
    cells[2].append(el("span", { class: "status-chip" }));
    element = el("tr", {}, ...cells);
    cellsOf.set(element, cells);
  }
  let safety = "running";
  if (robot.estop) safety = "estop";
  else if (robot.protective_stop) safety = "protective_stop";
  element.className = `robot robot--${safety}`;
  Object.assign(element.dataset, { testid: "robot-row", robotId: robot.robot_id, safety });
  const [id, kind, chip, mode, nearest, speed, payload, battery, seen] = cells;
  setText(id, robot.robot_id);
  setText(kind, robot.kind ?? t("value.none"));
  setText(chip.firstChild, t(`robot.${safety}`));
  setText(mode, robot.mode ?? t("value.none"));
  setText(nearest, formatQuantity("unit.m", robot.nearest_human_m, 1));
  setText(speed, formatQuantity("unit.ms", robot.speed_ms, 1));
  setText(payload, formatQuantity("unit.kg", robot.payload_kg));
  setText(battery, formatQuantity("unit.pct", robot.battery_pct));
  drawSeen(seen, robot.last_seen);
  return element;
}

/** The "last seen" cell: its <time> is kept and re-pointed (format.js's ticker writes its text). */
function drawSeen(cell, isoTime) {
  const shown = cell.firstElementChild;
  if (!forcing && isoTime && shown?.localName === "time") {
    if (shown.dataset.since === isoTime) return;
    shown.dateTime = isoTime;
    shown.title = formatClock(isoTime);
    shown.dataset.since = isoTime;
  } else if (forcing || !shown || Boolean(isoTime) !== (shown.localName === "time")) {
    cell.replaceChildren(sinceElement(isoTime));
  }
}
