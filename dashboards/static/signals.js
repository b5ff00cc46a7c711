// The signals view: weak signals over weeks (issue 9), as GET /api/v1/signals answers them — drifts against a
// baseline, each with its effect size, confidence and meaning, and a small trend of the daily values against
// the baseline and recent levels. The server decides who sees what (an individual signal only for the agent
// and the site's named readers; groups under the minimum size withheld): this view draws what it is given.
// Its address is #/signals, with the filters in the query part (#/signals?site=paris&crew=c1&weeks=12), so
// Back closes it and a link reopens the same view. No polling: these are trends over days, refreshed on demand.
// The meanings are the server's sentences, asked for in the page's language (?lang=fr|en): a language switch
// redraws the view at once and asks again for the meanings in the new language.
//
// The cards themselves are drawn by signals-card.js.

import * as api from "./api.js";
import { drawSignalCard, signalOrder } from "./signals-card.js";
import { el, fill, query } from "./dom.js";
import { formatNumber, textOrder } from "./format.js";
import { lang, locale, t } from "./i18n.js";
import { currentUser } from "./auth.js";
import { closeDialog, leaveAddress } from "./routed-dialog.js";
import { state } from "./state.js";

const ROUTE = /^#\/signals(?:\?(.*))?$/;
const PERIODS_WEEKS = [8, 12, 26];
const DEFAULT_WEEKS = 8;
const DAY_MS = 86_400_000;

const dialog = query("signals-page");
let parts = null; // the view's fixed elements, built once by wireSignalsPage

// The open view: {filters, opener, data, error, loading, appliedSeq, askedLang}; null when closed.
let view = null;
let requestSeq = 0;
let pushedHash = false; // the view's address has its own history entry: closing it goes back

/** Wires the view to the location hash (#/signals) and its controls. */
export function wireSignalsPage() {
  parts = {
    title: el("h2", { id: "signals-title", class: "signals-page__title", tabindex: "-1", "data-testid": "signals-title" }),
    close: el("button", { type: "button", class: "button", "data-testid": "signals-close" }),
    intro: el("p", { class: "signals-page__intro" }),
    site: el("select", { id: "signals-site", "data-testid": "signals-site" }),
    crew: el("select", { id: "signals-crew", "data-testid": "signals-crew" }),
    period: el("select", { id: "signals-period", "data-testid": "signals-period" }),
    siteLabel: el("label", { for: "signals-site" }),
    crewLabel: el("label", { for: "signals-crew" }),
    periodLabel: el("label", { for: "signals-period" }),
    refresh: el("button", { type: "button", class: "button", "data-testid": "signals-refresh" }),
    // The officer's worklist: the flags nobody has recorded a follow-up for yet (shown on this page only).
    openOnly: el("input", { type: "checkbox", id: "signals-open-only", "data-testid": "signals-open-only" }),
    openOnlyLabel: el("label", { for: "signals-open-only" }),
    span: el("p", { class: "signals-page__span", "data-testid": "signals-span" }),
    // Polite: a refresh's outcome ("12 signals, 2 raised") is announced without taking the focus.
    status: el("p", { class: "signals-page__status", role: "status", "data-testid": "signals-status" }),
    withheld: el("p", { class: "signals-withheld", "data-testid": "signals-withheld" }),
    errorText: el("span"),
    retry: el("button", { type: "button", class: "button", "data-testid": "signals-retry" }),
    empty: el("p", { class: "signals-page__empty", "data-testid": "signals-empty" }),
    list: el("ol", { class: "signals-list", "data-testid": "signals-list", "aria-labelledby": "signals-title" }),
  };
  parts.error = el("div", { class: "signals-page__error", role: "alert", "data-testid": "signals-error" },
    parts.errorText, " ", parts.retry);
  fill(dialog, el("div", { class: "signals-page__inner" },
    el("header", { class: "signals-page__head" }, el("div", {}, parts.title, parts.intro), parts.close),
    el("form", { class: "signals-filters", "data-testid": "signals-filters" },
      el("div", { class: "signals-filters__field" }, parts.siteLabel, parts.site),
      el("div", { class: "signals-filters__field" }, parts.crewLabel, parts.crew),
      el("div", { class: "signals-filters__field" }, parts.periodLabel, parts.period),
      el("div", { class: "signals-filters__check" }, parts.openOnly, parts.openOnlyLabel),
      parts.refresh),
    parts.span,
    parts.status,
    parts.withheld,
    parts.error,
    parts.empty,
    parts.list));
  parts.error.hidden = true;

  parts.list.addEventListener("submit", saveReview);
  parts.openOnly.addEventListener("change", () => drawBody());
  parts.close.addEventListener("click", () => dialog.close());
  parts.refresh.addEventListener("click", () => load());
  parts.retry.addEventListener("click", () => load());
  for (const select of [parts.site, parts.crew, parts.period]) select.addEventListener("change", filtersChanged);
  dialog.addEventListener("close", () => {
    if (view && !dialog.open) leave();
  });
  window.addEventListener("hashchange", route);
  route();
}

/** Opens the view (the header link does it through its href; this is for code and tests). */
export function openSignalsPage() {
  if (!ROUTE.test(location.hash)) location.hash = "#/signals";
}

/**
 * Redraws the open view: everything after a language change (`force`), and asks the server again for the
 * meanings in the new language; else its filters if the crews changed.
 */
export function renderSignalsPage(force) {
  if (!view) return;
  if (force) {
    drawAll();
    if (view.askedLang !== lang()) load();
  } else if (view.crews !== state.crews) drawFilters();
}

function filtersFromHash() {
  const match = ROUTE.exec(location.hash);
  if (!match) return null;
  const params = new URLSearchParams(match[1] ?? "");
  const weeks = Number(params.get("weeks"));
  return {
    site: params.get("site") ?? "",
    crew: params.get("crew") ?? "",
    weeks: PERIODS_WEEKS.includes(weeks) ? weeks : DEFAULT_WEEKS,
  };
}

function hashOf(filters) {
  const params = new URLSearchParams();
  if (filters.site) params.set("site", filters.site);
  if (filters.crew) params.set("crew", filters.crew);
  if (filters.weeks !== DEFAULT_WEEKS) params.set("weeks", String(filters.weeks));
  const text = params.toString();
  return text ? `#/signals?${text}` : "#/signals";
}

function sameFilters(a, b) {
  return a.site === b.site && a.crew === b.crew && a.weeks === b.weeks;
}

/** Follows the address; `event` is the hashchange that brought it (none when the page loads on #/signals). */
function route(event) {
  const filters = filtersFromHash();
  if (filters === null) {
    if (view) hide();
    return;
  }
  if (view && sameFilters(view.filters, filters)) return;
  if (!view) {
    // Opened by a change of address (the header link, or openSignalsPage): the browser added a history
    // entry, so closing goes back to it. Loaded on #/signals: there is nothing to go back to.
    pushedHash = Boolean(event);
    view = { filters, opener: document.activeElement, data: null, error: null, loading: false, appliedSeq: 0,
      askedLang: null };
    drawAll();
    if (!dialog.open) dialog.showModal();
    parts.title.focus();
  } else {
    view.filters = filters;
    view.data = null; // another scope: the previous cards do not answer it
    drawFilters();
  }
  load();
}

function filtersChanged() {
  if (!view) return;
  const next = { site: parts.site.value, crew: parts.crew.value, weeks: Number(parts.period.value) };
  // A crew of another site cannot be shown under this one.
  if (next.crew && next.site && state.crews.get(next.crew)?.site_id !== next.site) next.crew = "";
  location.replace(hashOf(next)); // one history entry for the view, whatever the filters went through
}

function hide() {
  const { opener } = view;
  view = null;
  pushedHash = false;
  fill(parts.list);
  closeDialog(dialog, opener);
}

/** The user closed the view: restore the address it was opened from. */
function leave() {
  const pushed = pushedHash;
  hide();
  leaveAddress(pushed);
}

/** The period asked for: the last `weeks` whole weeks up to today (UTC, by the server's clock). */
function period(weeks) {
  const todayMs = Math.floor((Date.now() + state.serverOffsetMs) / DAY_MS) * DAY_MS;
  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
  return { from: isoDay(todayMs - (weeks * 7 - 1) * DAY_MS), to: isoDay(todayMs) };
}

async function load() {
  const current = view;
  if (!current) return;
  const seq = ++requestSeq;
  const { site, crew, weeks } = current.filters;
  current.loading = true;
  current.askedLang = lang();
  drawStatus();
  let data = null;
  let error = null;
  try {
    data = await api.getSignals({ site, crew, lang: current.askedLang, ...period(weeks) });
  } catch (caught) {
    error = caught;
  }
  // Closed, or a newer request (other filters, another refresh) already answered: this answer is stale.
  if (view !== current || seq < current.appliedSeq) return;
  current.appliedSeq = seq;
  if (seq === requestSeq) current.loading = false;
  if (error) {
    console.warn("signals view: request failed:", error);
    current.error = error;
  } else {
    current.error = null;
    current.data = data;
  }
  drawBody();
}

function drawAll() {
  parts.title.textContent = t("signals.title");
  parts.intro.textContent = t("signals.intro");
  parts.close.textContent = t("signals.close");
  parts.refresh.textContent = t("signals.refresh");
  parts.retry.textContent = t("signals.retry");
  parts.siteLabel.textContent = t("signals.filter.site");
  parts.crewLabel.textContent = t("signals.filter.crew");
  parts.periodLabel.textContent = t("signals.filter.period");
  parts.openOnlyLabel.textContent = t("signals.filter.open_only");
  drawFilters();
  drawBody();
}

function option(value, text, selected) {
  return el("option", { value, selected }, text);
}

function drawFilters() {
  const { site, crew, weeks } = view.filters;
  view.crews = state.crews;
  const crews = [...state.crews.values()];
  const sites = [...new Set(crews.map((one) => one.site_id).filter(Boolean))];
  // A scope from a link may name a site or crew this page does not know (yet): keep it selectable.
  if (site && !sites.includes(site)) sites.push(site);
  const order = textOrder();
  sites.sort(order);
  fill(parts.site, option("", t("signals.filter.all_sites"), !site),
    ...sites.map((id) => option(id, id, id === site)));
  const shown = crews.filter((one) => !site || one.site_id === site)
    .sort((a, b) => order(a.name ?? a.crew_id, b.name ?? b.crew_id));
  const crewOptions = shown.map((one) => option(one.crew_id, one.name ?? one.crew_id, one.crew_id === crew));
  if (crew && !shown.some((one) => one.crew_id === crew)) crewOptions.push(option(crew, crew, true));
  fill(parts.crew, option("", t("signals.filter.all_crews"), !crew), ...crewOptions);
  fill(parts.period, ...PERIODS_WEEKS.map((n) => option(String(n), t("signals.filter.weeks", { n }), n === weeks)));
}

function drawStatus() {
  const { data, loading, error } = view;
  parts.refresh.setAttribute("aria-disabled", loading ? "true" : "false");
  if (loading) {
    parts.status.textContent = t("signals.loading");
  } else if (data && !error) {
    const items = data.items ?? [];
    const flagged = items.filter((item) => item.flagged).length;
    parts.status.textContent = t("signals.count", { n: items.length, flagged, open: items.filter(awaiting).length });
  } else {
    parts.status.textContent = "";
  }
}

function formatDay(isoDay) {
  const [year, month, day] = isoDay.split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "long", timeZone: "UTC" }).format(Date.UTC(year, month - 1, day));
}

function drawBody() {
  const { data, error } = view;
  drawStatus();
  parts.error.hidden = !error;
  if (error) parts.errorText.textContent = errorText(error);

  parts.span.hidden = !data;
  if (data) parts.span.textContent = t("signals.span", { from: formatDay(data.from), to: formatDay(data.to) });

  const withheld = data?.withheld ?? 0;
  parts.withheld.hidden = !(withheld > 0);
  if (withheld > 0) {
    parts.withheld.textContent = t("signals.withheld", { n: withheld, count: formatNumber(withheld),
      min: formatNumber(data.min_group_size) });
  }

  const items = [...(data?.items ?? [])].filter((item) => !parts.openOnly.checked || awaiting(item)).sort(signalOrder);
  parts.empty.hidden = !data || items.length > 0;
  parts.empty.textContent = t("signals.empty");
  // Redrawn on a refresh: keep the tables a reader opened open.
  const openTables = new Set([...parts.list.querySelectorAll("details[open]")].map((d) => d.dataset.key));
  const span = data ? { from: data.from, to: data.to } : null;
  const reviewer = mayReview();
  fill(parts.list, ...items.map((item, index) => drawSignalCard(item, `signal-${index}`, span, data?.lang, reviewer)));
  for (const details of parts.list.querySelectorAll("details")) details.open = openTables.has(details.dataset.key);
}

// The staff who read a signal record its follow-up (services/access.py may_review_signal); without sign-in (a
// development stack) the server decides. The server checks again either way.
const REVIEWERS = new Set(["admin", "safety_officer", "supervisor"]);

function mayReview() {
  const user = currentUser();
  return !user || REVIEWERS.has(user.role);
}

/** Sends a card's follow-up form; on success the card is redrawn with the review and the focus set on it. */
async function saveReview(event) {
  const form = event.target.closest('[data-testid="signal-review-form"]');
  if (!form || !view?.data) return;
  event.preventDefault();
  const save = form.querySelector("button[type=submit]");
  if (save.getAttribute("aria-disabled") === "true") return;
  const error = form.querySelector('[data-testid="signal-review-error"]');
  const { ref } = form.dataset;
  const current = view;
  const { site, crew } = current.filters;
  save.setAttribute("aria-disabled", "true");
  let updated;
  try {
    updated = await api.reviewSignal(ref, { outcome: form.elements.outcome.value, note: form.elements.note.value },
      { site, crew, to: current.data.to, lang: current.data.lang ?? lang() });
  } catch (caught) {
    save.removeAttribute("aria-disabled");
    error.textContent = caught.detail ?? errorText(caught);
    error.hidden = false;
    return;
  }
  if (view !== current || !current.data) return;
  current.data = { ...current.data, items: current.data.items.map((item) => (item.ref === ref ? updated : item)) };
  drawBody();
  parts.status.textContent = t("signals.review.saved");
  const followUp = parts.list.querySelector(`[data-follow-up="${CSS.escape(ref)}"]`);
  const fold = followUp?.querySelector("details");
  if (fold) fold.open = false; // recorded: the form folds away, what was recorded shows
  // With "only drifts without follow-up" ticked the card has left the list: the reader goes back to the top.
  (followUp?.querySelector('[data-testid="signal-review"]') ?? parts.title).focus();
}

/** A flag nobody has recorded a follow-up for. */
function awaiting(item) {
  return Boolean(item.flagged) && !item.review;
}

function errorText(error) {
  if (error.status === 403) return t("signals.forbidden");
  if (error.status) return t("error.request", { status: error.status });
  return t("error.network");
}
