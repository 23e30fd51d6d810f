// @ts-check
/**
 * @module dashboard/pages/services
 * `/`: each service with its versions, their targets and health in words, the live version, the
 * production split as a bar and as text (moving with the event stream), the deployment under way, the
 * latest second's traffic per version, and "Set weight".
 */
import { api } from '../api.js';
import { formatMs, formatNumber, formatPercent, formatRatio, splitParts, versionName } from '../format.js';
import { activeOn, latestOn, rolesOn } from '../state.js';
import { setWeightDialog } from '../ui/dialog.js';
import { h, link, replace, showAlert, table } from '../ui/dom.js';
import { splitElements, updateSplit } from '../ui/split.js';

/**
 * @typedef {import('../types.js').ServiceAnswer} ServiceAnswer
 * @typedef {import('../state.js').Store} Store
 */

/** A target's health in words: "healthy", "unhealthy (connection refused)". */
function healthText(/** @type {ServiceAnswer} */ service, /** @type {string} */ label, /** @type {string} */ target) {
  const known = service.health?.[label]?.find((t) => t.target === target);
  if (!known) return 'health not checked';
  return known.reason ? `${known.state} (${known.reason})` : known.state;
}

/**
 * One service's section, updated in place.
 * @param {Store} store
 * @param {string} name
 * @param {number} index
 */
function serviceSection(store, name, index) {
  const titleId = `service-${index}`;
  const split = splitElements(name);
  const deployment = h('div', { class: 'deployment-line', 'aria-live': 'polite' });
  const versions = h('div', { class: 'table-wrap' });
  const controls = h('div', { class: 'controls' });
  const section = h(
    'section',
    { class: 'service card', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, name),
    h('div', { class: 'split' }, split.text, split.bar),
    deployment,
    versions,
    controls,
  );
  const setWeight = h('button', { type: 'button' }, 'Set weight');
  controls.append(setWeight);
  setWeight.addEventListener('click', () => void askWeight(store, name, controls));

  /** Shows the service as the store has it now. */
  const update = () => {
    const service = store.state.services.get(name);
    if (!service) return;
    const active = activeOn(store.state, name);
    updateSplit(split, service, rolesOn(store.state, name));
    const parts = splitParts(service, rolesOn(store.state, name));
    const latest = active ?? latestOn(store.state, name);
    if (latest) {
      const target = versionName(latest.targetVersion, parts);
      replace(
        deployment,
        h(
          'p',
          {},
          active ? 'Deployment under way: ' : 'Last deployment: ',
          link(`/deployments/${encodeURIComponent(latest.deploymentId)}`, latest.deploymentId),
          `${latest.creator === 'user' ? '' : ' (a rollback)'} ${latest.status}, ${formatPercent(latest.trafficWeight)} of production traffic on ${target}`,
        ),
      );
    } else replace(deployment, h('p', { class: 'muted' }, 'No deployment yet.'));
    updateVersions();
  };

  /** The versions table, with the latest second's traffic. */
  const updateVersions = () => {
    const service = store.state.services.get(name);
    if (!service) return;
    const parts = splitParts(service, rolesOn(store.state, name));
    const figures = store.state.stats.at(-1)?.services.find((s) => s.service === name)?.versions ?? [];
    const rows = parts.map((part) => {
      const version = service.versions.find((v) => v.label === part.label);
      const now = figures.find((f) => f.version === part.label);
      return [
        versionName(part.label, parts),
        part.label === service.live ? 'live' : 'not live',
        formatPercent(part.percent),
        formatPercent(service.weights.test?.[part.label] ?? 0),
        h(
          'ul',
          { class: 'targets' },
          (version?.targets ?? []).map((t) => h('li', {}, `${t}: ${healthText(service, part.label, t)}`)),
          version && version.targets.length === 0 ? h('li', {}, 'no targets') : null,
        ),
        now ? `${formatNumber(now.rps)} req/s, ${formatRatio(now.errorRate)} errors, p99 ${formatMs(now.p99Ms)}` : '–',
      ];
    });
    replace(
      versions,
      table(
        `Versions of ${name}`,
        ['Version', 'Live', 'Production', 'Test', 'Targets and health', 'Last second'],
        rows,
      ),
    );
  };

  return { section, update, updateVersions };
}

/**
 * Asks for a version and percent, and sets it; a refusal shows the API's message.
 * @param {Store} store
 * @param {string} name
 * @param {HTMLElement} place where a refusal is shown
 */
async function askWeight(store, name, place) {
  const service = store.state.services.get(name);
  if (!service) return;
  const parts = splitParts(service, rolesOn(store.state, name));
  const choice = await setWeightDialog(
    name,
    parts.map((p) => ({ label: p.label, name: versionName(p.label, parts) })),
    parts.find((p) => p.colour === 'green')?.label ?? service.live,
  );
  if (!choice) return;
  try {
    /** @type {ServiceAnswer} */
    const view = await api(`/v1/services/${encodeURIComponent(name)}/weight`, { method: 'PUT', body: choice });
    showAlert(place, null);
    // The answer has no health (the event stream's copy will); keep the last known.
    store.state.services.set(name, { ...view, health: view.health ?? store.state.services.get(name)?.health });
    store.emit('services');
  } catch (err) {
    showAlert(place, err instanceof Error ? err.message : String(err));
  }
}

/**
 * Renders the services page.
 * @type {import('../app.js').Page}
 */
export function render(main, ctx) {
  ctx.setTitle('Services');
  const list = h('div', { class: 'services' }, h('p', { class: 'muted' }, 'Loading services…'));
  main.append(h('h1', { tabindex: -1 }, 'Services'), list);
  /** @type {Map<string, ReturnType<typeof serviceSection>>} */
  const sections = new Map();

  const build = () => {
    const names = [...ctx.store.state.services.keys()];
    if (names.length === 0) {
      if (ctx.store.live) replace(list, h('p', {}, 'No services are configured.'));
      return;
    }
    if (names.join('\n') !== [...sections.keys()].join('\n')) {
      sections.clear();
      names.forEach((name, i) => sections.set(name, serviceSection(ctx.store, name, i)));
      replace(
        list,
        [...sections.values()].map((s) => s.section),
      );
    }
    for (const s of sections.values()) s.update();
  };
  build();
  return ctx.store.subscribe((topic) => {
    if (topic === 'services' || topic === 'deployments' || topic === 'connection') build();
    else if (topic === 'stats') for (const s of sections.values()) s.updateVersions();
  });
}
