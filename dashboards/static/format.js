// Locale-aware formatting of what the panels show: numbers with their unit, clock times, "il y a 5 s"
// (and the ticker that keeps those fresh), and the order of names. Everything follows the page language
// of i18n.js; server values that are null show as a dash.

import { el } from "./dom.js";
import { lang, locale, t } from "./i18n.js";

let formats = null;

// Intl objects are slow to build (about 0.2 ms each): one set per language, not one per value shown.
function currentFormats() {
  if (formats?.language !== lang()) {
    formats = {
      language: lang(),
      clock: new Intl.DateTimeFormat(locale(), { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
      numbers: new Map(), // maximumFractionDigits -> Intl.NumberFormat
    };
  }
  return formats;
}

export function formatNumber(value, maximumFractionDigits = 0) {
  if (value === null || value === undefined) return t("value.none");
  const { numbers } = currentFormats();
  let format = numbers.get(maximumFractionDigits);
  if (!format) {
    format = new Intl.NumberFormat(locale(), { maximumFractionDigits });
    numbers.set(maximumFractionDigits, format);
  }
  return format.format(value);
}

/** A number with its unit ("unit.kg" …), or a dash when the server sent null. */
export function formatQuantity(unitKey, value, maximumFractionDigits = 0) {
  if (value === null || value === undefined) return t("value.none");
  return t(unitKey, { v: formatNumber(value, maximumFractionDigits) });
}

export function formatClock(isoTime) {
  if (!isoTime) return t("value.none");
  return currentFormats().clock.format(new Date(isoTime));
}

/** "il y a 5 s", "il y a 3 min", "il y a 1 h 05 min": compact, for a screen read at a glance. */
export function formatAgo(elapsedMs) {
  const seconds = Math.max(0, Math.floor(elapsedMs / 1000));
  if (seconds < 2) return t("ago.now");
  if (seconds < 60) return t("ago.s", { n: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t("ago.min", { n: minutes });
  return t("ago.h", { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, "0") });
}

/** A comparison function for names and ids, in the page language, with "agent 2" before "agent 10". */
export function textOrder() {
  return new Intl.Collator(lang(), { numeric: true, sensitivity: "base" }).compare;
}

/** An element `refreshSince` keeps showing "il y a 5 s" in; `isoTime` null means never. */
export function sinceElement(isoTime) {
  if (!isoTime) return el("span", {}, t("agent.never_seen"));
  return el("time", { datetime: isoTime, title: formatClock(isoTime), dataset: { since: isoTime } });
}

/** Refreshes every "il y a 5 s" text on the page, counting to `serverNowMs` (the server's clock). */
export function refreshSince(serverNowMs) {
  for (const element of document.querySelectorAll("[data-since]")) {
    const text = formatAgo(serverNowMs - Date.parse(element.dataset.since));
    if (element.textContent !== text) element.textContent = text;
  }
}
