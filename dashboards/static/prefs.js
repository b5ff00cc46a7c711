// The supervisor's preferences (language, name, sound), kept in localStorage on this browser.
// Storage can be disabled by policy; the dashboard must still work then, with defaults.

export function readPref(key, fallback = null) {
  try {
    return window.localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback;
  }
}

export function writePref(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Not remembered across reloads; nothing else depends on it.
  }
}
