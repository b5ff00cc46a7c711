// The page around the map's canvas: zoom buttons, the "no basemap" note, the basemap's attribution, the
// popover over a robot or a crew's area, the legend (its symbols drawn by the map's own functions, so
// they always match) and the CNIL note. Text comes from i18n.js; nothing here knows where things are.

import { el, fill } from "./dom.js";
import { formatQuantity, sinceElement } from "./format.js";
import { t } from "./i18n.js";
import { COLOURS, drawAgentMarker, drawRobotMarker } from "./map-draw.js";

const SWATCH_PX = 30;

/** Builds the map's elements inside `container` and returns them. */
export function buildMapUi(container) {
  // data-testid, and data-i18n for translatePage when the element's text is a catalogue entry.
  const testid = (id, i18n) => (i18n ? { testid: id, i18n } : { testid: id });
  const canvas = el("canvas", { class: "map__canvas", tabindex: "0", role: "img", dataset: testid("map-canvas") });
  // The basemap and the crews' areas, under the canvas of symbols: redrawn only when they change, and
  // composed with the symbols by the browser rather than copied into them on every frame.
  const base = el("canvas", { class: "map__base", "aria-hidden": "true" });
  const control = (id, text, i18n) => el("button", {
    type: "button", class: `button map__control${i18n ? " map__control--text" : ""}`, dataset: testid(id, i18n),
  }, text);
  const zoomIn = control("map-zoom-in", "+");
  const zoomOut = control("map-zoom-out", "−");
  const fit = control("map-fit", t("map.fit"), "map.fit");
  const note = el("p", { class: "map__note", hidden: true, dataset: testid("map-basemap-note", "map.no_basemap") },
    t("map.no_basemap"));
  const popover = el("div", { class: "map__popover", hidden: true, "aria-live": "polite",
    dataset: testid("map-popover") });
  const attribution = el("p", { class: "map__attribution", dataset: testid("map-attribution") });
  const legendTitle = el("h3", { class: "visually-hidden", id: "map-legend-title", dataset: { i18n: "map.legend" } },
    t("map.legend"));
  const legendItems = LEGEND.map(([key, draw]) =>
    el("li", {}, swatch(draw), el("span", { dataset: { i18n: key } }, t(key))));
  const legend = el("ul", { class: "map__legend", "aria-labelledby": "map-legend-title",
    dataset: testid("map-legend") }, ...legendItems);
  const cnil = el("p", { class: "map__cnil", dataset: testid("map-cnil", "map.cnil") }, t("map.cnil"));
  const controls = el("div", { class: "map__controls" }, zoomIn, zoomOut, fit);
  const frame = el("div", { class: "map__frame" }, base, canvas, controls, note, popover);
  fill(container, frame, attribution, legendTitle, legend, cnil);
  const ui = { canvas, ctx: canvas.getContext("2d"), base, baseCtx: base.getContext("2d"), zoomIn, zoomOut, fit, note,
    popover, attribution };
  relabel(ui);
  return ui;
}

/** Sets the labels translatePage cannot (attributes); after a language change. */
export function relabel(ui) {
  ui.zoomIn.setAttribute("aria-label", t("map.zoom_in"));
  ui.zoomIn.title = t("map.zoom_in");
  ui.zoomOut.setAttribute("aria-label", t("map.zoom_out"));
  ui.zoomOut.title = t("map.zoom_out");
  ui.fit.title = t("map.fit_title");
}

/** What the canvas shows, for screen readers: "Carte : 3 agents en alerte localisés, 12 robots, …". */
export function summary(markers, robots, areas) {
  return t("map.summary", {
    markers: t("map.summary.markers", { n: markers }),
    robots: t("map.summary.robots", { n: robots }),
    areas: t("map.summary.areas", { n: areas }),
  });
}

/** Fills the popover with a robot's details. */
export function showRobot(popover, robot, safety) {
  showDetails(popover, robot.robot_id, [
    [t("robot.kind"), robot.kind ?? t("value.none")],
    [t("robot.safety"), t(`robot.${safety}`)],
    [t("robot.mode"), robot.mode ?? t("value.none")],
    [t("robot.speed"), formatQuantity("unit.ms", robot.speed_ms, 1)],
    [t("robot.nearest_human"), formatQuantity("unit.m", robot.nearest_human_m, 1)],
    [t("robot.battery"), formatQuantity("unit.pct", robot.battery_pct)],
    [t("robot.last_seen"), sinceElement(robot.last_seen)],
  ]);
}

/** Fills the popover with a crew's details; `counts` are its agents and agents in alert, as drawn. */
export function showCrew(popover, crew, counts) {
  showDetails(popover, crew.name || t("crew.name", { crew: crew.crew_id }), [
    [t("map.crew.agents"), String(counts.agents)],
    [t("map.crew.in_alert"), String(counts.inAlert)],
    [t("map.crew.site"), crew.site_id ?? t("value.none")],
  ]);
}

function showDetails(popover, title, rows) {
  fill(popover,
    el("div", { class: "map__popover-head" },
      el("h3", { class: "map__popover-title" }, title),
      el("button", { type: "button", class: "map__popover-close", "aria-label": t("map.close"), title: t("map.close"),
        dataset: { testid: "map-popover-close" } }, "×")),
    el("dl", { class: "map__popover-details" },
      ...rows.map(([term, value]) => el("div", {}, el("dt", {}, term), el("dd", {}, value)))));
  popover.hidden = false;
}

/**
 * Places the popover beside (x, y), CSS px over the canvas: below and to the right, or on the other side
 * when that would leave the map, so it never covers what it describes. Hidden while (x, y) is off the map.
 */
export function placePopover(popover, x, y, width, height) {
  if (x < 0 || y < 0 || x > width || y > height) {
    popover.style.visibility = "hidden";
    return;
  }
  popover.style.visibility = "";
  const gapPx = 14;
  const { offsetWidth: boxWidth, offsetHeight: boxHeight } = popover;
  const left = x + gapPx + boxWidth <= width ? x + gapPx : x - gapPx - boxWidth;
  const top = y + gapPx + boxHeight <= height ? y + gapPx : y - gapPx - boxHeight;
  const clampedLeft = Math.max(0, Math.min(left, width - boxWidth));
  const clampedTop = Math.max(0, Math.min(top, height - boxHeight));
  popover.style.transform = `translate(${Math.round(clampedLeft)}px, ${Math.round(clampedTop)}px)`;
}

const LEGEND = [
  ["map.legend.agent_critical", (ctx) => drawAgentMarker(ctx, 15, 15, "critical")],
  ["map.legend.agent_alert", (ctx) => drawAgentMarker(ctx, 15, 15, "warning")],
  ["map.legend.robot_running", (ctx) => drawRobotMarker(ctx, 14, 15, Math.PI / 2, "running")],
  ["map.legend.robot_protective_stop", (ctx) => drawRobotMarker(ctx, 13, 15, 0, "protective_stop")],
  ["map.legend.robot_estop", (ctx) => drawRobotMarker(ctx, 13, 15, 0, "estop")],
  ["map.legend.area", (ctx) => areaSwatch(ctx, false)],
  ["map.legend.area_alert", (ctx) => areaSwatch(ctx, true)],
];

function swatch(draw) {
  const size = SWATCH_PX * 2;
  const canvas = el("canvas", { class: "map__swatch", "aria-hidden": "true", width: size, height: size });
  const ctx = canvas.getContext("2d");
  ctx.scale(2, 2); // drawn at twice the size: sharp on high-density screens
  draw(ctx);
  return canvas;
}

function areaSwatch(ctx, inAlert) {
  ctx.beginPath();
  ctx.rect(4, 6, 22, 18);
  ctx.fillStyle = inAlert ? COLOURS.criticalFill : COLOURS.areaFill;
  ctx.fill();
  ctx.lineWidth = inAlert ? 3 : 1.25;
  ctx.strokeStyle = inAlert ? COLOURS.critical : COLOURS.area;
  ctx.stroke();
}
