// @ts-check
/**
 * @module dashboard/ui/dom
 * Building elements from script: attributes and text only, never HTML strings (what the API says is
 * shown as text, so nothing it says is markup), and no style attributes (the CSP forbids them).
 */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Child | Child[] | Child[][]} Children children, in lists up to two deep
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attributes
 */

/**
 * An element with attributes (`on<event>` ones become listeners; false/null/undefined ones are left
 * out; true ones are set empty) and children (strings become text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (strings as text; nested lists flattened; empty ones skipped). */
export function append(/** @type {Element} */ el, /** @type {Children[]} */ children) {
  for (const child of children) {
    if (Array.isArray(child)) {
      append(el, child);
      continue;
    }
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces an element's children. */
export function replace(/** @type {Element} */ el, /** @type {Children[]} */ ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A table with a caption, a header row and rows of cells. */
export function table(
  /** @type {string} */ caption,
  /** @type {string[]} */ headers,
  /** @type {Children[][]} */ rows,
  /** @type {Attributes} */ attributes = {},
) {
  return h(
    'table',
    attributes,
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((name) => h('th', { scope: 'col' }, name)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((cells) =>
        h(
          'tr',
          {},
          cells.map((cell) => h('td', {}, cell)),
        ),
      ),
    ),
  );
}

/**
 * A message in `role="alert"` in `place` (replacing the one there), or none when `message` is null.
 * @param {Element} place
 * @param {string | null} message
 */
export function showAlert(place, message) {
  place.querySelector(':scope > [role="alert"]')?.remove();
  if (message !== null) place.append(h('p', { role: 'alert', class: 'alert' }, message));
}

/**
 * A link inside the app (the router intercepts its clicks).
 * @param {string} href
 * @param {...Child} children
 */
export function link(href, ...children) {
  return h('a', { href }, ...children);
}
