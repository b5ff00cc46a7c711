// What the supervisor does to the map, turned into intents: the wheel zooms around the cursor, a drag
// pans, a press that does not move is a click, and the focused canvas takes the keyboard (arrows pan,
// + and − zoom, 0 fits everything, Escape closes the popover). The map decides what each intent does.

const PAN_STEP_PX = 80;
const ZOOM_STEP = 2;
const WHEEL_ZOOM_PER_PX = 0.002; // 100 px of wheel ≈ ×1.22
const DRAG_THRESHOLD_PX = 4; // a press that moves less is a click
const LINE_PX = 16; // a wheel "line" (Firefox with a mouse), in pixels

/**
 * Wires the canvas and the zoom buttons. `on` has pan(dxPx, dyPx), zoom(factor, x?, y?), fit(),
 * click(x, y), hover(x, y) → whether something clickable is there, and escape(); x, y are CSS px from
 * the canvas's drawing area's top-left.
 */
export function wireInput({ canvas, zoomIn, zoomOut, fit }, on) {
  zoomIn.addEventListener("click", () => on.zoom(ZOOM_STEP));
  zoomOut.addEventListener("click", () => on.zoom(1 / ZOOM_STEP));
  fit.addEventListener("click", () => on.fit());

  const pointerAt = (event) => {
    const rect = canvas.getBoundingClientRect();
    // The canvas's border is outside its drawing area.
    return [event.clientX - rect.left - canvas.clientLeft, event.clientY - rect.top - canvas.clientTop];
  };
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault(); // the wheel zooms the map rather than scrolling the page
    const deltaPx = event.deltaY * (event.deltaMode === WheelEvent.DOM_DELTA_LINE ? LINE_PX : 1);
    on.zoom(Math.exp(-deltaPx * WHEEL_ZOOM_PER_PX), ...pointerAt(event));
  }, { passive: false });

  let drag = null;
  const endDrag = () => {
    drag = null;
    canvas.classList.remove("is-dragging");
  };
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { pointerId: event.pointerId, x: event.clientX, y: event.clientY, moved: false };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drag?.pointerId !== event.pointerId) {
      canvas.classList.toggle("is-over-item", on.hover(...pointerAt(event)));
      return;
    }
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD_PX) return;
    Object.assign(drag, { x: event.clientX, y: event.clientY, moved: true });
    canvas.classList.add("is-dragging");
    on.pan(dx, dy);
  });
  canvas.addEventListener("pointerup", (event) => {
    if (drag?.pointerId !== event.pointerId) return;
    const wasClick = !drag.moved;
    endDrag();
    if (wasClick) on.click(...pointerAt(event));
  });
  canvas.addEventListener("pointercancel", endDrag);

  // The content moves under the view: ArrowRight shows what lies east.
  const moves = { ArrowLeft: [PAN_STEP_PX, 0], ArrowRight: [-PAN_STEP_PX, 0], ArrowUp: [0, PAN_STEP_PX],
    ArrowDown: [0, -PAN_STEP_PX] };
  canvas.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key in moves) on.pan(...moves[event.key]);
    else if (event.key === "+" || event.key === "=") on.zoom(ZOOM_STEP);
    else if (event.key === "-" || event.key === "_") on.zoom(1 / ZOOM_STEP);
    else if (event.key === "0") on.fit();
    else if (event.key === "Escape") on.escape();
    else return;
    event.preventDefault(); // arrows would scroll the page too
  });
}
