// The agent page: one agent's exposure today (noise dose, hand-arm vibration points, heat, lifting) as
// curves against the action and limit lines the API sends, with a live summary from the store. Opened from a
// crew-board tile or a map marker; its address is #/agents/{id}, so Back closes it and a link reopens it.
//
// The curves are refetched every minute while the page is open. Answers can arrive out of order (a slow
// request overtaken by the next one): only the newest request's answer is shown.

import * as api from "./api.js";
import { dataTable, lineChart, sampledIndices } from "./chart.js";
import { el, fill, query } from "./dom.js";
import { formatNumber } from "./format.js";
import { has, lang, locale, t } from "./i18n.js";
import { closeDialog, leaveAddress } from "./routed-dialog.js";
import { state } from "./state.js";

const ROUTE = /^#\/agents\/([^/]+)$/;
const REFRESH_MS = 60_000;
const LIVE_CHECK_MS = 1_000; // the summary follows the store; app.js only redraws this page on a language change
const MAX_TABLE_ROWS = 60; // beyond this a table is sampled, every SAMPLE_EVERY_MIN minutes
const SAMPLE_EVERY_MIN = 15;
const MIN_SPAN_MS = 10 * 60_000; // a time axis of at least ten minutes, so a first minute is not a vertical line

// What the page draws, in order: one panel per hazard, each with the series of the API response it shows.
// Cumulative series start from zero and stay flat over minutes without frames; per-minute ones break there.
const PANELS = [
  { key: "noise", series: [{ name: "noise_dose_pct", unit: "unit.pct", digits: 1, cumulative: true }] },
  { key: "hav", series: [{ name: "hav_points", unit: "agentpage.unit.points", digits: 0, cumulative: true }] },
  { key: "heat", series: [{ name: "wbgt_c", unit: "agentpage.unit.c", digits: 1 },
    { name: "hr_bpm", unit: "unit.bpm", digits: 0 }] },
  { key: "handling", series: [{ name: "lifts", unit: null, digits: 0, cumulative: true },
    { name: "tonnage_kg", unit: "unit.kg", digits: 0, cumulative: true }] },
];

// One dash pattern per meaning of a line, the same on every chart, so lines are told apart without colour.
const LINE_STYLES = {
  lower_action: { dash: "2 4", tone: "lower" },
  upper_action: { dash: "9 4", tone: "action" },
  action: { dash: "9 4", tone: "action" },
  limit: { dash: "14 4 3 4", tone: "limit" },
};
const OTHER_LINE_STYLE = { dash: "5 5", tone: "reference" };

const dialog = query("agent-page");
let parts = null; // the page's fixed elements, built once by wireAgentPage

// The open page: {agentId, opener, data, error, appliedSeq, agent (the live record last drawn)}; null when closed.
let page = null;
let requestSeq = 0;
let pushedHash = false; // we added the history entry for the page: closing it goes back
let pendingOpener = null;
let timers = [];

/** Wires the page to the location hash (#/agents/{id}) and its close controls. */
export function wireAgentPage() {
  parts = {
    title: el("h2", { id: "agent-page-title", class: "agent-page__title", tabindex: "-1",
      "data-testid": "agent-page-title" }),
    crew: el("span", { class: "agent-page__crew" }),
    status: el("span", { "data-testid": "agent-page-status" }),
    close: el("button", { type: "button", class: "button", "data-testid": "agent-page-close" }),
    summary: el("dl", { class: "agent-page__summary", "data-testid": "agent-summary" }),
    day: el("span", { class: "agent-page__day", "data-testid": "agent-page-day" }),
    report: el("a", { class: "agent-page__report", "data-testid": "agent-report" }),
    reportError: el("span", { class: "agent-page__report-error", role: "alert", "data-testid": "agent-report-error" }),
    errorText: el("span"),
    retry: el("button", { type: "button", class: "button", "data-testid": "agent-page-retry" }),
    message: el("p", { class: "agent-page__message", "data-testid": "agent-page-message" }),
    panels: el("div", { class: "agent-page__panels", "data-testid": "agent-page-charts" }),
  };
  parts.error = el("div", { class: "agent-page__error", role: "alert", "data-testid": "agent-page-error" },
    parts.errorText, " ", parts.retry);
  fill(dialog, el("div", { class: "agent-page__inner" },
    el("header", { class: "agent-page__head" },
      el("div", {}, parts.title, el("p", { class: "agent-page__meta" }, parts.crew, " ", parts.status)),
      parts.close),
    parts.summary,
    el("p", { class: "agent-page__links" }, parts.day, " ", parts.report, " ", parts.reportError),
    parts.error,
    parts.message,
    parts.panels));
  parts.error.hidden = true;

  parts.close.addEventListener("click", () => dialog.close());
  parts.retry.addEventListener("click", () => load());
  parts.report.addEventListener("click", downloadReport);
  // Escape, the close button, or anything else closing the dialog: leave the page's address too.
  // (After `hide` the page is already gone, or open again for another agent by the time this runs.)
  dialog.addEventListener("close", () => {
    if (page && !dialog.open) leave();
  });
  window.addEventListener("hashchange", route);
  route();
}

/** Opens the page for one agent. */
export function openAgentPage(agentId) {
  const hash = `#/agents/${encodeURIComponent(agentId)}`;
  if (location.hash === hash) return;
  pendingOpener = document.activeElement;
  // From one agent to another: still one history entry, so Back or close returns to the board.
  if (page) {
    location.replace(hash);
  } else {
    pushedHash = true;
    location.hash = hash;
  }
}

/** Redraws the open page: everything after a language change (`force`), else the live summary if it changed. */
export function renderAgentPage(force) {
  if (!page) return;
  if (force) drawAll();
  else if (state.agents.get(page.agentId) !== page.agent) drawHead();
}

function agentIdFromHash() {
  const match = ROUTE.exec(location.hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1]; // a malformed escape: ask the server, which will say it knows no such agent
  }
}

function route() {
  const agentId = agentIdFromHash();
  if (agentId === null) {
    if (page) hide();
  } else if (page?.agentId !== agentId) {
    show(agentId);
  }
}

function show(agentId) {
  const opener = page?.opener ?? pendingOpener ?? document.activeElement;
  pendingOpener = null;
  stopTimers();
  page = { agentId, opener, data: null, error: null, appliedSeq: 0, agent: undefined };
  showReportError(null);
  drawAll();
  if (!dialog.open) dialog.showModal();
  parts.title.focus();
  load();
  timers = [setInterval(load, REFRESH_MS), setInterval(tick, LIVE_CHECK_MS)];
}

function tick() {
  renderAgentPage(false);
  // Refused for want of a sign-in: try again as soon as the login dialog has given us a token.
  if (page?.error?.status === 401 && api.token() && api.token() !== page.refusedToken) load();
}

/** Closes the page without touching the address (it already changed: Back, or a link to the board). */
function hide() {
  const { opener } = page;
  page = null;
  pushedHash = false;
  stopTimers();
  fill(parts.panels);
  closeDialog(dialog, opener); // its "close" event finds `page` null: nothing more to do
}

/** The user closed the page: restore the address it was opened from. */
function leave() {
  const pushed = pushedHash;
  hide();
  leaveAddress(pushed);
}

function stopTimers() {
  for (const timer of timers) clearInterval(timer);
  timers = [];
}

/** The local date (YYYY-MM-DD) in `timeZone` by the server's clock, so the page moves on at midnight. */
function localDay(timeZone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  for (const { type, value } of format.formatToParts(new Date(Date.now() + state.serverOffsetMs))) parts[type] = value;
  return `${parts.year}-${parts.month}-${parts.day}`;
}

async function load() {
  const current = page;
  if (!current) return;
  const seq = ++requestSeq;
  const sentToken = api.token();
  const timeZone = current.data?.timezone;
  let data = null;
  let error = null;
  try {
    data = await api.getAgentExposureToday(current.agentId, timeZone ? localDay(timeZone) : undefined);
  } catch (caught) {
    error = caught;
  }
  // Closed, another agent, or a newer request already answered: this answer is stale.
  if (page !== current || seq < current.appliedSeq) return;
  current.appliedSeq = seq;
  if (error) {
    console.warn(`agent page ${current.agentId}: exposure request failed:`, error);
    current.error = error;
    current.refusedToken = sentToken;
    if (error.status === 404 || error.status === 403) current.data = null;
  } else {
    current.error = null;
    current.data = data;
  }
  drawHead();
  drawBody();
}

function drawAll() {
  parts.close.textContent = t("agentpage.close");
  parts.retry.textContent = t("agentpage.retry");
  parts.summary.setAttribute("aria-label", t("agentpage.summary"));
  drawHead();
  drawBody();
}

function drawHead() {
  const agent = state.agents.get(page.agentId);
  page.agent = agent;
  parts.title.textContent = agent?.display_name ?? page.data?.display_name ?? page.agentId;
  const crewId = agent?.crew_id;
  parts.crew.textContent = agent ? (crewId ? t("crew.name", { crew: crewId }) : t("crew.none")) : "";
  parts.status.hidden = !agent;
  if (agent) {
    parts.status.className = `status-chip agent-page__status agent-page__status--${agent.status}`;
    parts.status.dataset.status = agent.status;
    parts.status.textContent = t(`agent.status.${agent.status}`)
      + (agent.open_alerts > 0 ? ` · ${t("agent.open_alerts", { n: agent.open_alerts })}` : "");
  }
  const today = agent?.exposure_today ?? {};
  const withProjection = (unit, now, projected, digits) => {
    const shown = quantity(unit, now, digits);
    if (projected === null || projected === undefined || now === null || now === undefined) return shown;
    return t("agentpage.projected", { now: shown, projected: quantity(unit, projected, digits) });
  };
  fill(parts.summary,
    summaryItem("hr", quantity("unit.bpm", agent?.hr_bpm)),
    summaryItem("psi", formatNumber(today.psi_max, 1)),
    summaryItem("noise", withProjection("unit.pct", today.noise_dose_pct, today.noise_dose_projected_pct, 0)),
    summaryItem("hav", withProjection("agentpage.unit.points", today.hav_points, today.hav_points_projected, 0)),
    summaryItem("lifts", formatNumber(today.lifts)),
    summaryItem("tonnage", quantity("unit.kg", today.tonnage_kg)));
}

function summaryItem(key, value) {
  return el("div", { dataset: { item: key } }, el("dt", {}, t(`agentpage.${key}`)), el("dd", {}, value));
}

function drawBody() {
  const { data, error, agentId } = page;
  parts.error.hidden = !error;
  if (error) parts.errorText.textContent = errorText(error, agentId);

  parts.day.hidden = !data;
  parts.report.hidden = !data;
  if (data) {
    const [year, month, day] = data.day.split("-").map(Number);
    const date = new Intl.DateTimeFormat(locale(), { dateStyle: "full", timeZone: "UTC" })
      .format(Date.UTC(year, month - 1, day));
    parts.day.textContent = t("agentpage.day", { date, zone: data.timezone });
    parts.report.textContent = t("agentpage.report");
    parts.report.href = `api/v1/${reportPath(agentId, data.day)}`;
  }

  const times = data?.series?.t ?? [];
  parts.message.hidden = Boolean(error || times.length);
  parts.message.textContent = data ? t("agentpage.empty") : t("agentpage.loading");
  if (!data || !times.length) {
    fill(parts.panels);
    return;
  }
  // Redrawn every minute: keep the tables a reader opened open, and their focus.
  const openTables = new Set([...parts.panels.querySelectorAll("details[open]")].map((d) => d.dataset.panel));
  const focused = parts.panels.contains(document.activeElement) ? document.activeElement.closest("details") : null;
  fill(parts.panels, ...PANELS.map((panel) => drawPanel(panel, data)));
  for (const details of parts.panels.querySelectorAll("details")) {
    details.open = openTables.has(details.dataset.panel);
    if (focused?.dataset.panel === details.dataset.panel) details.querySelector("summary").focus();
  }
}

function reportPath(agentId, day) {
  const query = new URLSearchParams({ agent_id: agentId, from: day, to: day, format: "pdf", lang: lang() });
  return `reports/exposure?${query}`;
}

/** Fetches the PDF with the page's credentials (a plain link would go without them) and saves it. */
async function downloadReport(event) {
  event.preventDefault();
  const current = page;
  if (!current?.data || parts.report.getAttribute("aria-disabled") === "true") return;
  const { agentId } = current;
  const { day } = current.data;
  parts.report.setAttribute("aria-disabled", "true");
  showReportError(null);
  try {
    const url = URL.createObjectURL(await api.getFile(reportPath(agentId, day)));
    const link = el("a", { href: url, download: `vigie-exposure-${agentId}-${day}.pdf`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser reads the file after the click returns
  } catch (error) {
    console.warn(`agent page ${agentId}: report download failed:`, error);
    showReportError(errorText(error, agentId));
  } finally {
    parts.report.removeAttribute("aria-disabled");
  }
}

function showReportError(text) {
  parts.reportError.textContent = text ?? "";
  parts.reportError.hidden = !text;
}

function errorText(error, agentId) {
  if (error.status === 404) return t("agentpage.unknown", { id: agentId });
  if (error.status === 403) return t("agentpage.forbidden");
  if (error.status) return t("error.request", { status: error.status });
  return t("error.network");
}

function drawPanel(panel, data) {
  const timeZone = data.timezone;
  const times = data.series.t.map(Date.parse);
  const domain = [times[0], Math.max(times[times.length - 1], times[0] + MIN_SPAN_MS)];
  const clock = new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", timeZone });
  const formatTime = (ms) => clock.format(ms);
  const series = panel.series.map((spec) => ({ ...spec, values: data.series[spec.name] ?? times.map(() => null),
    lines: data.lines?.[spec.name] ?? [] }));
  const charts = series.map((spec) => el("div", { class: "agent-chart__plot", "data-testid": "exposure-chart",
    "data-series": spec.name },
  // The same words as the chart's own title, for the eye only: a screen reader reads that title.
  el("p", { class: "agent-chart__subtitle", "aria-hidden": "true" }, t(`agentpage.series.${spec.name}`)),
  lineChart({
    id: `agent-chart-${spec.name}`,
    title: t(`agentpage.series.${spec.name}`),
    description: describe(spec, times, formatTime),
    times,
    values: spec.values,
    lines: spec.lines.map((line) => ({ ...line, ...(LINE_STYLES[line.key] ?? OTHER_LINE_STYLE),
      label: lineLabel(spec.name, line.key) })),
    domain,
    timeZone,
    formatTime,
    formatValue: (value) => formatNumber(value, 1),
    fromZero: Boolean(spec.cumulative),
    continuity: spec.cumulative ? "hold" : "break",
    emptyText: t("agentpage.no_values"),
  })));

  const sample = sampledIndices(times, timeZone, MAX_TABLE_ROWS, SAMPLE_EVERY_MIN);
  const rows = sample.map((index) => [formatTime(times[index]),
    ...series.map((spec) => formatValue(spec, spec.values[index]))]);
  const title = t(`agentpage.panel.${panel.key}`);
  const table = dataTable({
    summary: t("agentpage.show_data"),
    caption: t("agentpage.data_caption", { title }),
    columns: [t("agentpage.time"), ...series.map((spec) => t(`agentpage.series.${spec.name}`))],
    rows,
    note: rows.length < times.length ? t("agentpage.sampled", { n: SAMPLE_EVERY_MIN }) : null,
  });
  table.dataset.panel = panel.key;
  return el("section", { class: "agent-chart", "data-testid": "exposure-panel", "data-panel": panel.key,
    "aria-labelledby": `agent-panel-${panel.key}` },
  el("h3", { id: `agent-panel-${panel.key}`, class: "agent-chart__title" }, title),
  ...charts,
  table);
}

/** A number with its unit; `n` lets a unit agree with its number ("1 point", "2 points"). A dash for null. */
function quantity(unitKey, value, digits = 0) {
  if (value === null || value === undefined || !unitKey) return formatNumber(value, digits);
  return t(unitKey, { v: formatNumber(value, digits), n: Number(value.toFixed(digits)) });
}

function formatValue(spec, value) {
  return quantity(spec.unit, value, spec.digits);
}

/** The translated meaning of a line: specific to its series when the catalogue has it, else generic. */
function lineLabel(seriesName, key) {
  for (const candidate of [`agentpage.line.${seriesName}.${key}`, `agentpage.line.${key}`]) {
    if (has(candidate)) return t(candidate);
  }
  return key;
}

/** What a sighted reader gets from the chart: span, last value and the lines, in words. */
function describe(spec, times, formatTime) {
  const known = spec.values.flatMap((value, index) => (value === null || value === undefined ? [] : [index]));
  const sentences = [];
  if (known.length) {
    const last = known[known.length - 1];
    sentences.push(t("agentpage.desc", { n: known.length, start: formatTime(times[known[0]]),
      end: formatTime(times[last]), last: formatValue(spec, spec.values[last]) }));
  } else {
    sentences.push(t("agentpage.no_values"));
  }
  if (spec.lines.length) {
    const list = new Intl.ListFormat(locale(), { type: "conjunction" }).format(spec.lines.map((line) =>
      t("agentpage.line_value", { label: lineLabel(spec.name, line.key), value: formatValue(spec, line.value) })));
    sentences.push(t("agentpage.desc_lines", { lines: list }));
  }
  return sentences.join(" ");
}
