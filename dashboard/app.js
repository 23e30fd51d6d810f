// @ts-check
/**
 * @module dashboard/app
 * The dashboard's entry: the client-side router over the History API (links inside the app are
 * intercepted; back and forward work), the connection indicator, the token prompt, and the one store
 * every page reads.
 */
import { api, authHeaders, checkToken, needToken, setToken, setTokenPrompt } from './api.js';
import * as deploymentPage from './pages/deployment.js';
import * as historyPage from './pages/history.js';
import * as labPage from './pages/lab.js';
import * as servicesPage from './pages/services.js';
import { Store } from './state.js';
import { openStream } from './stream.js';
import { tokenDialog } from './ui/dialog.js';
import { h, replace } from './ui/dom.js';

/**
 * @typedef {object} PageContext
 * @property {Store} store
 * @property {(path: string) => void} navigate
 * @property {(title: string) => void} setTitle
 * @typedef {(main: HTMLElement, ctx: PageContext, ...params: string[]) => (() => void)} Page
 */

/** @type {[RegExp, Page, string][]} */
const ROUTES = [
  [/^\/$/, servicesPage.render, '/'],
  [/^\/deployments\/([^/]+)$/, deploymentPage.render, '/history'],
  [/^\/history$/, historyPage.render, '/history'],
  [/^\/lab$/, labPage.renderList, '/lab'],
  [/^\/lab\/([^/]+)$/, labPage.renderReport, '/lab'],
];

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const indicator = /** @type {HTMLElement} */ (document.querySelector('[data-testid="connection"]'));
const tokenButton = h('button', { type: 'button', class: 'token-button', hidden: true }, 'Enter the token');
indicator.after(tokenButton);

/** Resolves when the user asks for the token dialog again (after dismissing it). */
function askedAgain() {
  tokenButton.hidden = false;
  return new Promise((resolve) => {
    tokenButton.addEventListener(
      'click',
      () => {
        tokenButton.hidden = true;
        resolve(undefined);
      },
      { once: true },
    );
  });
}

// Until a token is accepted, every call waits; a dismissed dialog comes back only when asked for, so
// that the streams' retries do not open it again and again.
setTokenPrompt(async (message) => {
  for (;;) {
    try {
      setToken(await tokenDialog(message, checkToken));
      return;
    } catch {
      await askedAgain();
    }
  }
});

const store = new Store({ call: api, open: openStream, headers: authHeaders, onUnauthorized: needToken });

/** @type {() => void} */
let dispose = () => {};

/** Shows the page for the current location. */
function route(/** @type {boolean} */ focus) {
  dispose();
  const path = location.pathname.length > 1 ? location.pathname.replace(/\/+$/, '') : '/';
  const found = ROUTES.map(([pattern, page, nav]) => ({ match: pattern.exec(path), page, nav })).find((r) => r.match);
  for (const a of document.querySelectorAll('nav a')) {
    if (!(a instanceof HTMLAnchorElement)) continue;
    if (found && a.getAttribute('href') === found.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  /** @type {PageContext} */
  const ctx = { store, navigate, setTitle: (title) => (document.title = `${title} · switchyard`) };
  if (!found?.match) {
    ctx.setTitle('Not found');
    replace(main, h('h1', {}, 'Not found'), h('p', {}, `Nothing is at ${path}.`));
    dispose = () => {};
  } else {
    main.replaceChildren();
    const params = found.match.slice(1).map((p) => decodeURIComponent(p));
    dispose = found.page(main, ctx, ...params);
  }
  // After a navigation, the new page's heading takes focus, so a screen reader starts reading there.
  if (focus) (main.querySelector('h1') ?? main).focus();
}

/** Goes to a path inside the app. */
function navigate(/** @type {string} */ path) {
  if (path !== location.pathname) history.pushState(null, '', path);
  route(true);
}

document.addEventListener('click', (event) => {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  ) {
    return;
  }
  const a = event.target instanceof Element ? event.target.closest('a') : null;
  if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
  // A link to a place on this page (the skip link) is the browser's to follow.
  if (a.getAttribute('href')?.startsWith('#')) return;
  if (!ROUTES.some(([pattern]) => pattern.test(a.pathname))) return;
  event.preventDefault();
  navigate(a.pathname);
});
window.addEventListener('popstate', () => route(true));

let wasLive = false;

/** Shows whether the streams are connected, in words. */
function showConnection() {
  const live = store.live;
  wasLive ||= live;
  indicator.textContent = live
    ? 'Live'
    : wasLive
      ? 'Disconnected: reconnecting; the figures shown are the last received'
      : 'Disconnected: connecting…';
  indicator.classList.toggle('live', live);
  document.body.classList.toggle('stale', !live);
}
store.subscribe((topic) => {
  if (topic === 'connection') showConnection();
});

showConnection();
route(false);
store.start();
