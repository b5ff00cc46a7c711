// Client for the gateway's public API: REST under api/v1/ and the live WebSocket api/v1/live.
// URLs are resolved against the page, so the dashboard also works behind a path prefix.

const API_ROOT = "api/v1/";
const REQUEST_TIMEOUT_MS = 10_000;
const REPORT_TIMEOUT_MS = 60_000; // a PDF is drawn on request
// The bearer token lives in this tab's sessionStorage: closing the tab logs out, and other sites cannot read it.
const TOKEN_KEY = "vigie.token";
const unauthorisedListeners = new Set();

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** `listener()` runs when the server refuses our token (401, or the live socket closed with 4401). */
export function onUnauthorised(listener) {
  unauthorisedListeners.add(listener);
}

function unauthorised() {
  for (const listener of unauthorisedListeners) listener();
}

/** The server answered with an error status; `detail` is its message when it sent one. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

async function request(method, path, body, timeoutMs = REQUEST_TIMEOUT_MS) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(new URL(API_ROOT + path, document.baseURI), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    signal: AbortSignal.timeout(timeoutMs),
  });
  const payload = await response.json().catch(() => null);
  if (response.status === 401) unauthorised();
  if (!response.ok) {
    throw new ApiError(response.status, typeof payload?.detail === "string" ? payload.detail : null);
  }
  return payload;
}

/** OAuth2 password flow: stores and returns the token; throws ApiError 401 on wrong credentials. */
export async function login(username, password) {
  const response = await fetch(new URL(API_ROOT + "auth/token", document.baseURI), {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password }),
    cache: "no-store",
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, typeof payload?.detail === "string" ? payload.detail : null);
  setToken(payload.access_token);
  return payload;
}

/** Who the token says we are: {subject, role, crew_ids, agent_id, names_allowed}. */
export function whoAmI() {
  return request("GET", "me");
}

/** Open alerts (raised or acknowledged), newest first. */
export async function listOpenAlerts() {
  // Every open alert must be on screen: ask past the server's default page of 200.
  return (await request("GET", "alerts?status=open&limit=5000")).items;
}

export async function listAgents() {
  return (await request("GET", "agents")).items;
}

export async function listRobots() {
  return (await request("GET", "robots")).items;
}

/** Crews with their work area (a GeoJSON Polygon or null) and head counts. */
export async function listCrews() {
  return (await request("GET", "crews")).items;
}

/** The offline basemap: a GeoJSON FeatureCollection (features carry `properties.kind` and `name`). */
export function getBasemap() {
  return request("GET", "basemap");
}

/** One agent's exposure curves for a local day (`day` = YYYY-MM-DD, or today when omitted). */
export function getAgentExposureToday(agentId, day) {
  const query = day ? `?day=${encodeURIComponent(day)}` : "";
  return request("GET", `agents/${encodeURIComponent(agentId)}/exposure/today${query}`);
}

/**
 * The weak signals of a scope and period, their meanings in `lang` ("fr" or "en"); the server computes them on
 * request, hence the reports' timeout.
 */
export function getSignals({ site, crew, from, to, lang }) {
  const params = new URLSearchParams({ from, to });
  if (site) params.set("site", site);
  if (crew) params.set("crew", crew);
  if (lang) params.set("lang", lang);
  return request("GET", `signals?${params}`, undefined, REPORT_TIMEOUT_MS);
}

/**
 * Records the follow-up of a flagged signal (`ref` from its item): `{outcome, note}`. The server finds the flag
 * among the signals this user reads in the same scope up to `to`, and answers with the signal and its review.
 */
export function reviewSignal(ref, review, { site, crew, to, lang }) {
  const params = new URLSearchParams({ to });
  if (site) params.set("site", site);
  if (crew) params.set("crew", crew);
  if (lang) params.set("lang", lang);
  return request("PUT", `signals/${encodeURIComponent(ref)}/review?${params}`, review, REPORT_TIMEOUT_MS);
}

/**
 * A file the API serves (a PDF report) as a Blob. A plain link cannot send the bearer token, so the page
 * fetches the file and hands it to the browser itself. `path` is relative to api/v1/, query included.
 */
export async function getFile(path) {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  const response = await fetch(new URL(API_ROOT + path, document.baseURI), {
    headers,
    cache: "no-store",
    signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
  });
  if (response.status === 401) unauthorised();
  if (!response.ok) {
    const payload = await response.json().catch(() => null);
    throw new ApiError(response.status, typeof payload?.detail === "string" ? payload.detail : null);
  }
  return response.blob();
}

/** Returns the updated alert; throws ApiError 409 when it was already acknowledged or resolved. */
export function acknowledgeAlert(alertId, by) {
  return request("POST", `alerts/${encodeURIComponent(alertId)}/ack`, { by });
}

/** `reason` is one of real_incident, false_alarm, help_dispatched, test. Returns the updated alert. */
export function resolveAlert(alertId, { reason, comment, by }) {
  return request("POST", `alerts/${encodeURIComponent(alertId)}/resolve`, { reason, comment, by });
}

/**
 * Keeps one WebSocket to the live feed open for as long as the page lives.
 *
 * After a drop it reconnects with capped exponential backoff and jitter, so a restarted gateway is not
 * hit by every control-room screen at the same instant. A connection that stayed up for STABLE_MS
 * resets the backoff; one that drops straight away (a crash-looping server, a failed resync) does not.
 * A socket refused for its token (4401) is not retried: retrying cannot help until someone signs in, and
 * `reconnect()` (called after signing in) opens the next one at once, whatever the backoff had reached.
 * Messages that are not JSON are dropped with a warning.
 */
export function connectLive({ onOpen, onMessage, onClose }, { minDelayMs = 500, maxDelayMs = 15_000 } = {}) {
  const STABLE_MS = 10_000;
  let socket = null;
  let openedAt = 0;
  let attempt = 0;
  let retry = null; // the pending reconnection while disconnected
  let resyncing = false; // we closed the socket ourselves to reopen it at once

  function open() {
    retry = null;
    const url = new URL(API_ROOT + "live", document.baseURI);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      openedAt = Date.now();
      // The first message authenticates this socket (no headers on a browser WebSocket, no token in URLs).
      socket.send(JSON.stringify({ type: "auth", token: token() ?? "" }));
      onOpen();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        console.warn("live: dropped a message that is not JSON");
        return;
      }
      onMessage(message);
    });
    // An "error" event is always followed by "close", so reconnection is handled here alone.
    socket.addEventListener("close", (event) => {
      if (openedAt && Date.now() - openedAt >= STABLE_MS) attempt = 0;
      openedAt = 0;
      socket = null;
      onClose();
      if (resyncing) {
        // Our own close (a resync, or a new token after signing in): reopen now, with a fresh backoff.
        resyncing = false;
        attempt = 0;
        open();
        return;
      }
      if (event.code === 4401) {
        unauthorised(); // waits for reconnect() after signing in
        return;
      }
      const ceilingMs = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
      attempt += 1;
      retry = setTimeout(open, ceilingMs / 2 + (Math.random() * ceilingMs) / 2);
    });
  }

  open();
  return {
    /** Drops the current connection so the usual reconnect (and resync) happens, after the backoff (a
     * failed resync must not turn into a tight loop) or, `immediately` (after signing in), at once. While
     * disconnected, reconnects now rather than at the end of the backoff. */
    reconnect({ immediately = false } = {}) {
      if (socket) {
        resyncing = immediately;
        socket.close(4000, "client resync");
        return;
      }
      if (retry !== null) clearTimeout(retry);
      attempt = 0;
      open();
    },
  };
}
