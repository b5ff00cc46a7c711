// Drawing the map on a 2D canvas: the basemap's features, crews' work areas with their head-count badge,
// robots and agents in alert. Every symbol differs by shape as well as colour, so the map reads in
// greyscale and for colour-blind supervisors: an agent in critical alert is a disc inside a ring, in
// another alert a diamond; a running robot a triangle pointing where it heads, a robot in protective stop
// a square with a pause sign, in emergency stop an octagon (the stop sign) with a bar.
// Contexts are expected to draw in CSS pixels (the caller scales for the device pixel ratio).

import { isVisible, projectPositions, emptyBounds, extendBounds, screenX, screenY, stretchAt } from "./map-view.js";

export const COLOURS = {
  outside: "#dfe3e8",
  land: "#f6f4ef",
  park: "#cfe6c4",
  parkEdge: "#9cc48d",
  parkText: "#2f5e23",
  water: "#9fc3e6",
  roadCasing: "#b9c0ca",
  road: "#ffffff",
  boundary: "#5b636e",
  label: "#4a525c",
  halo: "#ffffff",
  text: "#16191d",
  area: "#1a5fb4",
  areaFill: "rgb(26 95 180 / 8%)",
  critical: "#b3261e",
  criticalFill: "rgb(179 38 30 / 16%)",
  warning: "#f2b600",
  warningEdge: "#3b2a00",
  ok: "#1e7a34",
};

const KINDS = ["boundary", "park", "water", "road", "label"]; // also the drawing order
const BADGE_MIN_AREA_PX = 28; // a crew area smaller than this on screen gets no head-count badge…
const NAME_SCALE = 0.12; // …and park names and robot ids show from this zoom (px per projected metre)
const ARRONDISSEMENT_SCALE = 0.012; // labels below this zoom would pile up

/**
 * The basemap's features, projected once: {features, bounds, count, attribution}. Features of an unknown
 * kind or geometry are skipped, so a hand-made file with extra layers still draws what it can.
 */
export function prepareBasemap(collection) {
  const features = [];
  const bounds = emptyBounds();
  for (const feature of Array.isArray(collection?.features) ? collection.features : []) {
    const kind = feature?.properties?.kind;
    const prepared = KINDS.includes(kind) ? projectGeometry(feature.geometry) : null;
    if (!prepared) continue;
    const record = { kind, name: String(feature.properties.name ?? ""), ...prepared };
    record.widthM = Number(feature.properties.width_m) || 0;
    for (const ring of [...record.polygons.flat(), ...record.lines]) extendBounds(bounds, ring);
    if (record.point) extendBounds(bounds, record.point);
    features.push(record);
  }
  features.sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind));
  const attribution = collection?.properties?.attribution;
  return { features, bounds, count: features.length, attribution: typeof attribution === "string" ? attribution : "" };
}

/** Crews' work areas, projected once per snapshot: [{crew, polygons, bounds}] for the crews that have one. */
export function prepareAreas(crews) {
  const prepared = [];
  for (const crew of crews.values()) {
    const shape = crew?.area ? projectGeometry(crew.area) : null;
    if (!shape?.polygons.length) continue;
    const bounds = emptyBounds();
    for (const ring of shape.polygons.flat()) extendBounds(bounds, ring);
    prepared.push({ crew, polygons: shape.polygons, bounds });
  }
  return prepared;
}

/** A GeoJSON geometry projected: {polygons: [[ring]], lines, point}, rings flat; null when nothing drawable. */
function projectGeometry(geometry) {
  const coordinates = geometry?.coordinates;
  if (!Array.isArray(coordinates)) return null;
  const rings = (polygon) => (Array.isArray(polygon) ? polygon.map(projectPositions).filter((r) => r.length >= 6) : []);
  const prepared = { polygons: [], lines: [], point: null };
  switch (geometry.type) {
    case "Polygon": prepared.polygons = [rings(coordinates)]; break;
    case "MultiPolygon": prepared.polygons = coordinates.map(rings); break;
    case "LineString": prepared.lines = [projectPositions(coordinates)]; break;
    case "MultiLineString": prepared.lines = coordinates.map(projectPositions); break;
    case "Point": prepared.point = projectPositions([coordinates]); break;
    default: return null;
  }
  prepared.polygons = prepared.polygons.filter((polygon) => polygon.length > 0);
  prepared.lines = prepared.lines.filter((line) => line.length >= 4);
  if (prepared.point?.length !== 2) prepared.point = null;
  return prepared.polygons.length || prepared.lines.length || prepared.point ? prepared : null;
}

function tracePath(ctx, view, flat, close) {
  for (let i = 0; i < flat.length; i += 2) {
    const x = screenX(view, flat[i]);
    const y = screenY(view, flat[i + 1]);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  if (close) ctx.closePath();
}

function tracePolygons(ctx, view, polygons) {
  ctx.beginPath();
  for (const polygon of polygons) for (const ring of polygon) tracePath(ctx, view, ring, true);
}

function traceLines(ctx, view, lines) {
  ctx.beginPath();
  for (const line of lines) tracePath(ctx, view, line, false);
}

/** Draws the whole basemap, or a plain background when there is none. */
export function drawBasemap(ctx, view, basemap, fontFamily) {
  ctx.fillStyle = basemap ? COLOURS.outside : COLOURS.land;
  ctx.fillRect(0, 0, view.width, view.height);
  if (!basemap) return;
  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  const visible = basemap.features.filter((feature) => feature.point || isVisible(view, featureBounds(feature), 50));
  for (const feature of visible) {
    if (feature.kind === "boundary" && feature.polygons.length) {
      tracePolygons(ctx, view, feature.polygons);
      ctx.fillStyle = COLOURS.land;
      ctx.fill("evenodd");
    } else if (feature.kind === "park") {
      tracePolygons(ctx, view, feature.polygons);
      ctx.fillStyle = COLOURS.park;
      ctx.fill("evenodd");
      ctx.strokeStyle = COLOURS.parkEdge;
      ctx.lineWidth = 1;
      ctx.stroke();
    } else if (feature.kind === "water") {
      drawWater(ctx, view, feature);
    } else if (feature.kind === "road") {
      const widthPx = Math.max(1.5, Math.min(7, view.scale * 14));
      traceLines(ctx, view, feature.lines);
      ctx.strokeStyle = COLOURS.roadCasing;
      ctx.lineWidth = widthPx + 2;
      ctx.stroke();
      ctx.strokeStyle = COLOURS.road;
      ctx.lineWidth = widthPx;
      ctx.stroke();
    }
  }
  for (const feature of visible) {
    if (feature.kind !== "boundary") continue;
    ctx.beginPath();
    for (const polygon of feature.polygons) for (const ring of polygon) tracePath(ctx, view, ring, true);
    for (const line of feature.lines) tracePath(ctx, view, line, false);
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = COLOURS.boundary;
    ctx.lineWidth = 1.5;
    ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const feature of visible) {
    if (feature.kind === "label" && view.scale >= ARRONDISSEMENT_SCALE) {
      drawText(ctx, screenX(view, feature.point[0]), screenY(view, feature.point[1]), feature.name,
        `600 12px ${fontFamily}`, COLOURS.label, "center");
    } else if (feature.kind === "park" && view.scale >= NAME_SCALE && feature.name) {
      const box = featureBounds(feature);
      drawText(ctx, screenX(view, (box.minX + box.maxX) / 2), screenY(view, (box.minY + box.maxY) / 2),
        feature.name, `italic 11px ${fontFamily}`, COLOURS.parkText, "center");
    }
  }
}

function drawWater(ctx, view, feature) {
  ctx.fillStyle = COLOURS.water;
  ctx.strokeStyle = COLOURS.water;
  if (feature.polygons.length) {
    tracePolygons(ctx, view, feature.polygons);
    ctx.fill("evenodd");
  }
  if (feature.lines.length) {
    // A river drawn as its axis: its width to scale (width_m in ground metres), never thinner than 2 px.
    const widthM = feature.widthM || 50;
    ctx.lineWidth = Math.max(2, widthM * stretchAt(feature.lines[0][1]) * view.scale);
    traceLines(ctx, view, feature.lines);
    ctx.stroke();
  }
}

const boundsCache = new WeakMap();

function featureBounds(feature) {
  let bounds = boundsCache.get(feature);
  if (!bounds) {
    bounds = emptyBounds();
    for (const ring of [...feature.polygons.flat(), ...feature.lines]) extendBounds(bounds, ring);
    if (feature.point) extendBounds(bounds, feature.point);
    boundsCache.set(feature, bounds);
  }
  return bounds;
}

/** Text with a light halo, readable over any part of the map. */
export function drawText(ctx, x, y, text, font, colour, align = "left") {
  ctx.font = font;
  ctx.textAlign = align;
  ctx.textBaseline = "middle";
  ctx.lineJoin = "round";
  ctx.lineWidth = 3;
  ctx.strokeStyle = COLOURS.halo;
  ctx.strokeText(text, x, y);
  ctx.fillStyle = colour;
  ctx.fillText(text, x, y);
}

/**
 * A crew's work area: a thin blue outline, or a thick red one and a red tint when an agent of the crew is in
 * alert.
 * Returns the area's size on screen in px (its bounds' larger side), so the caller can skip its badge.
 */
export function drawArea(ctx, view, area, inAlert) {
  tracePolygons(ctx, view, area.polygons);
  ctx.fillStyle = inAlert ? COLOURS.criticalFill : COLOURS.areaFill;
  ctx.fill("evenodd");
  ctx.strokeStyle = inAlert ? COLOURS.critical : COLOURS.area;
  ctx.lineWidth = inAlert ? 3 : 1.25;
  ctx.stroke();
  const { minX, minY, maxX, maxY } = area.bounds;
  return Math.max(maxX - minX, maxY - minY) * view.scale;
}

/** Whether an area this large on screen gets a badge (areas in alert always do). */
export function wantsBadge(sizePx, inAlert) {
  return inAlert || sizePx >= BADGE_MIN_AREA_PX;
}

/** Whether names (parks, robot ids) are drawn at this zoom. */
export function showsNames(view) {
  return view.scale >= NAME_SCALE;
}

/** A crew's head-count badge: "8" (agents), or "! 1/8" on red (agents in alert / agents). */
export function drawBadge(ctx, x, y, text, inAlert, fontFamily) {
  ctx.font = `700 11px ${fontFamily}`;
  const width = ctx.measureText(text).width + 10;
  ctx.beginPath();
  ctx.roundRect(x - width / 2, y - 9, width, 18, 9);
  ctx.fillStyle = inAlert ? COLOURS.critical : COLOURS.halo;
  ctx.fill();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = inAlert ? COLOURS.halo : COLOURS.area;
  ctx.stroke();
  ctx.fillStyle = inAlert ? COLOURS.halo : COLOURS.text;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText(text, x, y + 0.5);
}

/** An agent's position during an alert: a red disc in a ring (critical), an amber diamond (other). */
export function drawAgentMarker(ctx, x, y, severity) {
  ctx.lineJoin = "round";
  if (severity === "critical") {
    ctx.beginPath();
    ctx.arc(x, y, 12, 0, 2 * Math.PI);
    ctx.lineWidth = 5;
    ctx.strokeStyle = COLOURS.halo;
    ctx.stroke();
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = COLOURS.critical;
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(x, y, 6.5, 0, 2 * Math.PI);
    ctx.fillStyle = COLOURS.critical;
    ctx.fill();
    ctx.lineWidth = 2;
    ctx.strokeStyle = COLOURS.halo;
    ctx.stroke();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(x, y - 9);
  ctx.lineTo(x + 9, y);
  ctx.lineTo(x, y + 9);
  ctx.lineTo(x - 9, y);
  ctx.closePath();
  ctx.fillStyle = COLOURS.warning;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = COLOURS.warningEdge;
  ctx.stroke();
}

/**
 * A robot: its shape says its safety state, its orientation its heading. `headingRad` is the map-frame yaw
 * (REP 103: counter-clockwise from east), or null when unknown (then no heading is drawn).
 */
export function drawRobotMarker(ctx, x, y, headingRad, safety) {
  const known = Number.isFinite(headingRad);
  ctx.save();
  ctx.translate(x, y);
  ctx.rotate(known ? -headingRad : 0); // the canvas's y axis points down: a counter-clockwise yaw turns left
  ctx.lineJoin = "round";
  ctx.beginPath();
  if (safety === "estop") {
    for (let i = 0; i < 8; i += 1) {
      const angle = Math.PI / 8 + (i * Math.PI) / 4;
      ctx.lineTo(10 * Math.cos(angle), 10 * Math.sin(angle));
    }
    ctx.closePath();
    fillAndEdge(ctx, COLOURS.critical, COLOURS.halo);
    ctx.fillStyle = COLOURS.halo;
    ctx.fillRect(-5.5, -1.75, 11, 3.5);
  } else if (safety === "protective_stop") {
    ctx.rect(-8, -8, 16, 16);
    fillAndEdge(ctx, COLOURS.warning, COLOURS.warningEdge);
    ctx.fillStyle = COLOURS.warningEdge;
    ctx.fillRect(-4, -4.5, 2.5, 9);
    ctx.fillRect(1.5, -4.5, 2.5, 9);
  } else if (known) {
    ctx.moveTo(11, 0);
    ctx.lineTo(-7, 8);
    ctx.lineTo(-4, 0);
    ctx.lineTo(-7, -8);
    ctx.closePath();
    fillAndEdge(ctx, COLOURS.ok, COLOURS.halo);
  } else {
    ctx.rect(-7, -7, 14, 14);
    fillAndEdge(ctx, COLOURS.ok, COLOURS.halo);
  }
  if (known && safety !== "running") {
    // The heading of a stopped robot: a tick outside its symbol.
    ctx.beginPath();
    ctx.moveTo(11, 0);
    ctx.lineTo(16, 0);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = safety === "estop" ? COLOURS.critical : COLOURS.warningEdge;
    ctx.stroke();
  }
  ctx.restore();
}

function fillAndEdge(ctx, fill, edge) {
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = edge;
  ctx.stroke();
}
