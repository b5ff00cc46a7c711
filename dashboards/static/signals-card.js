// One weak signal as a card of the signals view (signals.js): what moved (metric and unit), for whom (a crew,
// a site, a robot, or one agent — marked "individual"), from its baseline to its recent level, how large and
// how sure the change is in words and numbers (never by colour alone), when it was first flagged, what it
// means (the server's sentence, shown as sent, in the language it was asked in: GET /api/v1/signals?lang=), and
// the daily values as a small chart against the baseline and recent levels, with the same numbers in a table
// for screen readers.

import { dataTable, lineChart } from "./chart.js";
import { el } from "./dom.js";
import { formatNumber } from "./format.js";
import { has, locale, t } from "./i18n.js";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

// Words for the size of an effect: Cohen's conventions for a standardised difference (Cohen 1988, §2.2.3:
// 0.2 small, 0.5 medium, 0.8 large). The server computes the number; these words only read it out.
const EFFECT_WORDS = [[0.8, "large"], [0.5, "medium"], [0.2, "small"], [0, "negligible"]];
// Words for a confidence (1 − p of the server's one-sided test), at the usual 0.8 / 0.95 / 0.99 marks.
const CONFIDENCE_WORDS = [[0.99, "very_high"], [0.95, "high"], [0.8, "moderate"], [0, "low"]];

// The baseline and recent levels are told apart by their dash pattern and label, not by colour alone.
const LINE_STYLES = {
  baseline: { dash: "2 4", tone: "reference" },
  recent: { dash: "9 4", tone: "recent" },
};

/** Flagged signals first, then the largest effect (signed: positive is the worrying direction). */
export function signalOrder(a, b) {
  if (Boolean(a.flagged) !== Boolean(b.flagged)) return a.flagged ? -1 : 1;
  return (b.effect_size ?? 0) - (a.effect_size ?? 0);
}

function band(bands, value) {
  return bands.find(([floor]) => Math.abs(value) >= floor)?.[1] ?? bands[bands.length - 1][1];
}

function dayMs(isoDay) {
  const [year, month, day] = isoDay.split("-").map(Number);
  return Date.UTC(year, month - 1, day);
}

function dayFormat(options) {
  return new Intl.DateTimeFormat(locale(), { ...options, timeZone: "UTC" });
}

/** The translated name of a metric when the catalogue has it, else the server's name as sent. */
function metricName(metric) {
  return has(`signals.metric.${metric}`) ? t(`signals.metric.${metric}`) : metric;
}

/** A confidence as a percentage; one short of certainty is not rounded up to it ("> 99.9"). */
function percent(confidence) {
  if (confidence >= 0.999 && confidence < 1) return `> ${formatNumber(99.9, 1)}`;
  return formatNumber(confidence * 100, 1);
}

/** The translated unit when it is a word the catalogue has ("per day"), else the server's as sent ("bpm"). */
function unitName(unit) {
  return unit && has(`signals.unit.${unit}`) ? t(`signals.unit.${unit}`) : unit;
}

function withUnit(value, unit) {
  const number = formatNumber(value, 1);
  return unit && value !== null && value !== undefined ? `${number} ${unitName(unit)}` : number;
}

/**
 * The card of `item` (one element of the API's `items`); `id` is unique on the page (for its chart's ids);
 * `span` is the view's period {from, to} (YYYY-MM-DD), the time axis every card shares; `meaningLang` the
 * language the server wrote the meanings in (the answer's `lang`), marked on the sentence for screen readers
 * while a language switch is being fetched (WCAG 3.1.2, language of parts).
 */
export function drawSignalCard(item, id, span, meaningLang, canReview = false) {
  const key = `${item.kind}/${item.subject_kind}/${item.subject_id}/${item.metric}`;
  const metric = metricName(item.metric);
  const titleId = `${id}-title`;
  const individual = item.subject_kind === "agent";
  const effect = band(EFFECT_WORDS, item.effect_size ?? 0);
  const confidence = band(CONFIDENCE_WORDS, item.confidence ?? 0);
  const fact = (name, value) => el("div", { dataset: { fact: name } },
    el("dt", {}, t(`signals.fact.${name}`)), el("dd", {}, value));

  return el("li", { class: `signals-card${item.flagged ? " signals-card--flagged" : ""}`, "data-testid": "signal-card",
    "aria-labelledby": titleId,
    dataset: { key, flagged: String(Boolean(item.flagged)), subjectKind: item.subject_kind,
      subjectId: item.subject_id, metric: item.metric } },
  el("header", { class: "signals-card__head" },
    el("h3", { id: titleId, class: "signals-card__title" },
      item.unit ? t("signals.metric_unit", { metric, unit: unitName(item.unit) }) : metric),
    el("span", { class: `signals-badge signals-badge--${item.flagged ? "flagged" : "watch"}`,
      "data-testid": "signal-state" }, t(item.flagged ? "signals.flagged" : "signals.not_flagged")),
    individual
      ? el("span", { class: "signals-badge signals-badge--individual", "data-testid": "signal-individual" },
        t("signals.individual"))
      : null),
  el("p", { class: "signals-card__who", "data-testid": "signal-subject" },
    t(`signals.subject.${item.subject_kind}`, { label: item.subject_label ?? item.subject_id }),
    individual ? null : ` · ${t("signals.group_size", { n: item.group_size, count: formatNumber(item.group_size) })}`),
  el("dl", { class: "signals-card__facts" },
    fact("change", t("signals.change", { baseline: withUnit(item.baseline, item.unit),
      recent: withUnit(item.recent, item.unit), direction: t(`signals.direction.${item.direction}`) })),
    fact("effect", t("signals.effect", { word: t(`signals.effect.${effect}`),
      value: formatNumber(item.effect_size, 1) })),
    fact("confidence", t("signals.confidence", { word: t(`signals.confidence.${confidence}`),
      value: percent(item.confidence ?? 0) })),
    fact("first_flagged", item.first_flagged
      ? el("time", { datetime: item.first_flagged }, dayFormat({ dateStyle: "long" }).format(dayMs(item.first_flagged)))
      : t("signals.never_flagged"))),
  item.meaning
    ? el("p", { class: "signals-card__meaning", "data-testid": "signal-meaning", lang: meaningLang ?? null },
      item.meaning)
    : null,
  item.flagged && item.ref ? drawFollowUp(item, id, canReview) : null,
  drawTrend(item, id, key, metric, span));
}

const OUTCOMES = ["action", "watch", "explained"];

/**
 * What was recorded about a flagged signal (PUT /api/v1/signals/{ref}/review: an outcome, a note, who and when),
 * and, for the staff who may record it, a form to record or change it. signals.js sends the form.
 */
function drawFollowUp(item, id, canReview) {
  const review = item.review;
  const text = review
    ? [t("signals.review.done", { outcome: t(`signals.review.outcome.${review.outcome}`), by: review.by,
      date: new Intl.DateTimeFormat(locale(), { dateStyle: "long" }).format(new Date(review.at)) }),
    review.note ? el("span", { class: "signals-card__review-note" }, review.note) : null]
    : [t("signals.review.none")];
  const summary = el("p", { class: "signals-card__review", "data-testid": "signal-review", tabindex: "-1",
    dataset: { outcome: review?.outcome ?? "" } }, ...text);
  const box = { class: "signals-card__follow-up", dataset: { followUp: item.ref } };
  if (!canReview) return el("div", box, summary);
  const outcomeId = `${id}-outcome`;
  const noteId = `${id}-note`;
  const form = el("form", { class: "signals-review-form", "data-testid": "signal-review-form",
    dataset: { ref: item.ref } },
  el("label", { for: outcomeId }, t("signals.review.outcome_label")),
  el("select", { id: outcomeId, name: "outcome", "data-testid": "signal-review-outcome" },
    ...OUTCOMES.map((outcome) => el("option", { value: outcome, selected: (review?.outcome ?? "watch") === outcome },
      t(`signals.review.outcome.${outcome}`)))),
  el("label", { for: noteId }, t("signals.review.note_label")),
  el("textarea", { id: noteId, name: "note", rows: "2", maxlength: "2000", "data-testid": "signal-review-note" },
    review?.note ?? ""),
  el("p", { class: "signals-review-form__error", role: "alert", "data-testid": "signal-review-error", hidden: true }),
  el("button", { type: "submit", class: "button button--primary", "data-testid": "signal-review-save" },
    t("signals.review.save")));
  return el("div", box, summary,
    el("details", { class: "signals-review", dataset: { key: `review/${item.ref}` } },
      el("summary", { "data-testid": "signal-review-toggle" },
        t(review ? "signals.review.change" : "signals.review.record")),
      form));
}

/**
 * The daily values as a line against the baseline and recent levels.
 *
 * chart.js draws a working day on a time axis counted in minutes; here one of its minutes stands for one day
 * (day n of the period at n minutes), so its round ticks fall every 5, 10 or 30 days and a day without a value
 * breaks the line as a minute without one does. The labels are dates again through `formatTime`.
 */
function drawTrend(item, id, key, metric, span) {
  const series = item.series ?? [];
  const originMs = dayMs(span?.from ?? series[0]?.day ?? "1970-01-01");
  const lastDay = span?.to ?? series[series.length - 1]?.day;
  const dayIndex = (isoDay) => Math.round((dayMs(isoDay) - originMs) / DAY_MS);
  const times = series.map((point) => dayIndex(point.day) * MINUTE_MS);
  const values = series.map((point) => point.value);
  const domain = [0, Math.max(lastDay ? dayIndex(lastDay) : 0, 1) * MINUTE_MS];
  const short = dayFormat({ day: "numeric", month: "short" });
  const formatTime = (ms) => short.format(originMs + Math.round(ms / MINUTE_MS) * DAY_MS);
  const lines = ["baseline", "recent"].filter((name) => item[name] !== null && item[name] !== undefined)
    .map((name) => ({ key: name, value: item[name], ...LINE_STYLES[name],
      label: t(`signals.line.${name}`, { value: withUnit(item[name], item.unit) }) }));

  const known = series.filter((point) => point.value !== null && point.value !== undefined);
  const description = known.length
    ? t("signals.desc", { n: known.length, start: formatTime(dayIndex(known[0].day) * MINUTE_MS),
      end: formatTime(dayIndex(known[known.length - 1].day) * MINUTE_MS),
      last: withUnit(known[known.length - 1].value, item.unit),
      baseline: withUnit(item.baseline, item.unit), recent: withUnit(item.recent, item.unit) })
    : t("signals.no_values");
  const long = dayFormat({ dateStyle: "medium" });
  const table = dataTable({
    summary: t("signals.show_data"),
    caption: t("signals.data_caption", { metric }),
    columns: [t("signals.day"),
      item.unit ? t("signals.metric_unit", { metric, unit: unitName(item.unit) }) : metric],
    rows: series.map((point) => [long.format(dayMs(point.day)), formatNumber(point.value, 1)]),
    note: null,
  });
  table.dataset.key = key;
  return el("div", { class: "signals-card__trend", "data-testid": "signal-trend" },
    lineChart({
      id: `${id}-chart`,
      title: t("signals.chart_title", { metric }),
      description,
      times,
      values,
      lines,
      domain,
      timeZone: "UTC",
      formatTime,
      formatValue: (value) => formatNumber(value, 1),
      fromZero: false,
      continuity: "break",
      stepMs: MINUTE_MS,
      emptyText: t("signals.no_values"),
    }),
    table);
}
