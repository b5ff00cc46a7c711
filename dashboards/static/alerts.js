// The alert feed and what a supervisor does with an alert: acknowledge it, or resolve it through the
// resolve dialog, signed with the name in the header's supervisor field (remembered on this browser).
// Owns the feed, its count, the resolve dialog, the supervisor field and the error notice.

import * as api from "./api.js";
import { currentUser } from "./auth.js";
import { flashIfNew } from "./cues.js";
import { el, fill, query, reconcile } from "./dom.js";
import { formatClock, formatQuantity } from "./format.js";
import { has, t } from "./i18n.js";
import { readPref, writePref } from "./prefs.js";
import { state, upsertAlert } from "./state.js";

const SUPERVISOR_PREF = "vigie.supervisor";
const DEFAULT_SUPERVISOR = "superviseur";
const NOTICE_MS = 8_000;

const ui = {
  feed: query("alert-feed"),
  count: query("alert-count"),
  empty: query("alert-empty"),
  notice: query("notice"),
  supervisor: query("supervisor-name"),
  dialog: query("resolve-dialog"),
  form: query("resolve-dialog").querySelector("form"),
  subject: query("resolve-subject"),
  error: query("resolve-error"),
  confirm: query("resolve-confirm"),
  cancel: query("resolve-cancel"),
};

/** Redraws the feed, newest first; only alerts whose record changed are rebuilt unless `force`. */
export function renderAlerts(force) {
  const alerts = [...state.alerts.values()].sort(
    (a, b) => Date.parse(b.raised_at) - Date.parse(a.raised_at) || a.alert_id.localeCompare(b.alert_id),
  );
  reconcile(ui.feed, alerts, (alert) => alert.alert_id, drawAlert, force);
  const openCount = alerts.filter((alert) => alert.status !== "resolved").length;
  ui.count.textContent = `(${t("alerts.count", { n: openCount })})`;
  ui.empty.hidden = alerts.length > 0 || !state.hasSnapshot;
}

function ruleLabel(rule) {
  return has(`rule.${rule}`) ? t(`rule.${rule}`) : rule;
}

function subjectLabel(alert) {
  return alert.agent_name ?? alert.subject_id;
}

function drawAlert(alert, element = el("li")) {
  const focused = element.contains(document.activeElement) ? document.activeElement : null;
  element.className = `alert alert--${alert.severity} alert--${alert.status}`;
  Object.assign(element.dataset, { testid: "alert", alertId: alert.alert_id, status: alert.status,
    severity: alert.severity, subjectId: alert.subject_id });
  if (alert.agent_id) element.dataset.agentId = alert.agent_id;
  element.tabIndex = -1;

  const badges = [];
  if (alert.late) badges.push(el("span", { class: "badge badge--late" }, t("alert.late")));
  if (alert.repeat_count > 1) badges.push(el("span", { class: "badge" }, t("alert.repeat", { n: alert.repeat_count })));
  if (alert.escalation_level > 0) {
    badges.push(el("span", { class: "badge badge--escalation" }, t("alert.escalation", { n: alert.escalation_level })));
  }
  if (alert.cleared_at) {
    badges.push(el("span", { class: "badge badge--cleared", dataset: { testid: "alert-cleared" },
      title: t("alert.cleared_at", { time: formatClock(alert.cleared_at) }) }, t("alert.cleared")));
  }

  const actions = [];
  if (alert.status === "raised") {
    actions.push(el("button", { type: "button", class: "button button--primary", dataset: { testid: "ack", action: "ack" } },
      t("alert.ack")));
  }
  if (alert.status !== "resolved") {
    actions.push(el("button", { type: "button", class: "button", dataset: { testid: "resolve", action: "resolve" } },
      t("alert.resolve")));
  }

  const parts = [
    el("div", { class: "alert__head" },
      el("span", { class: "severity" }, t(`severity.${alert.severity}`)),
      el("strong", { class: "alert__rule" }, ruleLabel(alert.rule)),
      el("span", { class: "alert__subject" }, subjectLabel(alert)),
      ...badges),
    alert.message ? el("p", { class: "alert__message" }, alert.message) : null,
    robotLine(alert),
    fallLine(alert),
    el("p", { class: "alert__meta" },
      el("span", { class: "alert__status" }, t(`status.${alert.status}`)),
      " · ",
      el("time", { datetime: alert.raised_at, title: t("alert.raised_at", { time: formatClock(alert.raised_at) }) },
        el("span", { "aria-hidden": "true", dataset: { since: alert.raised_at } }),
        el("span", { class: "visually-hidden" }, t("alert.raised_at", { time: formatClock(alert.raised_at) })))),
    handlingLine(alert),
    commentLine(state.lastComments.get(alert.alert_id)),
  ].filter(Boolean);
  const kept = sameActions(element, actions);
  if (kept) {
    // The same buttons as before: keep them in the page. A live update landing between a key's press and
    // its release (Space activates a button on release) would otherwise swallow the keystroke, and a
    // pending acknowledgement would lose its busy mark.
    for (const child of [...element.children]) if (child !== kept) child.remove();
    kept.before(...parts);
  } else {
    fill(element, ...parts, actions.length ? el("div", { class: "alert__actions" }, ...actions) : null);
  }

  flashIfNew(alert.alert_id, element);
  // Redrawing replaced the focused button (acknowledging removes it): keep keyboard users on this alert.
  if (focused && !focused.isConnected) {
    const sameAction = element.querySelector(`button[data-action="${focused.dataset.action}"]`);
    (sameAction ?? element.querySelector("button") ?? element).focus();
  }
  return element;
}

// The element's action bar when it holds the same buttons, in the same order and words, as `actions`.
function sameActions(element, actions) {
  const bar = element.querySelector(":scope > .alert__actions");
  if (!bar || !actions.length) return null;
  const signature = (buttons) => buttons.map((button) => `${button.dataset.action}:${button.textContent}`).join("|");
  return signature([...bar.children]) === signature(actions) ? bar : null;
}

const FALL_RULES = new Set(["fall", "man_down"]);

// A joint incident: an agent's fall, SOS or man-down near a robot, which the gateway paused.
function robotLine(alert) {
  if (!alert.robot_id || !alert.agent_id) return null;
  const distanceM = alert.details?.robot_distance_m;
  const parts = [t("alert.robot", { robot: alert.robot_id }), alert.robot_state?.kind];
  if (distanceM !== null && distanceM !== undefined) {
    parts.push(t("alert.robot_distance", { distance: formatQuantity("unit.m", distanceM, 1) }));
  }
  parts.push(t("alert.robot_paused"));
  return el("p", { class: "alert__robot", dataset: { testid: "alert-robot", robotId: alert.robot_id } },
    parts.filter(Boolean).join(" · "));
}

function fallLine(alert) {
  if (!FALL_RULES.has(alert.rule)) return null;
  const { peak_acc_ms2: peakAccMs2, cancel_window_s: cancelWindowS } = alert.details ?? {};
  const parts = [];
  if (peakAccMs2 !== null && peakAccMs2 !== undefined) {
    parts.push(t("alert.peak_acc", { value: formatQuantity("unit.ms2", peakAccMs2, 1) }));
  }
  if (cancelWindowS !== null && cancelWindowS !== undefined) {
    parts.push(t("alert.cancel_window", { value: formatQuantity("unit.s", cancelWindowS) }));
  }
  return parts.length ? el("p", { class: "alert__meta", dataset: { testid: "alert-fall" } }, parts.join(" · ")) : null;
}

function commentLine(comment) {
  if (!comment) return null;
  return el("p", { class: "alert__handling", dataset: { testid: "alert-comment" } },
    t("alert.last_comment", { by: comment.by, time: formatClock(comment.at), text: comment.text }));
}

function handlingLine(alert) {
  if (alert.status === "resolved") {
    const reason = alert.resolution ? t(`reason.${alert.resolution}`) : t("value.none");
    return el("p", { class: "alert__handling" },
      t("alert.resolved_by", { by: alert.resolved_by ?? t("value.none"), time: formatClock(alert.resolved_at), reason }),
      alert.resolution_comment ? el("q", { class: "alert__comment" }, alert.resolution_comment) : null);
  }
  if (alert.status === "acknowledged") {
    return el("p", { class: "alert__handling" },
      t("alert.acknowledged_by", { by: alert.acknowledged_by ?? t("value.none"), time: formatClock(alert.acknowledged_at) }));
  }
  return null;
}

function supervisorName() {
  return ui.supervisor.value.trim() || DEFAULT_SUPERVISOR;
}

/** Who an action is signed by: nobody when signed in, as the server then signs with the account's name. */
function signature() {
  return currentUser() ? null : supervisorName();
}

let noticeTimer = null;

function showNotice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    ui.notice.hidden = true;
  }, NOTICE_MS);
}

function describeError(error) {
  if (error instanceof api.ApiError) {
    return error.status === 409 ? t("error.conflict") : t("error.request", { status: error.status });
  }
  return t("error.network");
}

// Buttons busy with a request are marked aria-disabled rather than disabled: a disabled button drops
// keyboard focus, and the supervisor would have to find their place again.
function isBusy(button) {
  return button.getAttribute("aria-disabled") === "true";
}

function setBusy(button, busy) {
  if (busy) button.setAttribute("aria-disabled", "true");
  else button.removeAttribute("aria-disabled");
}

async function acknowledge(alertId, button) {
  if (isBusy(button)) return;
  setBusy(button, true);
  try {
    upsertAlert(await api.acknowledgeAlert(alertId, signature()));
  } catch (error) {
    setBusy(button, false);
    showNotice(describeError(error));
  }
}

let resolvingId = null;

function openResolveDialog(alertId) {
  const alert = state.alerts.get(alertId);
  if (!alert) return;
  resolvingId = alertId;
  ui.form.reset();
  ui.error.hidden = true;
  ui.subject.textContent = `${ruleLabel(alert.rule)} — ${subjectLabel(alert)}`;
  ui.dialog.showModal();
}

async function submitResolve(event) {
  event.preventDefault();
  if (isBusy(ui.confirm)) return;
  const form = new FormData(ui.form);
  const comment = String(form.get("comment") ?? "").trim();
  setBusy(ui.confirm, true);
  try {
    const updated = await api.resolveAlert(resolvingId, {
      reason: form.get("reason"),
      comment: comment || null,
      by: signature(),
    });
    upsertAlert(updated);
    ui.dialog.close();
  } catch (error) {
    ui.error.textContent = describeError(error);
    ui.error.hidden = false;
  } finally {
    setBusy(ui.confirm, false);
  }
}

/** Connects the feed's buttons, the resolve dialog and the supervisor field. */
export function wireAlerts() {
  ui.feed.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const alertId = button.closest("[data-alert-id]").dataset.alertId;
    if (button.dataset.action === "ack") acknowledge(alertId, button);
    else if (button.dataset.action === "resolve") openResolveDialog(alertId);
  });
  ui.form.addEventListener("submit", submitResolve);
  ui.cancel.addEventListener("click", () => ui.dialog.close());
  ui.dialog.addEventListener("close", () => {
    // The browser returns focus to the button that opened the dialog, unless a live update redrew the
    // alert meanwhile; then bring keyboard focus back to the alert itself.
    const item = ui.feed.querySelector(`[data-alert-id="${CSS.escape(resolvingId ?? "")}"]`);
    if (item && !item.contains(document.activeElement)) (item.querySelector('[data-action="resolve"]') ?? item).focus();
  });

  ui.supervisor.value = readPref(SUPERVISOR_PREF, DEFAULT_SUPERVISOR);
  ui.supervisor.addEventListener("change", () => writePref(SUPERVISOR_PREF, supervisorName()));
}
