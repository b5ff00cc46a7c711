// Every string the page shows, in one catalogue: French by default, English on request.
// Values may hold {placeholders}; a value that is an object is a plural set chosen with Intl.PluralRules
// on the `n` parameter. Server data (names, ids, alert messages) is shown as sent, never translated here.
// Numbers, units and times are formatted in format.js, following the language chosen here.

import { readPref, writePref } from "./prefs.js";

const LANG_PREF = "vigie.lang";

export const CATALOGUE = {
  fr: {
    "app.subtitle": "Supervision terrain",
    "lang.toggle": "English",
    "lang.toggle_title": "Switch to English",
    "supervisor.label": "Superviseur",
    "sound.toggle": "Son",
    "sound.on_title": "Bip des alertes critiques activé",
    "sound.off_title": "Bip des alertes critiques coupé",

    "conn.connecting": "Connexion…",
    "conn.open": "En direct",
    "conn.lost": "Reconnexion…",
    "conn.banner": "Connexion perdue — reconnexion…",

    "alerts.heading": "Alertes",
    "alerts.count": { one: "{n} ouverte", other: "{n} ouvertes" },
    "alerts.empty": "Aucune alerte ouverte.",

    "severity.critical": "Critique",
    "severity.warning": "Avertissement",
    "severity.info": "Information",

    "status.raised": "Levée",
    "status.acknowledged": "Prise en charge",
    "status.resolved": "Close",

    // One per rule id of services/detection; an id missing here is shown as the server sends it.
    "rule.sos": "SOS",
    "rule.fall": "Chute",
    "rule.man_down": "Homme à terre",
    "rule.heat_strain": "Contrainte thermique",
    "rule.wbgt_over_reference": "WBGT au-dessus de la référence",
    "rule.noise_peak": "Pic de bruit",
    "rule.noise_projected": "Bruit : dose prévue dépassée",
    "rule.hav_projected": "Vibrations : dose prévue dépassée",
    "rule.heat_projected": "Chaleur : référence bientôt dépassée",
    "rule.hav_limit_approaching": "Vibrations proches de la limite",
    "rule.lifting_overload": "Surcharge de manutention",
    "rule.robot_estop": "Arrêt d'urgence robot",
    "rule.robot_protective_stop": "Arrêt de protection robot",
    "rule.robot_fault": "Défaut robot",
    "rule.robot_battery_low": "Batterie robot faible",
    "rule.wearable_offline": "Capteur hors ligne",
    "rule.wearable_battery_low": "Batterie capteur faible",
    "rule.missed_checkin": "Pointage manqué (travailleur isolé)",

    "alert.late": "Reçue en retard",
    "alert.repeat": "répétée ×{n}",
    "alert.escalation": "Escalade niveau {n}",
    "alert.cleared": "Condition disparue",
    "alert.cleared_at": "Condition disparue à {time} ; l'alerte reste à clore",
    "alert.robot": "Robot lié : {robot}",
    "alert.robot_distance": "à {distance}",
    "alert.robot_paused": "mis en pause par la passerelle",
    "alert.peak_acc": "Pic d'accélération : {value}",
    "alert.cancel_window": "Délai d'annulation : {value}",
    "alert.last_comment": "{by} à {time} : {text}",
    "alert.raised_at": "Levée à {time}",
    "alert.acknowledged_by": "Prise en charge par {by} à {time}",
    "alert.resolved_by": "Close par {by} à {time} — {reason}",
    "alert.ack": "Prendre en charge",
    "alert.resolve": "Clore…",

    "resolve.title": "Clore l'alerte",
    "resolve.reason": "Motif",
    "resolve.choose": "— Choisir un motif —",
    "resolve.comment": "Commentaire (facultatif)",
    "resolve.cancel": "Annuler",
    "resolve.confirm": "Clore l'alerte",
    "reason.real_incident": "Incident réel",
    "reason.false_alarm": "Fausse alerte",
    "reason.help_dispatched": "Secours envoyés",
    "reason.test": "Test",

    "error.conflict": "Cette alerte a déjà été traitée par quelqu'un d'autre.",
    "error.request": "La demande a échoué (erreur {status}). Réessayez.",
    "error.network": "Serveur injoignable. Réessayez.",

    "crews.heading": "Équipes",
    "crews.empty": "Aucun agent enregistré.",
    "crew.name": "Équipe {crew}",
    "crew.none": "Sans équipe",
    "agent.status.ok": "OK",
    "agent.status.alert": "En alerte",
    "agent.status.stale": "Données anciennes",
    "agent.status.offline": "Hors ligne",
    "agent.open_alerts": { one: "{n} alerte ouverte", other: "{n} alertes ouvertes" },
    "agent.hr": "FC",
    "agent.battery": "Batterie",
    "agent.last_seen": "Vu",
    "agent.never_seen": "jamais",
    "agent.no_device": "Sans bracelet",
    "agent.device_offline": "Bracelet déconnecté",

    "robots.heading": "Robots",
    "robots.empty": "Aucun robot enregistré.",
    "robot.id": "Robot",
    "robot.kind": "Type",
    "robot.mode": "Mode",
    "robot.safety": "Sécurité",
    "robot.battery": "Batterie",
    "robot.speed": "Vitesse",
    "robot.nearest_human": "Personne la plus proche",
    "robot.payload": "Charge",
    "robot.last_seen": "Vu",
    "robot.estop": "Arrêt d'urgence",
    "robot.protective_stop": "Arrêt de protection",
    "robot.running": "Normal",

    "unit.bpm": "{v} bpm",
    "unit.pct": "{v} %",
    "unit.ms": "{v} m/s",
    "unit.m": "{v} m",
    "unit.kg": "{v} kg",
    "unit.ms2": "{v} m/s²",
    "unit.s": "{v} s",
    "value.none": "—",

    "ago.now": "à l'instant",
    "ago.s": "il y a {n} s",
    "ago.min": "il y a {n} min",
    "ago.h": "il y a {h} h {m} min",
  },
  en: {
    "app.subtitle": "Field supervision",
    "lang.toggle": "Français",
    "lang.toggle_title": "Passer en français",
    "supervisor.label": "Supervisor",
    "sound.toggle": "Sound",
    "sound.on_title": "Beep on critical alerts is on",
    "sound.off_title": "Beep on critical alerts is off",

    "conn.connecting": "Connecting…",
    "conn.open": "Live",
    "conn.lost": "Reconnecting…",
    "conn.banner": "Connection lost — reconnecting…",

    "alerts.heading": "Alerts",
    "alerts.count": { one: "{n} open", other: "{n} open" },
    "alerts.empty": "No open alerts.",

    "severity.critical": "Critical",
    "severity.warning": "Warning",
    "severity.info": "Information",

    "status.raised": "Raised",
    "status.acknowledged": "Acknowledged",
    "status.resolved": "Resolved",

    "rule.sos": "SOS",
    "rule.fall": "Fall",
    "rule.man_down": "Man down",
    "rule.heat_strain": "Heat strain",
    "rule.wbgt_over_reference": "WBGT above reference",
    "rule.noise_peak": "Noise peak",
    "rule.noise_projected": "Noise: projected dose",
    "rule.hav_projected": "Vibration: projected dose",
    "rule.heat_projected": "Heat: reference soon exceeded",
    "rule.hav_limit_approaching": "Vibration near the limit",
    "rule.lifting_overload": "Lifting overload",
    "rule.robot_estop": "Robot emergency stop",
    "rule.robot_protective_stop": "Robot protective stop",
    "rule.robot_fault": "Robot fault",
    "rule.robot_battery_low": "Robot battery low",
    "rule.wearable_offline": "Wearable offline",
    "rule.wearable_battery_low": "Wearable battery low",
    "rule.missed_checkin": "Missed check-in (lone worker)",

    "alert.late": "Received late",
    "alert.repeat": "repeated ×{n}",
    "alert.escalation": "Escalation level {n}",
    "alert.cleared": "Condition cleared",
    "alert.cleared_at": "Condition cleared at {time}; the alert still needs resolving",
    "alert.robot": "Linked robot: {robot}",
    "alert.robot_distance": "{distance} away",
    "alert.robot_paused": "paused by the gateway",
    "alert.peak_acc": "Peak acceleration: {value}",
    "alert.cancel_window": "Cancel window: {value}",
    "alert.last_comment": "{by} at {time}: {text}",
    "alert.raised_at": "Raised at {time}",
    "alert.acknowledged_by": "Acknowledged by {by} at {time}",
    "alert.resolved_by": "Resolved by {by} at {time} — {reason}",
    "alert.ack": "Acknowledge",
    "alert.resolve": "Resolve…",

    "resolve.title": "Resolve alert",
    "resolve.reason": "Reason",
    "resolve.choose": "— Choose a reason —",
    "resolve.comment": "Comment (optional)",
    "resolve.cancel": "Cancel",
    "resolve.confirm": "Resolve alert",
    "reason.real_incident": "Real incident",
    "reason.false_alarm": "False alarm",
    "reason.help_dispatched": "Help dispatched",
    "reason.test": "Test",

    "error.conflict": "Someone else has already handled this alert.",
    "error.request": "The request failed (error {status}). Try again.",
    "error.network": "Server unreachable. Try again.",

    "crews.heading": "Crews",
    "crews.empty": "No agents registered.",
    "crew.name": "Crew {crew}",
    "crew.none": "No crew",
    "agent.status.ok": "OK",
    "agent.status.alert": "Alert",
    "agent.status.stale": "Stale data",
    "agent.status.offline": "Offline",
    "agent.open_alerts": { one: "{n} open alert", other: "{n} open alerts" },
    "agent.hr": "HR",
    "agent.battery": "Battery",
    "agent.last_seen": "Seen",
    "agent.never_seen": "never",
    "agent.no_device": "No wearable",
    "agent.device_offline": "Wearable disconnected",

    "robots.heading": "Robots",
    "robots.empty": "No robots registered.",
    "robot.id": "Robot",
    "robot.kind": "Kind",
    "robot.mode": "Mode",
    "robot.safety": "Safety",
    "robot.battery": "Battery",
    "robot.speed": "Speed",
    "robot.nearest_human": "Nearest person",
    "robot.payload": "Payload",
    "robot.last_seen": "Seen",
    "robot.estop": "Emergency stop",
    "robot.protective_stop": "Protective stop",
    "robot.running": "Normal",

    "unit.bpm": "{v} bpm",
    "unit.pct": "{v}%",
    "unit.ms": "{v} m/s",
    "unit.m": "{v} m",
    "unit.kg": "{v} kg",
    "unit.ms2": "{v} m/s²",
    "unit.s": "{v} s",
    "value.none": "—",

    "ago.now": "just now",
    "ago.s": "{n} s ago",
    "ago.min": "{n} min ago",
    "ago.h": "{h} h {m} min ago",
  },
};

const LOCALES = { fr: "fr-FR", en: "en-GB" };
const listeners = new Set();
let current = CATALOGUE[readPref(LANG_PREF)] ? readPref(LANG_PREF) : "fr";
let plural = new Intl.PluralRules(LOCALES[current]);

export function lang() {
  return current;
}

/** The BCP 47 locale of the page language, for Intl formatters (format.js). */
export function locale() {
  return LOCALES[current];
}

/** Switches the language, remembers it, and tells every listener (which re-render). */
export function setLang(next) {
  if (!CATALOGUE[next] || next === current) return;
  current = next;
  plural = new Intl.PluralRules(LOCALES[next]);
  writePref(LANG_PREF, next);
  for (const listener of listeners) listener(next);
}

export function toggleLang() {
  setLang(current === "fr" ? "en" : "fr");
}

export function onLangChange(listener) {
  listeners.add(listener);
}

/** The catalogue entry for `key` with its {placeholders} filled; an unknown key shows as itself. */
export function t(key, params = {}) {
  let text = CATALOGUE[current][key] ?? key;
  if (typeof text === "object") {
    text = text[plural.select(params.n ?? 0)] ?? text.other;
  }
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** Whether the catalogue has `key` (rule names come from the server and may be new to us). */
export function has(key) {
  return key in CATALOGUE[current];
}

/** Fills every element carrying `data-i18n="key"` under `root`, and the document's lang. */
export function translatePage(root = document) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
}
