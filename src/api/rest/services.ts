/**
 * @module api/rest/services
 * The services' traffic: `GET /v1/services`, `GET /v1/services/:name` (each with the health of its
 * targets when health is known, and the faults injected into its versions), `PUT /v1/services/:name/weight`
 * to set a split by hand outside a deployment, and `PUT`/`DELETE /v1/services/:name/faults/:version` to
 * inject faults into a version's requests or stop (during a deployment too: that is what they rehearse).
 * A fault with a `schedule` follows the traffic shift of the service's deployment under way or next; a
 * service's `faults.<version>` shows the fault as set and, as `active`, its abort and delay percents in
 * force now.
 */
import type { FastifyPluginAsync } from 'fastify';

import { FaultConfig } from '../../config/faults.js';
import { SwitchyardError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { DeploymentEngine } from '../../shifting/engine.js';
import type { ServiceView, TrafficPort } from '../../shifting/ports.js';
import { parseBody } from '../errors.js';
import { type ServiceAnswer, type ServiceHealth, type ServicesAnswer, SetWeightBody } from './wire.js';

/** The health of each service's targets, by version label. */
export interface HealthSource {
  viewOf(service: string): ServiceHealth;
}

/** What {@link serviceRoutes} reads and changes. */
export interface ServiceRoutesOptions {
  readonly traffic: TrafficPort;
  /** Target health, shown with each service when given. */
  readonly health?: HealthSource | undefined;
  /** The deployments, when there are any: a split is not set by hand under one that is shifting. */
  readonly deployments?: Pick<DeploymentEngine, 'activeOn'> | undefined;
  readonly log: Logger;
}

type ByName = { Params: { name: string } };
type ByVersion = { Params: { name: string; version: string } };

/** Serves `/v1/services` and `/v1/services/:name…`. */
export const serviceRoutes: FastifyPluginAsync<ServiceRoutesOptions> = async (
  app,
  { traffic, health, deployments, log },
) => {
  const withHealth = (view: ServiceView): ServiceAnswer =>
    health ? { ...view, health: health.viewOf(view.name) } : view;

  app.get<{ Reply: ServicesAnswer }>('/v1/services', async () => ({ services: traffic.services().map(withHealth) }));

  app.get<ByName & { Reply: ServiceAnswer }>('/v1/services/:name', async (req) =>
    withHealth(traffic.service(req.params.name)),
  );

  app.put<ByName & { Reply: ServiceAnswer }>('/v1/services/:name/weight', async (req) => {
    const body = parseBody(SetWeightBody, req.body);
    const name = req.params.name;
    const active = deployments?.activeOn(name);
    if (active) {
      // A hand-set split would be overwritten by the deployment's next step, or silently undo it.
      throw new SwitchyardError(
        'DEPLOYMENT_ACTIVE',
        `deployment ${active.id} is shifting ${name}'s traffic; stop it, or promote it, before setting weights by hand`,
      );
    }
    if ('version' in body && body.percent !== 100 && body.version === traffic.service(name).live) {
      // "The rest on live" has no rest when the named version is live; guessing would move traffic the
      // caller did not ask to move.
      throw new SwitchyardError(
        'WEIGHTS_INVALID',
        `version "${body.version}" is the live version: name the version to shift traffic to, or give all weights as {"weights": {...}}`,
      );
    }
    const view =
      'weights' in body
        ? traffic.setWeights(name, body.weights, body.listener)
        : traffic.setVersionPercent(name, body.version, body.percent, body.listener);
    // Answered once every data plane (each worker) routes by the new weights, not before.
    await traffic.applied();
    log.info({ service: name, weights: view.weights }, 'weights set');
    return view;
  });

  app.put<ByVersion & { Reply: ServiceAnswer }>('/v1/services/:name/faults/:version', async (req) => {
    const fault = parseBody(FaultConfig, req.body);
    const { name, version } = req.params;
    const view = traffic.setFault(name, version, fault);
    await traffic.applied();
    log.info({ service: name, version, fault: view.faults?.[version] }, 'fault injected');
    return view;
  });

  app.delete<ByVersion & { Reply: ServiceAnswer }>('/v1/services/:name/faults/:version', async (req) => {
    const { name, version } = req.params;
    const view = traffic.setFault(name, version, undefined);
    await traffic.applied();
    log.info({ service: name, version }, 'fault cleared');
    return view;
  });
};
