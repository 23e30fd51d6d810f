/**
 * Fuzzes CodeDeploy's JSON 1.1 protocol on a real switchyard: every operation the control API serves,
 * with request bodies that began as valid ones and were mutated (members dropped, renamed, retyped,
 * nested deep; odd numbers and Unicode; an AppSpec mutated like the AppSpec fuzzer's), bodies that are
 * not JSON objects at all, and odd X-Amz-Target and Content-Type headers. Every answer is a 200 or a 400
 * in CodeDeploy's error form, never a 500 or a stack trace; the server still answers a valid call
 * afterwards; and a refused call changes nothing (no application, group, configuration or deployment
 * left half made).
 */
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { OPERATIONS } from '../../src/api/codedeploy/protocol.js';
import type { Switchyard } from '../../src/app/start.js';
import { ECS_APPSPEC, ECS_GROUP } from '../support/appspecs.js';
import {
  CASE_BUDGET_MS,
  fuzz,
  fuzzTimeout,
  hostileFile,
  mutated,
  mutateText,
  ODD_STRINGS,
  oddString,
  STACK_TRACE,
  type TextMutation,
} from '../support/fuzz.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { until } from '../support/until.js';
import { startUpstream, type TestUpstream } from '../support/upstream.js';
import { APPSPECS } from './files.js';

const PREFIX = 'CodeDeploy_20141006.';
const AMZ_JSON = 'application/x-amz-json-1.1';

let sy: Switchyard;
let upstreams: TestUpstream[] = [];
/** A stopped deployment of the base group, for the operations that name one. */
let deploymentId = '';

interface Answer {
  readonly status: number;
  readonly type: string | undefined;
  readonly errorType: string | undefined;
  readonly text: string;
}

/** One raw call of the protocol. */
async function call(
  target: string | undefined,
  body: string | Buffer,
  contentType: string | undefined = AMZ_JSON,
): Promise<Answer> {
  const res = await request(`${sy.urls['control']}/`, {
    method: 'POST',
    headers: {
      ...(contentType !== undefined && { 'content-type': contentType }),
      ...(target !== undefined && { 'x-amz-target': target }),
    },
    body,
    headersTimeout: CASE_BUDGET_MS,
    bodyTimeout: CASE_BUDGET_MS,
  });
  const text = await res.body.text();
  const header = (name: string) => {
    const v = res.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return { status: res.statusCode, type: header('content-type'), errorType: header('x-amzn-errortype'), text };
}

/** A valid call that must succeed; its answer. */
async function must(operation: string, body: object): Promise<Record<string, unknown>> {
  const answer = await call(`${PREFIX}${operation}`, JSON.stringify(body));
  if (answer.status !== 200) throw new Error(`${operation} answered ${answer.status}: ${answer.text}`);
  return JSON.parse(answer.text) as Record<string, unknown>;
}

/** The base group holds a deployment at its ready wait, so that one never moves traffic on its own. */
const BASE_GROUP = {
  ...ECS_GROUP,
  blueGreenDeploymentConfiguration: {
    deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 600 },
    terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' },
  },
};

/** The same group for another service (an ECS service belongs to one group at most). */
function groupFor(service: string): typeof BASE_GROUP {
  return { ...BASE_GROUP, ecsServices: [{ clusterName: 'main', serviceName: service }] };
}

/** A valid body for each operation: what the fuzzer starts from. */
function baseBodies(): Record<string, object> {
  const revision = { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } };
  return {
    CreateApplication: { applicationName: 'fz-app', computePlatform: 'ECS', tags: [{ Key: 'k', Value: 'v' }] },
    GetApplication: { applicationName: 'web' },
    ListApplications: { nextToken: Buffer.from('0').toString('base64url') },
    DeleteApplication: { applicationName: 'fz-app' },
    BatchGetApplications: { applicationNames: ['web', 'fz-app'] },
    CreateDeploymentGroup: {
      applicationName: 'web',
      deploymentGroupName: 'fz-group',
      ...groupFor('jobs'),
      deploymentConfigName: 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes',
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
      triggerConfigurations: [
        { triggerName: 't', triggerTargetArn: 'http://127.0.0.1:1/hook', triggerEvents: ['DeploymentFailure'] },
      ],
    },
    GetDeploymentGroup: { applicationName: 'web', deploymentGroupName: 'web-prod' },
    ListDeploymentGroups: { applicationName: 'web' },
    UpdateDeploymentGroup: {
      applicationName: 'web',
      currentDeploymentGroupName: 'fz-upd',
      ...groupFor('api'),
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
    },
    DeleteDeploymentGroup: { applicationName: 'web', deploymentGroupName: 'fz-group' },
    BatchGetDeploymentGroups: { applicationName: 'web', deploymentGroupNames: ['web-prod', 'fz-upd'] },
    CreateDeploymentConfig: {
      deploymentConfigName: 'fz-config',
      computePlatform: 'ECS',
      trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } },
    },
    GetDeploymentConfig: { deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' },
    ListDeploymentConfigs: {},
    DeleteDeploymentConfig: { deploymentConfigName: 'fz-config' },
    CreateDeployment: {
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      revision,
      description: 'fuzz',
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_REQUEST'] },
      switchyardTimeScale: 60,
    },
    GetDeployment: { deploymentId },
    BatchGetDeployments: { deploymentIds: [deploymentId, 'd-AAAAAAAAA'] },
    ListDeployments: {
      applicationName: 'web',
      deploymentGroupName: 'web-prod',
      includeOnlyStatuses: ['Stopped', 'Failed'],
      createTimeRange: { start: 0, end: 4_102_444_800 },
    },
    StopDeployment: { deploymentId, autoRollbackEnabled: true },
    ContinueDeployment: { deploymentId, deploymentWaitType: 'READY_WAIT' },
    PutLifecycleEventHookExecutionStatus: {
      deploymentId,
      lifecycleEventHookExecutionId: '00000000-0000-0000-0000-000000000000',
      status: 'Succeeded',
    },
    ListDeploymentTargets: { deploymentId, targetFilters: { TargetStatus: ['Failed', 'Ready'] } },
    BatchGetDeploymentTargets: { deploymentId, targetIds: ['main:web'] },
    GetDeploymentTarget: { deploymentId, targetId: 'main:web' },
  };
}

/** What a refused call must leave as it was: applications, groups (with their settings), configurations, deployments. */
function state(): string {
  const r = sy.registry;
  return JSON.stringify({
    applications: r.applicationNames().map((a) => [r.application(a), r.groupNames(a).map((g) => r.group(a, g))]),
    configs: r.configNames().map((c) => r.config(c)),
    deployments: sy.engine.list().map((d) => d.id),
  });
}

/** Puts back what the fuzzer's own successful calls may have taken away, so later cases still reach deep. */
async function restore(): Promise<void> {
  if (!sy.registry.groupNames('web').includes('fz-upd'))
    await must('CreateDeploymentGroup', { applicationName: 'web', deploymentGroupName: 'fz-upd', ...groupFor('api') });
}

/** A deployment the fuzzer started is stopped and rolled back, so the next case starts from the same traffic. */
async function settle(answer: Answer): Promise<void> {
  const id = (JSON.parse(answer.text) as { deploymentId?: string }).deploymentId;
  if (id === undefined || id === deploymentId) return;
  const record = sy.engine.get(id);
  if (record && !['Succeeded', 'Failed', 'Stopped'].includes(record.status))
    await call(`${PREFIX}StopDeployment`, JSON.stringify({ deploymentId: id, autoRollbackEnabled: true }));
  await until(
    () => sy.engine.activeOn('web'),
    (active) => active === undefined,
    CASE_BUDGET_MS,
    10,
    'no deployment active on web',
  );
}

beforeAll(async () => {
  upstreams = [
    await startUpstream('blue', undefined, { autoClose: false }),
    await startUpstream('green', undefined, { autoClose: false }),
  ];
  const web = twoVersions(upstreams[0]!.url, upstreams[1]!.url).services[0] as Record<string, unknown>;
  const services = ['web', 'api', 'jobs'].map((name) => ({ ...web, name, match: { pathPrefix: `/${name}` } }));
  sy = await startProxy({ services }, { autoClose: false });
  await must('CreateApplication', { applicationName: 'web', computePlatform: 'ECS' });
  await must('CreateDeploymentGroup', { applicationName: 'web', deploymentGroupName: 'web-prod', ...BASE_GROUP });
  const created = await must('CreateDeployment', baseBodies()['CreateDeployment']!);
  deploymentId = created['deploymentId'] as string;
  await until(
    () => sy.engine.get(deploymentId)?.status,
    (s) => s === 'Ready',
    10_000,
    10,
    'the base deployment at its ready wait',
  );
  await must('StopDeployment', { deploymentId, autoRollbackEnabled: true });
  await settle({ status: 200, type: AMZ_JSON, errorType: undefined, text: '{}' });
}, 60_000);

afterAll(async () => {
  await sy?.close();
  await Promise.all(upstreams.map((u) => u.close()));
});

/** One fuzz case: what is sent. */
interface Case {
  readonly kind: string;
  readonly operation: string;
  readonly target: string | undefined;
  readonly contentType: string | undefined;
  readonly body: string | Buffer;
}

const HEADER_SAFE = /^[\x20-\x7e]*$/;

function cases(bodies: Record<string, object>): fc.Arbitrary<Case> {
  const operations = Object.keys(OPERATIONS);
  const appSpecs = hostileFile(APPSPECS, (text) => parse(text) as unknown);
  // A valid body mutated as a document, then written as JSON (and sometimes mutated as text).
  const mutatedBody = fc
    .constantFrom(...operations)
    .chain((operation) =>
      fc.tuple(
        fc.constant(operation),
        mutated(bodies[operation]),
        fc.option(fc.constant<TextMutation['kind']>('truncate'), { freq: 8 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
      ),
    )
    .map(([operation, { doc }, textKind, at]): Case => {
      let body: string;
      try {
        body = JSON.stringify(doc) ?? '';
      } catch {
        body = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      }
      if (textKind) body = mutateText(body, { kind: textKind, at, text: '' });
      return { kind: 'mutated', operation, target: `${PREFIX}${operation}`, contentType: AMZ_JSON, body };
    });
  // CreateDeployment with a hostile AppSpec as its content.
  const hostileAppSpec = fc
    .tuple(appSpecs, fc.constantFrom('AppSpecContent', 'String'))
    .map(([{ text }, revisionType]): Case => {
      const member = revisionType === 'AppSpecContent' ? 'appSpecContent' : 'string';
      const body = { ...bodies['CreateDeployment'], revision: { revisionType, [member]: { content: text } } };
      return {
        kind: 'appspec',
        operation: 'CreateDeployment',
        target: `${PREFIX}CreateDeployment`,
        contentType: AMZ_JSON,
        body: JSON.stringify(body),
      };
    });
  // Bodies that are not a JSON object, or not JSON, or too deep or too large.
  const rawBody = fc
    .tuple(
      fc.constantFrom(...operations),
      fc.oneof(
        fc.constantFrom('', ' ', 'null', '[]', '"x"', '1e308', 'true', '{', '{"a":', '{"a":1,}', "{'a':1}", '\u0000'),
        fc.constantFrom(63, 64, 65, 1_000, 100_000).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
        fc.constant(`{"applicationName":"${'x'.repeat(1_100_000)}"}`),
        fc.string({ unit: 'binary', maxLength: 100 }),
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      ),
    )
    .map(([operation, body]): Case => ({
      kind: 'raw',
      operation,
      target: `${PREFIX}${operation}`,
      contentType: AMZ_JSON,
      body,
    }));
  // The headers that choose the operation and the body's type.
  const oddHeaders = fc
    .tuple(
      fc.constantFrom(...operations),
      fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(...ODD_STRINGS.filter((s) => HEADER_SAFE.test(s))).map((s) => `${PREFIX}${s}`),
        fc.constantFrom('CodeDeploy_20141006', 'codedeploy_20141006.ListApplications', PREFIX, 'x'),
        oddString.filter((s) => HEADER_SAFE.test(s) && s.length < 8_000),
      ),
      fc.constantFrom(
        undefined,
        'application/json',
        'text/plain',
        'application/x-amz-json-1.0',
        `${AMZ_JSON}; charset=utf-16`,
        '',
      ),
    )
    .map(([operation, target, contentType]): Case => ({
      kind: 'headers',
      operation,
      target,
      contentType,
      body: JSON.stringify(bodies[operation]),
    }));
  return fc.oneof(
    { arbitrary: mutatedBody, weight: 8 },
    { arbitrary: hostileAppSpec, weight: 2 },
    { arbitrary: rawBody, weight: 2 },
    { arbitrary: oddHeaders, weight: 1 },
  );
}

describe('fuzz: the CodeDeploy API', () => {
  it(
    'codedeploy: every hostile call is answered 200 or 400 in CodeDeploy form and changes nothing when refused',
    async () => {
      const bodies = baseBodies();
      await fuzz(
        'codedeploy',
        cases(bodies),
        async (c) => {
          await restore();
          const before = state();
          const answer = await call(c.target, c.body, c.contentType);
          expect([200, 400], answer.text.slice(0, 500)).toContain(answer.status);
          expect(answer.type).toBe(AMZ_JSON);
          expect(STACK_TRACE.test(answer.text), answer.text.slice(0, 500)).toBe(false);
          const body = JSON.parse(answer.text) as Record<string, unknown>;
          expect(typeof body === 'object' && body !== null && !Array.isArray(body)).toBe(true);
          if (answer.status === 400) {
            expect(body['__type']).toMatch(/^[A-Za-z]+Exception$/);
            expect(answer.errorType).toBe(body['__type']);
            expect(typeof body['message']).toBe('string');
            expect(state(), `${c.operation} was refused (${String(body['__type'])}) but changed state`).toBe(before);
          } else {
            await settle(answer);
          }
          // Still serving: a valid call right after works.
          const health = await request(`${sy.urls['control']}/healthz`);
          expect(health.statusCode).toBe(200);
          await health.body.dump();
          await must('GetDeploymentGroup', bodies['GetDeploymentGroup']!);
        },
        { label: (c) => `${c.kind}:${c.operation}` },
      );
    },
    fuzzTimeout(),
  );
});
