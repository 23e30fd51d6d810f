/**
 * @module api/server
 * The control API on the control port (fastify): health, Prometheus metrics, the services' traffic, and
 * CodeDeploy's own JSON protocol at `POST /`.
 * It never listens by itself; the composition root decides where.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { z } from 'zod';
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { LISTENERS } from '../core/route-table.js';
import type { TrafficPort } from '../shifting/ports.js';
import { uuid } from '../core/ids.js';
import { CustomConfigSpec, customDeploymentConfig } from '../codedeploy/deployment-config.js';
import { type CodeDeployDeps, registerCodeDeploy } from './codedeploy/protocol.js';
import { AlarmConfig, type AlarmsConfig } from '../config/alarms.js';
import type { EventStream } from './event-stream.js';
import { type NotificationSource, registerNotifications } from './notifications.js';
import { BODY_LIMIT_BYTES, handleApiError, parseBody } from './errors.js';
import type { ControlAuth } from '../config/schema.js';
import { type Clock, systemClock } from '../core/clock.js';
import { controlGuard } from './auth/guard.js';

/** The Prometheus text of every metric. */
export interface MetricsSource {
  render(): Promise<{ contentType: string; body: string }>;
}

/** The health of each service's targets, by version label. */
export interface HealthSource {
  viewOf(service: string): object;
}

/** The alarms deployment groups may name (CloudWatch's part), changeable while running. */
export interface AlarmRegistry {
  all(): AlarmsConfig;
  /** Throws ALARM_NOT_FOUND. */
  get(name: string): AlarmConfig;
  put(name: string, alarm: AlarmConfig): void;
  delete(name: string): void;
}

/** What the control API needs. */
export interface ApiDeps {
  readonly log: Logger;
  readonly traffic: TrafficPort;
  readonly metrics: MetricsSource;
  /** When given, `GET /v1/events` streams deployment events. */
  readonly events?: EventStream;
  /** Target health, shown with each service when given. */
  readonly health?: HealthSource;
  /** The alarms groups may name; when given, `/v1/alarms` lists, creates and deletes them. */
  readonly alarms?: AlarmRegistry;
  /** When given, the CodeDeploy protocol is served at `POST /`. */
  readonly codedeploy?: CodeDeployDeps;
  /** When given, `GET /v1/notifications` lists the trigger notifications and their delivery. */
  readonly notifications?: NotificationSource;
  /** `control.auth`: when given, calls need the bearer token or (CodeDeploy) a SigV4 signature. */
  readonly auth?: ControlAuth;
  /** What SigV4's clock-skew check compares X-Amz-Date with; the system clock when absent. */
  readonly clock?: Clock;
}

const Listener = z.enum(LISTENERS).default('production');

/** Body of `PUT /v1/services/:name/weight`: all weights, or one version's share with the rest on live. */
/** Body of `POST /v1/deployment-configs`: a custom configuration in switchyard's finer form. */
export const CreateConfigBody = CustomConfigSpec.extend({ name: z.string() });

export const SetWeightBody = z.union([
  z.strictObject({ weights: z.record(z.string(), z.number()), listener: Listener }),
  z.strictObject({ version: z.string(), percent: z.number().min(0).max(100), listener: Listener }),
]);

/** Builds the control API. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const apiLogger: FastifyBaseLogger = deps.log.child({ component: 'api' });
  const app = Fastify({
    // Typed as fastify's logger so the instance keeps fastify's default generics.
    loggerInstance: apiLogger,
    // Requests to the control API are not logged one by one; what they change is.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
  });
  app.setErrorHandler(handleApiError);
  const guard = deps.auth && controlGuard(deps.auth, deps.clock ?? systemClock);
  // On the root, so it also covers the not-found handler: unknown routes are not told apart without a token.
  if (guard) app.addHook('onRequest', guard.requireBearer);
  app.setNotFoundHandler((req, reply) => {
    void reply
      .status(404)
      .send(new SwitchyardError('NO_ROUTE', `no ${req.method} ${req.url} on the control API`).toJSON());
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_req, reply) => {
    const { contentType, body } = await deps.metrics.render();
    return reply.type(contentType).send(body);
  });

  // Each service with the health of its targets, by version label.
  const withHealth = (view: ReturnType<TrafficPort['service']>) =>
    deps.health ? { ...view, health: deps.health.viewOf(view.name) } : view;

  app.get('/v1/services', async () => ({ services: deps.traffic.services().map(withHealth) }));

  app.get<{ Params: { name: string } }>('/v1/services/:name', async (req) => withHealth(deps.traffic.service(req.params.name)));

  app.put<{ Params: { name: string } }>('/v1/services/:name/weight', async (req) => {
    const body = parseBody(SetWeightBody, req.body);
    const name = req.params.name;
    const active = deps.codedeploy?.engine.activeOn(name);
    if (active) {
      // A hand-set split would be overwritten by the deployment's next step, or silently undo it.
      throw new SwitchyardError(
        'DEPLOYMENT_ACTIVE',
        `deployment ${active.id} is shifting ${name}'s traffic; stop it, or promote it, before setting weights by hand`,
      );
    }
    if ('version' in body && body.percent !== 100 && body.version === deps.traffic.service(name).live) {
      // "The rest on live" has no rest when the named version is live; guessing would move traffic the
      // caller did not ask to move.
      throw new SwitchyardError(
        'WEIGHTS_INVALID',
        `version "${body.version}" is the live version: name the version to shift traffic to, or give all weights as {"weights": {...}}`,
      );
    }
    const view =
      'weights' in body
        ? deps.traffic.setWeights(name, body.weights, body.listener)
        : deps.traffic.setVersionPercent(name, body.version, body.percent, body.listener);
    deps.log.info({ service: name, weights: view.weights }, 'weights set');
    return view;
  });

  deps.events?.register(app);
  if (deps.notifications) registerNotifications(app, deps.notifications);

  const alarms = deps.alarms;
  if (alarms) {
    // CloudWatch's part: the alarms a group's alarmConfiguration may name, changeable while running.
    app.get('/v1/alarms', async () => ({ alarms: alarms.all() }));
    app.get<{ Params: { name: string } }>('/v1/alarms/:name', async (req) => alarms.get(req.params.name));
    app.put<{ Params: { name: string } }>('/v1/alarms/:name', async (req) => {
      const alarm = parseBody(AlarmConfig, req.body);
      alarms.put(req.params.name, alarm);
      deps.log.info({ alarm: req.params.name, rule: alarm }, 'alarm set');
      return alarm;
    });
    app.delete<{ Params: { name: string } }>('/v1/alarms/:name', async (req, reply) => {
      alarms.delete(req.params.name);
      deps.log.info({ alarm: req.params.name }, 'alarm deleted');
      return reply.status(204).send();
    });
  }

  if (deps.codedeploy) {
    const { engine } = deps.codedeploy;
    // What CodeDeploy lacks: a deployment's timeline, and skipping the rest of its shift schedule.
    app.get<{ Params: { id: string } }>('/v1/deployments/:id/events', async (req) => ({
      deploymentId: req.params.id,
      events: engine.timeline(req.params.id),
    }));
    app.post<{ Params: { id: string } }>('/v1/deployments/:id/promote', async (req) => {
      engine.promote(req.params.id);
      const record = engine.get(req.params.id)!;
      return { deploymentId: record.id, status: record.status };
    });
    // A custom configuration with what CreateDeploymentConfig cannot say: 0.01% weights, seconds, steps.
    app.post('/v1/deployment-configs', async (req, reply) => {
      const { registry } = deps.codedeploy!;
      const body = parseBody(CreateConfigBody, req.body);
      const config = registry.createConfig(
        customDeploymentConfig(body.name, body.computePlatform, body.trafficRouting, { id: uuid(), createTime: registry.now() }),
      );
      deps.log.info({ config: config.name, trafficRouting: config.trafficRouting }, 'deployment config created');
      return reply.status(201).send({
        deploymentConfigName: config.name,
        deploymentConfigId: config.id,
        computePlatform: config.computePlatform,
        trafficRouting: config.trafficRouting,
      });
    });
    registerCodeDeploy(app, deps.codedeploy, guard?.requireSigV4);
  }

  return app;
}
