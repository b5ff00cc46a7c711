// Injected before the dashboard's own scripts (Playwright add_init_script). Measures, between start() and
// stop(), what a supervisor would feel:
//
//   frames       the interval between consecutive animation frames (requestAnimationFrame timestamps)
//   long tasks   main-thread tasks over 50 ms (PerformanceObserver "longtask") and long animation frames
//                (PerformanceObserver "long-animation-frame", Chromium's LoAF API)
//   updates      for each live message: from its "message" event to the end of the first frame after it,
//                i.e. once the frame that drew it has been rendered (rAF, then a MessageChannel task,
//                which runs only after that frame's style, layout and paint)
//   alerts       for each alert.raised: from its "message" event to its [data-alert-id] element being in
//                the document (MutationObserver)
//
// The WebSocket is the browser's own; this subclass only adds a listener before the page's, so a message
// is stamped before the dashboard starts handling it.
(() => {
  const probe = {
    measuring: false,
    frames: [],
    lastFrameAt: null,
    updates: [], // {type, latency_ms, transport_ms, size}
    alerts: [], // {alert_id, latency_ms}
    pendingAlerts: new Map(), // alert_id -> received at (performance.now())
    longTasks: [],
    longFrames: [],
    messages: 0,
    startedAt: Infinity,
  };
  window.__vigieBench = probe;

  const afterFrame = new MessageChannel();
  const waitingForFrame = [];
  afterFrame.port1.onmessage = () => {
    const paintedAt = performance.now();
    for (const update of waitingForFrame.splice(0)) {
      if (probe.measuring && update.receivedAt >= probe.startedAt) {
        probe.updates.push({ type: update.type, latency_ms: paintedAt - update.receivedAt,
          transport_ms: update.transportMs, size: update.size });
      }
    }
  };

  const HEAD = /^\{"type":"([^"]+)","bench_seq":(\d+),"bench_sent_ms":([\d.]+)/;
  function onMessage(event) {
    const receivedAt = performance.now();
    if (typeof event.data !== "string") return;
    probe.messages += 1;
    const head = HEAD.exec(event.data.slice(0, 120));
    if (!head) return;
    const transportMs = performance.timeOrigin + receivedAt - Number(head[3]);
    const type = head[1];
    if (waitingForFrame.length === 0) requestAnimationFrame(() => afterFrame.port2.postMessage(null));
    waitingForFrame.push({ type, receivedAt, transportMs, size: event.data.length });
    if (type === "alert.raised") {
      const alertId = JSON.parse(event.data).alert.alert_id;
      probe.pendingAlerts.set(alertId, receivedAt);
      checkAlerts();
    }
  }

  function checkAlerts() {
    for (const [alertId, receivedAt] of probe.pendingAlerts) {
      if (!document.querySelector(`[data-alert-id="${CSS.escape(alertId)}"]`)) continue;
      probe.pendingAlerts.delete(alertId);
      if (probe.measuring && receivedAt >= probe.startedAt) probe.alerts.push({ alert_id: alertId, latency_ms: performance.now() - receivedAt });
    }
  }

  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", onMessage);
    }
  };

  new MutationObserver(() => {
    if (probe.pendingAlerts.size) checkAlerts();
  }).observe(document, { childList: true, subtree: true });

  function frame(at) {
    if (probe.measuring && probe.lastFrameAt !== null) probe.frames.push(at - probe.lastFrameAt);
    probe.lastFrameAt = at;
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);

  // Entries are kept with their start time and cut to the window in stop(): the observers report late.
  for (const [type, into] of [["longtask", "longTasks"], ["long-animation-frame", "longFrames"]]) {
    try {
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          probe[into]?.push({
            at: entry.startTime, duration_ms: entry.duration, blocking_ms: entry.blockingDuration ?? null,
            // Long animation frames say where their time went: scripts (by file and function) and the
            // frame's own style and layout.
            style_layout_ms: entry.styleAndLayoutStart ? entry.startTime + entry.duration - entry.styleAndLayoutStart : null,
            scripts: (entry.scripts ?? []).map((script) => ({
              source: `${script.sourceURL.split("/").pop() || "?"}:${script.sourceFunctionName || "(anonymous)"}`,
              invoker: script.invoker, duration_ms: script.duration,
              forced_layout_ms: script.forcedStyleAndLayoutDuration,
            })),
          });
        }
      }).observe({ type, buffered: false });
    } catch {
      // An entry type this browser does not support: reported as absent, not as zero.
      probe[into] = null;
    }
  }

  probe.start = () => {
    probe.startedAt = performance.now();
    probe.lastFrameAt = null;
    probe.measuring = true;
  };
  probe.stop = () => {
    probe.measuring = false;
    const stoppedAt = performance.now();
    const inWindow = (entries) => entries?.filter((entry) => entry.at >= probe.startedAt && entry.at < stoppedAt) ?? null;
    return {
      window_ms: stoppedAt - probe.startedAt,
      frames: probe.frames,
      updates: probe.updates,
      alerts: probe.alerts,
      // Raised more than 2 s before the end and still not in the feed.
      alerts_not_shown: [...probe.pendingAlerts.values()].filter((at) => stoppedAt - at > 2_000).length,
      long_tasks: inWindow(probe.longTasks),
      long_frames: inWindow(probe.longFrames),
    };
  };
  probe.footprint = () => {
    window.gc?.();
    return {
      js_heap_bytes: performance.memory?.usedJSHeapSize ?? null,
      dom_nodes: document.getElementsByTagName("*").length,
      agent_tiles: document.querySelectorAll('[data-testid="agent-tile"]').length,
      alert_items: document.querySelectorAll('[data-testid="alert"]').length,
      canvases: document.querySelectorAll("canvas").length,
    };
  };
})();
