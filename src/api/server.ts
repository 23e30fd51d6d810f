/**
 * @module api/server
 * The control API on the control port (fastify), put together from one plugin per resource: health,
 * Prometheus metrics, the services' traffic, alarms, deployments, the event stream, notifications,
 * CodeDeploy's own JSON protocol at `POST /`, and Lambda's API under `/2015-03-31/functions`. What the plugins share is set here, on the root: the error
 * form, the not-found answer, and the bearer-token guard. It never listens by itself; the composition
 * root decides where.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';

import type { ControlAuth } from '../config/schema.js';
import { type Clock, systemClock } from '../core/clock.js';
import { SwitchyardError } from '../core/errors.js';
import type { LabReportShelf } from '../core/lab-reports.js';
import type { LiveStatsFeed } from '../core/live-stats.js';
import type { Logger } from '../core/logger.js';
import type { TrafficPort } from '../shifting/ports.js';
import { controlGuard } from './auth/guard.js';
import { type CodeDeployDeps, codeDeployProtocol } from './codedeploy/protocol.js';
import { dashboardRoutes } from './dashboard.js';
import { openDataPlaneDoor } from './data-plane-door.js';
import {
  BODY_LIMIT_BYTES,
  handleApiError,
  handleClientError,
  handleFrameworkError,
  MAX_PARAM_LENGTH,
} from './errors.js';
import type { EventStream } from './event-stream.js';
import { eventRoutes } from './events.js';
import { hostGuard, type HostRule } from './host-guard.js';
import { nestsDeeperThan, TOO_DEEP_MESSAGE } from './json-depth.js';
import { type FunctionApiDeps, lambdaApi } from './lambda/protocol.js';
import { type AlarmRegistry, alarmRoutes } from './rest/alarms.js';
import { type DataPlaneRoster, dataPlaneRoutes } from './rest/data-planes.js';
import { deploymentRoutes } from './rest/deployments.js';
import { healthRoutes } from './rest/health.js';
import { labRoutes } from './rest/lab.js';
import { metricsRoutes, type MetricsSource } from './rest/metrics.js';
import { notificationRoutes, type NotificationSource } from './rest/notifications.js';
import { type HealthSource, serviceRoutes } from './rest/services.js';
import { statsRoutes } from './rest/stats.js';
import type { ErrorBody } from './rest/wire.js';

// The ports ApiDeps names, for whoever fills it in.
export type {
  AlarmRegistry,
  DataPlaneRoster,
  FunctionApiDeps,
  HealthSource,
  LabReportShelf,
  MetricsSource,
  NotificationSource,
};

/** What the control API needs. */
export interface ApiDeps {
  readonly log: Logger;
  readonly traffic: TrafficPort;
  readonly metrics: MetricsSource;
  /** When given, `GET /v1/events` streams deployment events. */
  readonly events?: EventStream;
  /** With `events` (whose shutdown ends its streams too), `GET /v1/stats[/stream]` serve the live traffic view. */
  readonly liveStats?: LiveStatsFeed;
  /** Target health, shown with each service when given. */
  readonly health?: HealthSource;
  /** The alarms groups may name; when given, `/v1/alarms` lists, creates and deletes them. */
  readonly alarms?: AlarmRegistry;
  /** When given, the CodeDeploy protocol is served at `POST /`, and `/v1/deployments…` beside it. */
  readonly codedeploy?: CodeDeployDeps;
  /** When given, Lambda's API (Invoke, GetFunction, aliases…) is served under `/2015-03-31/functions`. */
  readonly functions?: FunctionApiDeps;
  /** When given, `GET /v1/notifications` lists the trigger notifications and their delivery. */
  readonly notifications?: NotificationSource;
  /** When given, `/v1/lab/reports` lists, shows and takes uploads of the policy lab's reports. */
  readonly labReports?: LabReportShelf;
  /** `control.auth`: when given, calls need the bearer token or (CodeDeploy) a SigV4 signature. */
  readonly auth?: ControlAuth;
  /** What SigV4's clock-skew check compares X-Amz-Date with; the system clock when absent. */
  readonly clock?: Clock;
  /** When given, only requests whose Host it allows are answered (DNS rebinding). */
  readonly hosts?: HostRule;
  /** The dashboard's folder: when given, its page is served at `/` and its files under `/ui/`. */
  readonly dashboard?: string;
  /** Resolves once every write made so far is durable (the store's `durable()`); changes answer after it. */
  readonly durable?: () => Promise<void>;
  /** When given, remote data planes connect at `/v1/data-planes/connect` and `/v1/data-planes` lists them. */
  readonly dataPlanes?: DataPlaneRoster;
}

/** Builds the control API. */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const apiLogger: FastifyBaseLogger = deps.log.child({ component: 'api' });
  const app = Fastify({
    // Typed as fastify's logger so the instance keeps fastify's default generics.
    loggerInstance: apiLogger,
    // Requests to the control API are not logged one by one; what they change is.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
  });
  app.setErrorHandler(handleApiError);
  // fastify's own JSON parsing (with its prototype-poisoning checks), behind the nesting bound; on the
  // root so every REST route has it (the CodeDeploy protocol parses its bytes itself, bounded alike).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    // parseAs 'string' hands over a string; the type also admits the buffer form.
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (nestsDeeperThan(text)) {
      done(new SwitchyardError('ARGUMENTS_INVALID', TOO_DEEP_MESSAGE), undefined);
      return;
    }
    void parseJson(req, text, done);
  });
  const guard = deps.auth && controlGuard(deps.auth, deps.clock ?? systemClock);
  // On the root, before any plugin, so it covers every route and the not-found handler too: unknown
  // routes are not told apart without a token.
  // First of all: a page that rebinds its name to this address learns nothing, not even a 401.
  if (deps.hosts) app.addHook('onRequest', hostGuard(deps.hosts));
  if (guard) app.addHook('onRequest', guard.requireBearer);
  if (deps.durable) answerChangesOnceDurable(app, deps.durable);
  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = new SwitchyardError('NO_ROUTE', `no ${req.method} ${req.url} on the control API`).toJSON();
    void reply.status(404).send(body);
  });

  const { log, codedeploy } = deps;
  void app.register(healthRoutes);
  if (deps.dashboard !== undefined) void app.register(dashboardRoutes, { root: deps.dashboard });
  void app.register(metricsRoutes, { metrics: deps.metrics });
  void app.register(serviceRoutes, {
    traffic: deps.traffic,
    health: deps.health,
    deployments: codedeploy?.engine,
    log,
  });
  if (deps.events) void app.register(eventRoutes, { stream: deps.events });
  if (deps.events && deps.liveStats) {
    void app.register(statsRoutes, { feed: deps.liveStats, clock: deps.events.clock, streams: deps.events });
  }
  if (deps.notifications) void app.register(notificationRoutes, { source: deps.notifications });
  if (deps.alarms) void app.register(alarmRoutes, { alarms: deps.alarms, log });
  if (deps.labReports) void app.register(labRoutes, { shelf: deps.labReports });
  if (deps.dataPlanes) {
    void app.register(dataPlaneRoutes, { roster: deps.dataPlanes, log });
    openDataPlaneDoor(app, { roster: deps.dataPlanes, log, auth: deps.auth, hosts: deps.hosts });
  }
  if (codedeploy) {
    void app.register(deploymentRoutes, { engine: codedeploy.engine, registry: codedeploy.registry, log });
    void app.register(codeDeployProtocol, { deps: codedeploy, authenticate: guard?.requireSigV4 });
  }
  if (deps.functions) {
    void app.register(lambdaApi, {
      functions: deps.functions,
      traffic: deps.traffic,
      deployments: codedeploy?.engine,
      clock: deps.clock ?? systemClock,
      log,
      authenticate: guard?.requireLambdaSigV4,
    });
  }
  return app;
}

/**
 * A shared store commits after the write returns: a call is acknowledged only once what it changed would
 * outlive this process (a lost lead turns the answer into STORE_LEADERSHIP_LOST instead, and that error
 * answer, like any refusal, acknowledges nothing and so does not wait).
 */
function answerChangesOnceDurable(app: FastifyInstance, durable: () => Promise<void>): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode < 400) await durable();
    return payload;
  });
}
