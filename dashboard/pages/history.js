// @ts-check
/**
 * @module dashboard/pages/history
 * `/history`: the deployments of each deployment group, newest first, with status, duration, who
 * created each (a user, or a rollback) and the rollback links both ways. Read once (up to 1000), then
 * kept current by the event stream like every page.
 */
import { api } from '../api.js';
import { formatTime } from '../format.js';
import { newestFirst } from '../state.js';
import { h, replace, showAlert, table } from '../ui/dom.js';
import { deploymentLink, durationText, rollbackLinks } from './deployment-parts.js';

/**
 * @typedef {import('../types.js').DeploymentSummary} DeploymentSummary
 */

/** How many deployments the page reads: the API's most. */
export const HISTORY_LIMIT = 1000;

/**
 * The deployments grouped by application and group, groups in order of their newest deployment.
 * @param {Iterable<DeploymentSummary>} deployments
 * @returns {{ application: string, group: string, deployments: DeploymentSummary[] }[]}
 */
export function byGroup(deployments) {
  /** @type {Map<string, { application: string, group: string, deployments: DeploymentSummary[] }>} */
  const groups = new Map();
  for (const d of newestFirst(deployments)) {
    const key = JSON.stringify([d.applicationName, d.deploymentGroupName]);
    let group = groups.get(key);
    if (!group) {
      group = { application: d.applicationName, group: d.deploymentGroupName, deployments: [] };
      groups.set(key, group);
    }
    group.deployments.push(d);
  }
  return [...groups.values()];
}

/**
 * Renders the history page.
 * @type {import('../app.js').Page}
 */
export function render(main, ctx) {
  ctx.setTitle('History');
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading deployments…'));
  main.append(h('h1', { tabindex: -1 }, 'History'), body);
  let loaded = false;

  const draw = () => {
    const groups = byGroup(ctx.store.state.deployments.values());
    if (groups.length === 0) {
      if (loaded) replace(body, h('p', {}, 'No deployments yet.'));
      return;
    }
    const now = Date.now();
    replace(
      body,
      groups.map((g) =>
        h(
          'div',
          { class: 'table-wrap' },
          table(
            `${g.application} / ${g.group}`,
            ['Deployment', 'Status', 'Versions', 'Created', 'Duration', 'Creator', 'Rollback'],
            g.deployments.map((d) => [
              deploymentLink(d.deploymentId),
              d.status,
              `${d.currentVersion} → ${d.targetVersion}`,
              formatTime(d.wallTimes.create),
              durationText(d, now),
              d.creator === 'user' ? 'user' : 'rollback',
              rollbackLinks(d).flatMap((l, i) => (i === 0 ? [l] : ['; ', l])),
            ]),
          ),
        ),
      ),
    );
  };

  void api(`/v1/deployments?limit=${HISTORY_LIMIT}`)
    .then((answer) => {
      loaded = true;
      ctx.store.addDeployments(/** @type {{ deployments: DeploymentSummary[] }} */ (answer).deployments);
    })
    .catch((/** @type {unknown} */ err) => {
      loaded = true;
      showAlert(body, err instanceof Error ? err.message : String(err));
    });
  draw();
  return ctx.store.subscribe((topic) => {
    if (topic === 'deployments') draw();
  });
}
