// What part of the world the map shows, and where a WGS-84 position lands on the canvas.
//
// Positions are projected once with Web Mercator (EPSG:3857), the projection of web maps: it keeps shapes
// (a square block stays square) and needs no origin, so data loaded in any order lands in one frame.
// Projected coordinates are metres on the Mercator sphere, y northwards; they are "stretched" metres away
// from the equator (1 / cos(latitude)), which `groundMetres` corrects where a true length is drawn (the
// Seine's width). A view is a plain object {cx, cy, scale, width, height}: the projected point at the
// centre of the canvas, CSS pixels per projected metre, and the canvas size in CSS pixels. Views are never
// changed in place, so "the view moved" is `view !== previous`.

const EARTH_RADIUS_M = 6_378_137; // the WGS-84 semi-major axis: the sphere of EPSG:3857
const MAX_LAT_DEG = 85.05112878; // Web Mercator's limit (the map is a square)
const MIN_SCALE = 0.0005; // px per projected metre: a region about 1,600 km wide on 800 px
const MAX_SCALE = 8; // a few pixels per metre: a street corner fills the map
const FIT_MAX_SCALE = 0.5; // fitting one robot does not zoom to its bolts

/** [x, y] projected metres of a WGS-84 position, or null when it is not one. */
export function project(lon, lat) {
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  const clamped = Math.max(-MAX_LAT_DEG, Math.min(MAX_LAT_DEG, lat));
  const phi = (clamped * Math.PI) / 180;
  return [(EARTH_RADIUS_M * lon * Math.PI) / 180, EARTH_RADIUS_M * Math.log(Math.tan(Math.PI / 4 + phi / 2))];
}

/** [lon, lat] of a projected point. */
export function unproject(x, y) {
  const lat = (2 * Math.atan(Math.exp(y / EARTH_RADIUS_M)) - Math.PI / 2) * (180 / Math.PI);
  return [(x / EARTH_RADIUS_M) * (180 / Math.PI), lat];
}

/** Projected metres per ground metre at projected northing `y` (Mercator stretches by 1 / cos φ). */
export function stretchAt(y) {
  return 1 / Math.cos((unproject(0, y)[1] * Math.PI) / 180);
}

/** A flat Float64Array [x0, y0, x1, y1, …] of GeoJSON [lon, lat] positions; invalid ones are skipped. */
export function projectPositions(positions) {
  const flat = new Float64Array(positions.length * 2);
  let length = 0;
  for (const position of positions) {
    const point = Array.isArray(position) ? project(position[0], position[1]) : null;
    if (!point) continue;
    flat[length++] = point[0];
    flat[length++] = point[1];
  }
  return flat.subarray(0, length);
}

export function emptyBounds() {
  return { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
}

/** Grows `bounds` (in place) to hold a flat coordinate array or another bounds. */
export function extendBounds(bounds, flatOrBounds) {
  if (!flatOrBounds) return bounds;
  if ("minX" in flatOrBounds) {
    bounds.minX = Math.min(bounds.minX, flatOrBounds.minX);
    bounds.minY = Math.min(bounds.minY, flatOrBounds.minY);
    bounds.maxX = Math.max(bounds.maxX, flatOrBounds.maxX);
    bounds.maxY = Math.max(bounds.maxY, flatOrBounds.maxY);
    return bounds;
  }
  for (let i = 0; i < flatOrBounds.length; i += 2) {
    bounds.minX = Math.min(bounds.minX, flatOrBounds[i]);
    bounds.maxX = Math.max(bounds.maxX, flatOrBounds[i]);
    bounds.minY = Math.min(bounds.minY, flatOrBounds[i + 1]);
    bounds.maxY = Math.max(bounds.maxY, flatOrBounds[i + 1]);
  }
  return bounds;
}

function isEmpty(bounds) {
  return !(bounds.minX <= bounds.maxX && bounds.minY <= bounds.maxY);
}

/** The first view: nothing known yet; `fitBounds` places it once there is something to show. */
export function initialView() {
  return { cx: 0, cy: 0, scale: 1, width: 0, height: 0 };
}

export function resized(view, width, height) {
  return { ...view, width, height };
}

/** Screen x, y (CSS px from the canvas's top-left) of projected x, y. */
export function screenX(view, x) {
  return view.width / 2 + (x - view.cx) * view.scale;
}

export function screenY(view, y) {
  return view.height / 2 - (y - view.cy) * view.scale;
}

/** [x, y] projected metres under screen point (sx, sy). */
export function toWorld(view, sx, sy) {
  return [view.cx + (sx - view.width / 2) / view.scale, view.cy - (sy - view.height / 2) / view.scale];
}

/** Whether `bounds` (projected) overlaps the canvas, widened by `marginPx`, so off-screen shapes are skipped. */
export function isVisible(view, bounds, marginPx = 0) {
  const [left, top] = toWorld(view, -marginPx, -marginPx);
  const [right, bottom] = toWorld(view, view.width + marginPx, view.height + marginPx);
  return bounds.maxX >= left && bounds.minX <= right && bounds.maxY >= bottom && bounds.minY <= top;
}

export function panBy(view, dxPx, dyPx) {
  return { ...view, cx: view.cx - dxPx / view.scale, cy: view.cy + dyPx / view.scale };
}

/** Zooms by `factor` keeping the point under (sx, sy) still (the wheel's cursor), or the centre. */
export function zoomAround(view, factor, sx = view.width / 2, sy = view.height / 2) {
  const scale = Math.max(MIN_SCALE, Math.min(MAX_SCALE, view.scale * factor));
  if (scale === view.scale) return view;
  const [x, y] = toWorld(view, sx, sy);
  return {
    ...view,
    scale,
    cx: x - (sx - view.width / 2) / scale,
    cy: y + (sy - view.height / 2) / scale,
  };
}

/** The view showing all of `bounds` with `paddingPx` around it; `view` unchanged when there is nothing to fit. */
export function fitBounds(view, bounds, paddingPx) {
  if (isEmpty(bounds) || !view.width || !view.height) return view;
  const spanX = Math.max(bounds.maxX - bounds.minX, 1);
  const spanY = Math.max(bounds.maxY - bounds.minY, 1);
  const scale = Math.min(
    (view.width - 2 * paddingPx) / spanX, (view.height - 2 * paddingPx) / spanY, FIT_MAX_SCALE);
  return {
    ...view,
    cx: (bounds.minX + bounds.maxX) / 2,
    cy: (bounds.minY + bounds.maxY) / 2,
    scale: Math.max(MIN_SCALE, Math.min(MAX_SCALE, scale)),
  };
}

/** Whether projected (x, y) lies inside a ring (flat array), by the even-odd rule (ray casting). */
function ringContains(ring, x, y) {
  let inside = false;
  const n = ring.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = ring[2 * i], yi = ring[2 * i + 1], xj = ring[2 * j], yj = ring[2 * j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether (x, y) lies in a polygon given as rings (the first the outline, the others holes). */
export function polygonContains(rings, x, y) {
  if (!rings.length || !ringContains(rings[0], x, y)) return false;
  return !rings.slice(1).some((hole) => ringContains(hole, x, y));
}

/** Claims a screen box (CSS px) in `placed` unless it overlaps one already there, so labels never pile up. */
export function claim(placed, left, top, width, height) {
  if (placed.some(([l, t, r, b]) => left < r && left + width > l && top < b && top + height > t)) return false;
  placed.push([left, top, left + width, top + height]);
  return true;
}
