// @ts-check
/**
 * @module dashboard/ui/split
 * A service's production split as a bar and as text. Updated in place, so the bar's segments glide to
 * their new widths (CSS transitions) and screen readers hear the new text (aria-live) as it changes.
 */
import { splitParts, splitText } from '../format.js';
import { h } from './dom.js';

/**
 * @typedef {import('../types.js').ServiceAnswer} ServiceAnswer
 * @typedef {import('../types.js').DeploymentSummary} DeploymentSummary
 */

/** The split's elements for one service: the text and the bar, empty until {@link updateSplit}. */
export function splitElements(/** @type {string} */ service) {
  const text = h('p', { class: 'split-text', 'data-testid': `split-text-${service}`, 'aria-live': 'polite' });
  const bar = h('div', { class: 'split-bar', 'data-testid': `split-bar-${service}`, role: 'img' });
  return { text, bar };
}

/**
 * Shows a service's split in its elements.
 * @param {{ text: HTMLElement, bar: HTMLElement }} elements
 * @param {ServiceAnswer} service
 * @param {Pick<DeploymentSummary, 'currentVersion' | 'targetVersion'> | undefined} roles the versions that are blue and green (state.rolesOn)
 */
export function updateSplit(elements, service, roles) {
  const parts = splitParts(service, roles);
  const words = splitText(parts);
  if (elements.text.textContent !== words) elements.text.textContent = words;
  elements.bar.setAttribute('aria-label', words);
  const bar = elements.bar;
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of Array.from(bar.children)) {
    if (child instanceof HTMLElement && child.dataset.version !== undefined) existing.set(child.dataset.version, child);
  }
  const wanted = new Set(parts.map((p) => p.label));
  for (const [label, child] of existing) if (!wanted.has(label)) child.remove();
  parts.forEach((part, index) => {
    let segment = existing.get(part.label);
    if (!segment) {
      segment = h('div', { class: 'segment', 'data-version': part.label }, h('span', { class: 'segment-label' }));
    }
    segment.className = `segment ${part.colour ?? 'other'}`;
    segment.style.width = `${part.percent}%`;
    const label = segment.firstElementChild;
    // The label inside the segment repeats the text for sighted readers; hidden where it would not fit.
    if (label) label.textContent = part.percent >= 12 ? `${part.label}${part.colour ? ` (${part.colour})` : ''}` : '';
    // Moved only when out of place: a node moved is a node re-inserted, and its width would jump.
    if (bar.children[index] !== segment) bar.insertBefore(segment, bar.children[index] ?? null);
  });
}
