/**
 * @module app/phases/data-plane
 * The traffic state, as the store kept it, and the data plane it publishes to.
 */
import { DataPlane } from '../../proxy/data-plane.js';
import { TrafficState } from '../../shifting/traffic.js';
import { restoreTraffic } from '../recovery.js';
import { Teardown } from '../teardown.js';
import type { Ground } from './ground.js';

/** What the data plane phase builds. */
export interface TrafficAndDataPlane {
  readonly traffic: TrafficState;
  readonly dataPlane: DataPlane;
  /** Where what the data plane's requests still need while it drains registers its close: it runs after. */
  readonly afterDrain: Teardown;
}

/** Restores the traffic each service had, then builds the data plane that routes by it (not listening yet). */
export function trafficAndDataPlane({ config, log, store, keepOrGoOn, teardown }: Ground): TrafficAndDataPlane {
  const traffic = new TrafficState(config);
  // What the last run left, before anything routes: after a restart traffic is never split by defaults.
  restoreTraffic(store, traffic, log.child({ component: 'store' }));
  // Every table published is the traffic state to come back to: its live versions and weights are kept.
  traffic.attach({
    publish: (table) =>
      keepOrGoOn('the traffic', () => {
        for (const s of table.services) store.put('service', s.name, { live: s.live, weights: s.weights });
      }),
  });
  const dataPlane = new DataPlane(traffic.table, log.child({ component: 'proxy' }));
  traffic.attach({ publish: (table) => dataPlane.apply(table) });
  // The versions run by command that answer its requests, the stats that count them and the control API
  // to watch from all outlast the drain.
  const afterDrain = new Teardown(log);
  teardown.add('what outlasts the drain', (ending) => afterDrain.close(ending));
  // A start that failed served nothing: there is nothing to wait for.
  teardown.add('data plane', (ending) => dataPlane.close(ending === 'stop' ? config.drainTimeout : 0));
  return { traffic, dataPlane, afterDrain };
}
