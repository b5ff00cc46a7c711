// A small line chart in SVG, for curves over one working day: a time axis in local time, a y axis with
// round ticks, the series as one line (broken where a minute has no value), and reference lines drawn
// dashed and labelled. It draws what it is given and knows no thresholds of its own: the lines and their
// labels come from the caller (from the API). Also the data table that goes under a chart, so a screen
// reader user gets the same numbers as a sighted one.

import { el } from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 520;
const HEIGHT = 210;
const MARGIN = { top: 14, right: 14, bottom: 28, left: 56 };
const PLOT = { left: MARGIN.left, right: WIDTH - MARGIN.right, top: MARGIN.top, bottom: HEIGHT - MARGIN.bottom };
const MINUTE_MS = 60_000;
// Tick spacings on the time axis, in minutes: the first one giving at most MAX_TIME_TICKS ticks is used.
const TIME_STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360];
const MAX_TIME_TICKS = 7;
const LABEL_GAP_PX = 13; // at least one text line between two threshold labels
const EDGE_LABEL_PX = 14; // half a time label, less the right margin

/** Builds an SVG element; attribute values are set as given, text children as text nodes. */
function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) element.append(child);
  }
  return element;
}

const offsetFormats = new Map(); // time zone -> Intl.DateTimeFormat

/**
 * Minutes the wall clock of `timeZone` is ahead of UTC at `ms` (Europe/Paris: 60 in winter, 120 in summer),
 * so time ticks and sampled rows fall on round local times whatever the browser's own zone.
 */
function utcOffsetMinutes(ms, timeZone) {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric",
    });
    offsetFormats.set(timeZone, format);
  }
  const parts = {};
  for (const { type, value } of format.formatToParts(new Date(ms))) parts[type] = Number(value);
  const wallClockAsUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
  return Math.round((wallClockAsUtc - Math.floor(ms / MINUTE_MS) * MINUTE_MS) / MINUTE_MS);
}

/**
 * The rows of a table of `times` (ms) a reader can go through: all of them up to `maxRows`, else one every
 * `everyMin` minutes of local time, plus the first and the last.
 */
export function sampledIndices(times, timeZone, maxRows, everyMin) {
  const all = times.map((_, index) => index);
  if (times.length <= maxRows) return all;
  const offsetMin = utcOffsetMinutes(times[0], timeZone);
  return all.filter((index) => index === 0 || index === times.length - 1
    || (Math.floor(times[index] / MINUTE_MS) + offsetMin) % everyMin === 0);
}

/** Tick times (ms) on round local minutes between `startMs` and `endMs`. */
function timeTicks(startMs, endMs, timeZone) {
  const spanMin = (endMs - startMs) / MINUTE_MS;
  const stepMin = TIME_STEPS_MIN.find((step) => spanMin / step <= MAX_TIME_TICKS) ?? 720;
  // The offset at the start of the span: a daylight-saving change falls at night, outside working hours.
  const offsetMin = utcOffsetMinutes(startMs, timeZone);
  const firstLocalMin = Math.ceil((startMs / MINUTE_MS + offsetMin) / stepMin) * stepMin;
  const ticks = [];
  for (let localMin = firstLocalMin; (localMin - offsetMin) * MINUTE_MS <= endMs; localMin += stepMin) {
    ticks.push((localMin - offsetMin) * MINUTE_MS);
  }
  return ticks;
}

/** A round step (1, 2, 2.5 or 5 × 10ⁿ) cutting `span` into about `count` parts. */
function niceStep(span, count) {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const factor = normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 2.5 ? 2.5 : normalised <= 5 ? 5 : 10;
  return factor * magnitude;
}

/** The y range and ticks: it covers the values and every reference line, so no line falls off the chart. */
function valueScale(values, lines, fromZero) {
  const measured = values.filter((value) => value !== null && value !== undefined);
  const known = [...measured, ...lines.map((line) => line.value)];
  let low = known.length ? Math.min(...known) : 0;
  let high = known.length ? Math.max(...known) : 1;
  if (fromZero) low = Math.min(0, low);
  if (high - low < 1e-9) {
    high += fromZero ? 1 : 0.5;
    low -= fromZero ? 0 : 0.5;
  }
  const step = niceStep(high - low, 4);
  const min = Math.floor(low / step) * step;
  let max = Math.ceil(high / step) * step;
  // Room above the highest line for its label.
  if (lines.some((line) => max - line.value < step * 0.2)) max += step;
  const ticks = [];
  for (let tick = min; tick <= max + step / 1000; tick += step) ticks.push(Number(tick.toFixed(10)));
  return { min, max, ticks };
}

/**
 * Draws one series over time as an accessible SVG image.
 *
 * `times` are ms since the epoch, `values` numbers or null (no value that minute: the line breaks there);
 * `domain` is [startMs, endMs] of the time axis. Each of `lines` is {key, value, label, dash, tone}: drawn
 * as a horizontal line with that dash pattern (so it is told apart without colour) and its label.
 * `formatTime(ms)` and `formatValue(v)` format tick labels in the page language; `timeZone` places the
 * ticks on round local times. Values are `stepMs` apart when there is no gap; across a gap the line breaks
 * (`continuity` "break", per-minute values) or stays flat ("hold", cumulative values). `emptyText` is shown
 * when no value is known.
 */
export function lineChart({ id, title, description, times, values, lines, domain, timeZone, formatTime,
  formatValue, fromZero = true, continuity = "break", stepMs = MINUTE_MS, emptyText }) {
  const [startMs, endMs] = domain;
  const y = valueScale(values, lines, fromZero);
  const xOf = (ms) => PLOT.left + ((ms - startMs) / Math.max(endMs - startMs, 1)) * (PLOT.right - PLOT.left);
  const yOf = (value) => PLOT.bottom - ((value - y.min) / (y.max - y.min)) * (PLOT.bottom - PLOT.top);
  const px = (number) => number.toFixed(1);

  const grid = svg("g", { class: "chart__grid", "aria-hidden": "true" });
  for (const tick of y.ticks) {
    const at = px(yOf(tick));
    grid.append(
      svg("line", { x1: PLOT.left, x2: PLOT.right, y1: at, y2: at, class: "chart__gridline" }),
      svg("text", { x: PLOT.left - 6, y: at, class: "chart__tick chart__tick--y", "text-anchor": "end",
        "dominant-baseline": "middle" }, formatValue(tick)));
  }
  for (const tick of timeTicks(startMs, endMs, timeZone)) {
    const x = xOf(tick);
    // A label centred on a tick at the right edge would be cut off by the image's border: end it there.
    const anchor = x > PLOT.right - EDGE_LABEL_PX ? "end" : "middle";
    grid.append(
      svg("line", { x1: px(x), x2: px(x), y1: PLOT.bottom, y2: PLOT.bottom + 4, class: "chart__axis" }),
      svg("text", { x: px(x), y: PLOT.bottom + 17, class: "chart__tick chart__tick--x", "text-anchor": anchor },
        formatTime(tick)));
  }
  grid.append(
    svg("line", { x1: PLOT.left, x2: PLOT.right, y1: PLOT.bottom, y2: PLOT.bottom, class: "chart__axis" }),
    svg("line", { x1: PLOT.left, x2: PLOT.left, y1: PLOT.top, y2: PLOT.bottom, class: "chart__axis" }));

  const thresholds = svg("g", { class: "chart__thresholds" });
  let previousLabelY = -Infinity;
  for (const line of [...lines].sort((a, b) => b.value - a.value)) {
    const at = yOf(line.value);
    // Above its line, unless that would overlap the label of the line just above: then lower.
    const labelY = Math.max(at - 4, previousLabelY + LABEL_GAP_PX, PLOT.top + 9);
    previousLabelY = labelY;
    thresholds.append(svg("g", { class: `chart__threshold chart__threshold--${line.tone}`, "data-line-key": line.key,
      "data-value": line.value },
    svg("line", { x1: PLOT.left, x2: PLOT.right, y1: px(at), y2: px(at), "stroke-dasharray": line.dash }),
    svg("text", { x: PLOT.right - 4, y: px(labelY), "text-anchor": "end" }, line.label)));
  }

  // Runs of points drawn as one line: a minute without a value, or a gap in time when the series is
  // per-minute ("break"), ends a run. A cumulative series ("hold") stays flat across a gap: nothing was added.
  const runs = [];
  let run = null;
  values.forEach((value, index) => {
    if (value === null || value === undefined) {
      run = null;
      return;
    }
    const previousMs = index > 0 ? times[index - 1] : null;
    const gap = run && times[index] - previousMs > stepMs;
    if (gap && continuity === "break") run = null;
    if (!run) runs.push((run = []));
    if (gap && continuity === "hold") run.push([times[index] - stepMs, run[run.length - 1][1]]);
    run.push([times[index], value]);
  });
  const known = values.filter((value) => value !== null && value !== undefined).length;
  const path = runs.map((points) => points.map(([ms, value], index) =>
    `${index ? "L" : "M"}${px(xOf(ms))},${px(yOf(value))}`).join(" ")).join(" ");
  // A lone minute makes no line; a dot shows it.
  const dots = svg("g", { class: "chart__dots" }, ...runs.filter((points) => points.length === 1).map(([[ms, value]]) =>
    svg("circle", { cx: px(xOf(ms)), cy: px(yOf(value)), r: 2.5 })));

  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  return svg("svg", { class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img",
    "aria-labelledby": `${titleId} ${descId}`, "data-testid": "chart", "data-points": known },
  svg("title", { id: titleId }, title),
  svg("desc", { id: descId }, description),
  grid,
  thresholds,
  svg("path", { class: "chart__series", d: path }),
  dots,
  known === 0 && emptyText
    ? svg("text", { x: (PLOT.left + PLOT.right) / 2, y: (PLOT.top + PLOT.bottom) / 2, class: "chart__empty",
      "text-anchor": "middle" }, emptyText)
    : null);
}

/**
 * A "show data" disclosure with a table: `columns` are header texts, `rows` arrays of cell texts (the first
 * cell heads its row); `note` says how the rows were chosen when they are a sample.
 */
export function dataTable({ summary, caption, columns, rows, note }) {
  return el("details", { class: "chart-data" },
    el("summary", {}, summary),
    note ? el("p", { class: "chart-data__note" }, note) : null,
    el("div", { class: "table-scroll" },
      el("table", { class: "chart-data__table" },
        el("caption", { class: "visually-hidden" }, caption),
        el("thead", {}, el("tr", {}, ...columns.map((column) => el("th", { scope: "col" }, column)))),
        el("tbody", {}, ...rows.map(([head, ...cells]) =>
          el("tr", {}, el("th", { scope: "row" }, head), ...cells.map((cell) => el("td", {}, cell))))))));
}
