/**
 * @module api/rest/deployments
 * What CodeDeploy lacks, beside its protocol: the deployments in one call, newest first, filtered by
 * application and group (`GET /v1/deployments`), one with its lifecycle and alarms (`GET
 * /v1/deployments/:id`; both from the records the store keeps, so after a restart too), stopping and
 * continuing one as StopDeployment and ContinueDeployment do (`POST /v1/deployments/:id/stop|continue`),
 * a deployment's timeline (`GET /v1/deployments/:id/events`),
 * its planned shift (`GET /v1/deployments/:id/schedule`, from the same pure schedule the engine walks),
 * skipping the rest of its shift schedule (`POST /v1/deployments/:id/promote`), and a custom deployment
 * configuration with what CreateDeploymentConfig cannot say: 0.01% weights, seconds, explicit steps
 * (`POST /v1/deployment-configs`).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

import { customDeploymentConfig } from '../../codedeploy/create-deployment-config.js';
import { SwitchyardError } from '../../core/errors.js';
import { uuid } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import type { DeploymentEngine } from '../../shifting/engine.js';
import type { Registry } from '../../shifting/registry.js';
import { stepsOf, totalDurationMs } from '../../shifting/schedule.js';
import { parseBody } from '../errors.js';
import { detailOf, selectDeployments, summaryOf } from './deployment-views.js';
import {
  type ContinueAnswer,
  ContinueBody,
  type CreateConfigAnswer,
  CreateConfigBody,
  type DeploymentAnswer,
  type DeploymentsAnswer,
  DeploymentsQuery,
  type PlannedStep,
  type PromoteAnswer,
  type ScheduleAnswer,
  type StopAnswer,
  StopBody,
  type TimelineAnswer,
} from './wire.js';

/** What {@link deploymentRoutes} reads and changes. */
export interface DeploymentRoutesOptions {
  readonly engine: Pick<DeploymentEngine, 'get' | 'list' | 'promote' | 'stop' | 'continue' | 'timeline'>;
  readonly registry: Pick<Registry, 'createConfig' | 'now'>;
  readonly log: Logger;
}

type ById = { Params: { id: string } };

/** `GET /v1/deployments`, `GET /v1/deployments/:id`, and `POST /v1/deployments/:id/stop|continue`. */
function listAndAct(app: FastifyInstance, engine: DeploymentRoutesOptions['engine'], log: Logger): void {
  /** The record of `id`, or DEPLOYMENT_NOT_FOUND. */
  const recordOf = (id: string) => {
    const record = engine.get(id);
    if (!record) throw new SwitchyardError('DEPLOYMENT_NOT_FOUND', `no deployment ${id}`);
    return record;
  };
  app.get<{ Reply: DeploymentsAnswer }>('/v1/deployments', async (req) => {
    const query = parseBody(DeploymentsQuery, req.query, 'query string');
    return { deployments: selectDeployments(engine.list(), query).map(summaryOf) };
  });

  app.get<ById & { Reply: DeploymentAnswer }>('/v1/deployments/:id', async (req) => detailOf(recordOf(req.params.id)));

  app.post<ById & { Reply: StopAnswer }>('/v1/deployments/:id/stop', async (req) => {
    const body = parseBody(StopBody, req.body);
    // The engine's refusals (not found, already completed) are StopDeployment's.
    const stopped = engine.stop(req.params.id, body.rollback);
    log.info({ deploymentId: req.params.id, rollback: body.rollback }, 'deployment stopped by request');
    return { deploymentId: req.params.id, ...stopped };
  });

  app.post<ById & { Reply: ContinueAnswer }>('/v1/deployments/:id/continue', async (req) => {
    const body = parseBody(ContinueBody, req.body);
    const id = req.params.id;
    // Without a wait type, the wait the deployment is in: a manual shift pause is ended as a ready wait is.
    const waitType =
      body.waitType ?? (engine.get(id)?.waitingFor === 'TERMINATION_WAIT' ? 'TERMINATION_WAIT' : 'READY_WAIT');
    engine.continue(id, waitType);
    return { deploymentId: id, status: recordOf(id).status };
  });
}

/** Serves `/v1/deployments`, `/v1/deployments/:id…` and `POST /v1/deployment-configs`. */
export const deploymentRoutes: FastifyPluginAsync<DeploymentRoutesOptions> = async (app, { engine, registry, log }) => {
  listAndAct(app, engine, log);

  // Throws DEPLOYMENT_NOT_FOUND for an unknown id.
  app.get<ById & { Reply: TimelineAnswer }>('/v1/deployments/:id/events', async (req) => ({
    deploymentId: req.params.id,
    events: engine.timeline(req.params.id),
  }));

  app.get<ById & { Reply: ScheduleAnswer }>('/v1/deployments/:id/schedule', async (req) => {
    // timeline() throws DEPLOYMENT_NOT_FOUND for an unknown id; get() answers undefined.
    engine.timeline(req.params.id);
    const record = engine.get(req.params.id)!;
    const shift = record.plan.config.trafficRouting ?? { kind: 'allAtOnce' as const };
    const steps: PlannedStep[] = [];
    let at: number | null = 0;
    for (const step of stepsOf(shift)) {
      steps.push({ atMs: at, percent: step.weight / 100, holdMs: step.holdMs });
      at = at === null || step.holdMs === null ? null : at + step.holdMs;
    }
    const allow = record.lifecycleEvents.find((e) => e.name === 'AllowTraffic')?.startTime;
    return {
      deploymentId: record.id,
      timeScale: record.plan.timeScale,
      allowTrafficStartedAt: allow ?? null,
      steps,
      totalMs: totalDurationMs(shift),
    };
  });

  app.post<ById & { Reply: PromoteAnswer }>('/v1/deployments/:id/promote', async (req) => {
    engine.promote(req.params.id);
    // promote() throws for a deployment that is not running, so the record is there.
    const record = engine.get(req.params.id)!;
    return { deploymentId: record.id, status: record.status };
  });

  app.post<{ Reply: { 201: CreateConfigAnswer } }>('/v1/deployment-configs', async (req, reply) => {
    const body = parseBody(CreateConfigBody, req.body);
    const config = registry.createConfig(
      customDeploymentConfig(body.name, body.computePlatform, body.trafficRouting, {
        id: uuid(),
        createTime: registry.now(),
      }),
    );
    log.info({ config: config.name, trafficRouting: config.trafficRouting }, 'deployment config created');
    return reply.status(201).send({
      deploymentConfigName: config.name,
      deploymentConfigId: config.id,
      computePlatform: config.computePlatform,
      trafficRouting: config.trafficRouting,
    });
  });
};
