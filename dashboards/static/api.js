// Client for the gateway's public API: REST under api/v1/ and the live WebSocket api/v1/live.
// URLs are resolved against the page, so the dashboard also works behind a path prefix.

const API_ROOT = "api/v1/";
const REQUEST_TIMEOUT_MS = 10_000;

/** The server answered with an error status; `detail` is its message when it sent one. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(new URL(API_ROOT + path, document.baseURI), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, typeof payload?.detail === "string" ? payload.detail : null);
  }
  return payload;
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
 * Messages that are not JSON are dropped with a warning.
 */
export function connectLive({ onOpen, onMessage, onClose }, { minDelayMs = 500, maxDelayMs = 15_000 } = {}) {
  const STABLE_MS = 10_000;
  let socket = null;
  let openedAt = 0;
  let attempt = 0;

  function open() {
    const url = new URL(API_ROOT + "live", document.baseURI);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      openedAt = Date.now();
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
    socket.addEventListener("close", () => {
      if (openedAt && Date.now() - openedAt >= STABLE_MS) attempt = 0;
      openedAt = 0;
      socket = null;
      onClose();
      const ceilingMs = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
      attempt += 1;
      setTimeout(open, ceilingMs / 2 + (Math.random() * ceilingMs) / 2);
    });
  }

  open();
  return {
    /** Drops the current connection so the usual reconnect (and resync) happens. */
    reconnect() {
      socket?.close(4000, "client resync");
    },
  };
}
