// A virtualised list of rows of known heights. The viewport scrolls over a content box as tall as every
// row together, and only the rows in view, plus an overscan margin and any pinned row (the one holding
// keyboard focus), exist in the DOM, placed absolutely. Heights are given, not measured, so the position
// of row 5,000 is known without laying out the 4,999 before it.
//
// Rows are keyed: a row that stays in view keeps its element, and the caller's `drawRow` decides what
// inside it to redraw. Scroll position and viewport height are cached from events, so a render reads no
// layout and costs only the rows it draws.

export class VirtualRows {
  /**
   * `viewport` is the scrolling element (overflow: auto, no padding). `drawRow(row, index, element)`
   * builds the element of a row (`element` undefined) or refreshes the one given, and returns it.
   */
  constructor(viewport, drawRow, { overscanPx = 480 } = {}) {
    this.viewport = viewport;
    this.drawRow = drawRow;
    this.overscanPx = overscanPx;
    this.content = document.createElement("div");
    this.content.className = "vrows";
    this.content.setAttribute("role", "presentation");
    viewport.replaceChildren(this.content);
    this.rows = [];
    this.tops = new Float64Array(1); // tops[i] = offset of row i; tops[rows.length] = total height
    this.mounted = new Map(); // row key -> {element, top, height}
    this.scrollTop = viewport.scrollTop;
    this.height = 0;
    viewport.addEventListener("scroll", () => {
      this.scrollTop = viewport.scrollTop;
    }, { passive: true });
  }

  /** Replaces the rows: objects with a stable `key` and a `height` in px. Mounted rows are kept by key. */
  setRows(rows) {
    this.rows = rows;
    const tops = new Float64Array(rows.length + 1);
    for (let index = 0; index < rows.length; index += 1) tops[index + 1] = tops[index] + rows[index].height;
    this.tops = tops;
    const total = `${tops[rows.length]}px`;
    if (this.content.style.height !== total) this.content.style.height = total;
  }

  /** Tells the list how tall its viewport is (from a ResizeObserver, so no layout is read). */
  setViewportHeight(heightPx) {
    this.height = heightPx;
  }

  top(index) {
    return this.tops[index];
  }

  /** The row at `offsetPx` from the top of the list, clamped to the rows there are. */
  indexAt(offsetPx) {
    let low = 0;
    let high = this.rows.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.tops[middle] <= offsetPx) low = middle;
      else high = middle - 1;
    }
    return Math.max(0, low);
  }

  /** How many px of rows are in view: the viewport's height, or before it is known, a guess from layout. */
  viewHeight() {
    return this.height || this.viewport.clientHeight;
  }

  /**
   * Scrolls so that rows `first`..`last` are in view, the least distance needed ("nearest"), or with
   * `first` centred ("center"). Rows taller than the view show their top.
   */
  scrollToRows(first, last = first, align = "nearest") {
    if (!this.rows.length) return;
    const top = this.tops[first];
    const bottom = this.tops[last + 1];
    const view = this.viewHeight();
    let target = this.scrollTop;
    if (align === "center") target = top - (view - (this.tops[first + 1] - top)) / 2;
    else if (top < target) target = top;
    else if (bottom > target + view) target = Math.min(top, bottom - view);
    target = Math.max(0, Math.min(Math.round(target), this.tops[this.rows.length] - view));
    if (target !== this.scrollTop) {
      this.viewport.scrollTop = target;
      this.scrollTop = target;
    }
  }

  /** Mounts the rows in view (± overscan) and the `pinned` row indices; unmounts every other row. */
  render(pinned = []) {
    const indices = [];
    if (this.rows.length) {
      const first = this.indexAt(Math.max(0, this.scrollTop - this.overscanPx));
      const last = this.indexAt(this.scrollTop + this.viewHeight() + this.overscanPx);
      for (let index = first; index <= last; index += 1) indices.push(index);
      for (const index of pinned) {
        if (index >= 0 && index < this.rows.length && (index < first || index > last)) indices.push(index);
      }
      indices.sort((a, b) => a - b);
    }
    const next = new Map();
    let cursor = this.content.firstElementChild;
    for (const index of indices) {
      const row = this.rows[index];
      const entry = this.mounted.get(row.key) ?? { element: null, top: -1, height: -1 };
      entry.element = this.drawRow(row, index, entry.element ?? undefined);
      place(entry, this.tops[index], row.height);
      next.set(row.key, entry);
      // DOM order follows row order, so a screen reader reads the rows as they are shown.
      if (entry.element === cursor) cursor = cursor.nextElementSibling;
      else this.content.insertBefore(entry.element, cursor);
    }
    for (const [key, entry] of this.mounted) if (!next.has(key)) entry.element.remove();
    this.mounted = next;
    return indices;
  }
}

function place(entry, top, height) {
  if (entry.top !== top) {
    entry.element.style.transform = `translateY(${top}px)`;
    entry.top = top;
  }
  if (entry.height !== height) {
    entry.element.style.height = `${height}px`;
    entry.height = height;
  }
}

/**
 * Where a key moves focus in rows of items (the ARIA grid pattern): arrows to the neighbour (left and
 * right wrap to the previous and next row), Home/End to the row's ends, Ctrl+Home/End to the grid's,
 * Page Up/Down by `pageRows` rows. Rows without `items` (headers) are skipped. Returns {row, column},
 * null at an edge, or undefined for a key that does not move focus.
 */
export function gridMove(rows, row, column, { key, ctrlKey }, pageRows) {
  const step = (from, direction) => {
    for (let index = from + direction; index >= 0 && index < rows.length; index += direction) {
      if (rows[index].items?.length) return index;
    }
    return -1;
  };
  const at = (index, wanted) => (index < 0 ? null : { row: index, column: Math.min(wanted, rows[index].items.length - 1) });
  const last = rows[row].items.length - 1;
  switch (key) {
    case "ArrowRight": return column < last ? { row, column: column + 1 } : at(step(row, 1), 0);
    case "ArrowLeft": return column > 0 ? { row, column: column - 1 } : at(step(row, -1), Infinity);
    case "ArrowDown": return at(step(row, 1), column);
    case "ArrowUp": return at(step(row, -1), column);
    case "Home": return ctrlKey ? at(step(-1, 1), 0) : { row, column: 0 };
    case "End": return ctrlKey ? at(step(rows.length, -1), Infinity) : { row, column: last };
    case "PageDown":
    case "PageUp": {
      let index = row;
      for (let moved = 0; moved < pageRows; moved += 1) {
        const next = step(index, key === "PageDown" ? 1 : -1);
        if (next < 0) break;
        index = next;
      }
      return index === row ? null : at(index, column);
    }
    default: return undefined;
  }
}
