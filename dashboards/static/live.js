// Keeps the store in step with the server, and shows the connection state in the header and banner.
//
// A REST snapshot is taken on every (re)connect, so nothing that happened while disconnected is missed.
// It is fetched on "hello", which the server sends as it subscribes this socket, so snapshot and live
// stream overlap rather than leave a gap; messages arriving meanwhile wait in `buffered` and are
// replayed over the snapshot.

import * as api from "./api.js";
import { announceNewCritical } from "./cues.js";
import { query } from "./dom.js";
import { t } from "./i18n.js";
import {
  applySnapshot, setDeviceLink, setLastComment, setServerTime, state, upsertAgents, upsertAlert, upsertRobots,
} from "./state.js";

const indicator = query("connection-state");
const indicatorText = indicator.querySelector(".connection__text");
const banner = query("connection-banner");

let live = null;
let generation = 0; // one per connection: a snapshot answering for a dropped connection is discarded
let buffered = null; // null when no snapshot is loading

/** Drops and reopens the live connection at once (after signing in, with the new token). */
export function reconnectLive() {
  live?.reconnect({ immediately: true });
}

/** Opens the live connection, for as long as the page lives (api.connectLive reconnects). */
export function startLive() {
  setConnection("connecting");
  live = api.connectLive({
    onOpen() {
      generation += 1;
      buffered = [];
    },
    onMessage(message) {
      if (message.type === "hello") {
        setServerTime(message.server_time);
        loadSnapshot(generation);
      } else if (buffered) {
        buffered.push(message);
      } else {
        applyMessage(message);
      }
    },
    onClose() {
      generation += 1;
      buffered = null;
      setConnection("lost");
    },
  });
}

async function loadSnapshot(forGeneration) {
  let alerts, agents, robots, crews;
  try {
    [alerts, agents, robots, crews] = await Promise.all([
      api.listOpenAlerts(), api.listAgents(), api.listRobots(), api.listCrews()]);
  } catch (error) {
    console.warn("snapshot failed, reconnecting:", error);
    if (forGeneration === generation) live.reconnect();
    return;
  }
  if (forGeneration !== generation) return;

  for (const missed of applySnapshot({ alerts, agents, robots, crews })) announceNewCritical(missed);
  const replay = buffered;
  buffered = null;
  for (const message of replay) applyMessage(message);
  setConnection("open");
}

function applyMessage(message) {
  switch (message.type) {
    case "alert.raised":
      if (message.alert.severity === "critical" && !state.alerts.has(message.alert.alert_id)) {
        announceNewCritical(message.alert);
      }
      upsertAlert(message.alert);
      break;
    case "alert.updated":
      upsertAlert(message.alert);
      break;
    case "alert.comment":
      setLastComment(message);
      break;
    case "agents.changed":
      upsertAgents(message.items);
      break;
    case "robots.changed":
      upsertRobots(message.items);
      break;
    case "device.status":
      setDeviceLink(message.device_id, message.status);
      break;
    default:
      // Unknown types are ignored, so the server can add new ones before the dashboard uses them.
      break;
  }
}

function setConnection(connection) {
  indicator.dataset.state = connection;
  indicatorText.dataset.i18n = `conn.${connection}`;
  indicatorText.textContent = t(`conn.${connection}`);
  banner.hidden = connection !== "lost";
}
