// DOM helpers shared by the panels: finding the page's elements by data-testid, building elements
// (text is never parsed as HTML), and keyed reconciliation of a list so that only changed records are
// redrawn. A virtualised list (the crew board at 10,000 agents) can later replace `reconcile` for its panel.

/** The page's element carrying `data-testid="testId"`. */
export function query(testId) {
  return document.querySelector(`[data-testid="${testId}"]`);
}

/** Builds an element: `el("li", {class: "x", dataset: {id: 1}}, "text", child)`. Text is never parsed as HTML. */
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  return fill(element, ...children);
}

/** Replaces `element`'s children; null and undefined children (optional parts) are left out. */
export function fill(element, ...children) {
  element.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

const rendered = new WeakMap(); // container -> Map(key -> {element, item})

/**
 * Makes `container`'s children match `items`, in order, one element per key. `draw(item, element?)`
 * builds an element or refills the given one; it runs only for new items, items whose record object
 * changed since the last pass, or all of them when `force` (a language change).
 */
export function reconcile(container, items, keyOf, draw, force) {
  const previous = rendered.get(container) ?? new Map();
  const next = new Map();
  let cursor = container.firstElementChild;
  for (const item of items) {
    const key = keyOf(item);
    let entry = previous.get(key);
    if (!entry) {
      entry = { element: draw(item), item };
    } else if (force || entry.item !== item) {
      draw(item, entry.element);
      entry.item = item;
    }
    next.set(key, entry);
    if (entry.element === cursor) cursor = cursor.nextElementSibling;
    else container.insertBefore(entry.element, cursor);
  }
  for (const [key, entry] of previous) if (!next.has(key)) entry.element.remove();
  rendered.set(container, next);
}

/** Sets `element`'s text only when it differs, so an unchanged value costs no style or layout. */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}
