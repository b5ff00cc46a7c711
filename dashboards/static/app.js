// The supervisors' live dashboard. It holds no rules and no maths: it shows what the API says.
// This module only starts the page and wires the others together:
//
//   live.js   REST snapshot on every (re)connect, then WebSocket messages, applied to the store
//   state.js  the store; each change marks a panel dirty and asks for one animation frame
//   alerts.js, crew.js, robots.js, map.js   one panel each, redrawn on that frame if it changed
//   agent.js  the agent page (today's exposure curves), opened from a tile or the map
//   signals.js  the weak signals over weeks (#/signals), opened from the header link
//   cues.js   flash and beep for new critical alerts, and the sound toggle
//   format.js, dom.js, i18n.js, api.js, prefs.js   shared helpers
//
// The language toggle lives here because a language change redraws every panel.

import { renderAgentPage, wireAgentPage } from "./agent.js";
import { renderAlerts, wireAlerts } from "./alerts.js";
import { drawUser, wireAuth } from "./auth.js";
import { renderCrewBoard } from "./crew.js";
import { drawSoundToggle, wireSound } from "./cues.js";
import { query } from "./dom.js";
import { refreshSince } from "./format.js";
import { lang, onLangChange, t, toggleLang, translatePage } from "./i18n.js";
import { reconnectLive, startLive } from "./live.js";
import { renderMap, wireMap } from "./map.js";
import { renderRobots } from "./robots.js";
import { renderSignalsPage, wireSignalsPage } from "./signals.js";
import { PANELS, onFrame, pruneResolved, state, takeDirty } from "./state.js";

const langToggle = query("lang-toggle");

/** Draws the panels that changed since the last frame, or all of them when `force` (a language change). */
function render(force) {
  const changed = takeDirty();
  const panels = force ? new Set(PANELS) : changed;
  if (panels.has("alerts")) renderAlerts(force);
  if (panels.has("agents")) renderCrewBoard(force);
  if (panels.has("robots")) renderRobots(force);
  // The map shows agents, robots and crews' areas, and redraws itself when its view moves ("map").
  if (["agents", "robots", "crews", "map"].some((panel) => panels.has(panel))) renderMap(force);
  if (force) renderAgentPage(force);
  if (force || panels.has("crews")) renderSignalsPage(force); // its crew filter lists the snapshot's crews
  updateElapsed();
}

/** Refreshes every "il y a 5 s" text; runs each second and after each render. */
function updateElapsed() {
  refreshSince(Date.now() + state.serverOffsetMs);
}

function drawLanguage() {
  translatePage();
  langToggle.textContent = t("lang.toggle");
  langToggle.title = t("lang.toggle_title");
  langToggle.lang = lang() === "fr" ? "en" : "fr";
  drawSoundToggle();
  drawUser();
}

onFrame(() => render(false));
wireAuth(reconnectLive);
wireAlerts();
wireSound();
wireMap();
wireAgentPage();
wireSignalsPage();
langToggle.addEventListener("click", toggleLang);
onLangChange(() => {
  drawLanguage();
  render(true);
});

drawLanguage();
render(true);
startLive();
setInterval(() => {
  pruneResolved();
  updateElapsed();
}, 1_000);
