// Cues for new critical alerts: the alert and the page border flash, and a short beep sounds (WebAudio,
// no file to fetch). Owns the header's sound toggle, remembered on this browser, which mutes the beep.

import { query } from "./dom.js";
import { t } from "./i18n.js";
import { readPref, writePref } from "./prefs.js";

const SOUND_PREF = "vigie.sound";
const BEEP_MIN_INTERVAL_MS = 1_500;
const FLASH_MS = 3_000; // matches the CSS pulses

const soundToggle = query("sound-toggle");
const newCritical = new Set(); // alert ids to flash on their first render
let pageFlashTimer = null;

const sound = {
  enabled: readPref(SOUND_PREF, "on") === "on",
  context: null,
  lastBeepAt: 0,

  /** Browsers only start audio after a user gesture; call this from one. */
  unlock() {
    this.context ??= new AudioContext();
    if (this.context.state === "suspended") this.context.resume();
  },

  beep() {
    if (!this.enabled || this.context?.state !== "running") return;
    if (Date.now() - this.lastBeepAt < BEEP_MIN_INTERVAL_MS) return;
    this.lastBeepAt = Date.now();
    const start = this.context.currentTime;
    for (const [offsetS, frequencyHz] of [[0, 880], [0.22, 1175]]) {
      const oscillator = new OscillatorNode(this.context, { type: "square", frequency: frequencyHz });
      const gain = new GainNode(this.context, { gain: 0 });
      // Short ramps avoid the click of a hard start and stop.
      gain.gain.setValueAtTime(0, start + offsetS);
      gain.gain.linearRampToValueAtTime(0.2, start + offsetS + 0.01);
      gain.gain.linearRampToValueAtTime(0, start + offsetS + 0.18);
      oscillator.connect(gain).connect(this.context.destination);
      oscillator.start(start + offsetS);
      oscillator.stop(start + offsetS + 0.2);
    }
  },
};

/** A critical alert the supervisor has not seen yet: beep now, flash it when the feed first draws it. */
export function announceNewCritical(alert) {
  newCritical.add(alert.alert_id);
  sound.beep();
}

/** Flashes `element` if it is the first drawing of an alert announced by `announceNewCritical`. */
export function flashIfNew(alertId, element) {
  if (!newCritical.delete(alertId)) return;
  element.classList.add("is-new");
  setTimeout(() => element.classList.remove("is-new"), FLASH_MS);
  document.body.classList.add("is-flashing");
  clearTimeout(pageFlashTimer);
  pageFlashTimer = setTimeout(() => document.body.classList.remove("is-flashing"), FLASH_MS);
}

/** Shows the sound toggle's state and title in the page language. */
export function drawSoundToggle() {
  soundToggle.setAttribute("aria-pressed", String(sound.enabled));
  soundToggle.title = t(sound.enabled ? "sound.on_title" : "sound.off_title");
}

export function wireSound() {
  soundToggle.addEventListener("click", () => {
    sound.enabled = !sound.enabled;
    writePref(SOUND_PREF, sound.enabled ? "on" : "off");
    drawSoundToggle();
  });
  for (const type of ["pointerdown", "keydown"]) {
    document.addEventListener(type, () => sound.unlock(), { once: true, capture: true });
  }
}
