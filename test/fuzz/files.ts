/**
 * The valid files the file fuzzers start from, and the property every file must keep: accepted, or
 * refused by one SwitchyardError of the file's code with every problem at a line and column of that
 * file, as `switchyard validate` prints them (exit 2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect } from 'vitest';

import { describeError } from '../../src/core/describe-error.js';
import { type ErrorCode, formatIssue, isSwitchyardError } from '../../src/core/errors.js';
import { ECS_APPSPEC, LAMBDA_APPSPEC } from '../support/appspecs.js';
import { ROOT } from '../support/cli.js';
import { STACK_TRACE } from '../support/fuzz.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Valid configs: the repository's examples and a small one. */
export const CONFIGS: readonly string[] = [
  read('config/example.yml'),
  read('config/demo.yml'),
  `listeners:
  production: { port: 8080 }
services:
  - name: web
    versions:
      "1": { targets: [http://127.0.0.1:9001] }
      "2": { command: "node server.js", env: { MODE: green }, healthCheck: { path: /health, interval: 1s } }
    live: "1"
    weights: { "1": 87.66, "2": 12.34 }
timeScale: 60
hooks:
  smoke: { url: "http://127.0.0.1:7000/smoke", mode: sync, timeout: 30s }
deploymentConfigs:
  stepped: { computePlatform: ECS, trafficRouting: { steps: [{ weight: 1, pause: 30s }, { weight: 100 }] } }
recovery: { policy: resume, hookInFlight: rollback }
notifications: { timeout: 2s, giveUpAfter: 1h }
`,
];

/** Valid experiment files: the repository's example and a small one with every kind of part. */
export const EXPERIMENTS: readonly string[] = [
  read('config/experiments/policies.yml'),
  `seed: 3
repeat: 2
timeScale: 600
bake: 0m
alarmEvaluationInterval: 100ms
load:
  rate: 250.5
  sticky: true
  requests:
    - { method: GET, path: /, weight: 9 }
    - { method: POST, path: /orders, body: '{"n":1}', headers: { content-type: application/json } }
versions:
  synthetic:
    original: { latency: { fixed: 1ms } }
    replacement: { latency: { p50: 2ms, p99: 30ms }, errors: { percent: 1.5 }, warmup: { requests: 100 } }
alarms:
  slow: { kind: latency, threshold: 250ms, quantile: 0.95 }
  worse: { kind: compare }
policies:
  - { name: steps, config: { steps: [{ weight: 1, pause: 30s }, { weight: 50, pause: 1m }] }, alarms: [slow] }
  - { name: lambda, config: CodeDeployDefault.LambdaLinear10PercentEvery1Minute, retryOnOriginal: true }
scenarios:
  - { name: ramp, faults: { abort: { percent: 30, reset: true }, schedule: { after: 1m, ramp: 2m, from: 5 } } }
  - { name: delayed, faults: { delay: { percent: 50, p50: 100ms, p99: 2s }, seed: 9 } }
  - { name: cold, replacement: { capacity: { inFlight: 4, queue: 0 } } }
`,
];

/** Valid AppSpecs: the test ones, the repository's examples, and ones with hooks. */
export const APPSPECS: readonly string[] = [
  ECS_APPSPEC,
  LAMBDA_APPSPEC,
  read('config/appspec/ecs.yml'),
  read('config/appspec/lambda.json'),
  `${ECS_APPSPEC}Hooks:
  - BeforeInstall: "HookBeforeInstall"
  - AfterAllowTestTraffic: "http://127.0.0.1:7000/smoke"
  - AfterAllowTraffic: "arn:aws:lambda:us-east-1:111122223333:function:HookPostTraffic:live"
`,
  `${LAMBDA_APPSPEC}Hooks:
  - BeforeAllowTraffic: "CodeDeployHook_pre"
  - AfterAllowTraffic: "CodeDeployHook_post"
`,
];

/**
 * `parse` on `text` either accepts it or throws a SwitchyardError of `code` naming `file`, with at
 * least one issue, each at a line and column inside the text and with a message free of stack traces.
 */
export function acceptedOrLocated(parse: () => unknown, text: string, file: string, code: ErrorCode): void {
  try {
    parse();
    return;
  } catch (err) {
    if (!isSwitchyardError(err, code)) throw new Error(`not a ${code} SwitchyardError: ${describeError(err)}`);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.issues.length).toBeGreaterThan(0);
    // YAML counts lines by \n; a \r alone does not end one, so this bound is generous.
    const lines = text.split('\n').length;
    for (const issue of err.issues) {
      const printed = formatIssue(issue);
      expect(issue.location, printed).toBeDefined();
      const { line, column } = issue.location!;
      expect(issue.location!.file, printed).toBe(file);
      expect(Number.isInteger(line) && line >= 1 && line <= lines + 1, printed).toBe(true);
      expect(Number.isInteger(column) && column >= 1, printed).toBe(true);
      expect(issue.message.length, printed).toBeGreaterThan(0);
      expect(STACK_TRACE.test(printed), printed).toBe(false);
    }
  }
}
