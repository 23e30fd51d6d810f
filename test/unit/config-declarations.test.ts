/**
 * The parts of the config file that declare what the CodeDeploy API would otherwise create
 * (applications, deployment groups, custom deployment configurations) and versions run by command:
 * what they parse to, and every refusal reported at its line and column, as the API's rules decide.
 */
import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { configProblems } from '../support/config-problems.js';

const HEAD = `listeners:
  production: { port: 8080 }
services:
  - name: web
    versions:
      "1": { targets: ["http://127.0.0.1:9001"] }
      "2": { command: "node server.js", instances: 2, env: { MODE: green, WORKERS: 4 }, healthCheck: { path: /health } }
    live: "1"
`;

const problems = configProblems;

describe('versions', () => {
  it('parses fixed targets and a command version with its defaults', () => {
    const config = parseConfig(HEAD, 'x.yml', {});
    const versions = config.services[0]!.versions;
    expect(versions['1']).toEqual({ kind: 'targets', targets: ['http://127.0.0.1:9001'], readyTimeoutMs: 60_000 });
    expect(versions['2']).toEqual({
      kind: 'command',
      command: 'node server.js',
      env: { MODE: 'green', WORKERS: '4' },
      cwd: process.cwd(), // the config file's folder
      instances: 2,
      healthCheck: {
        path: '/health',
        interval: 1_000,
        timeout: 2_000,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        expectStatus: [200, 399],
      },
      readyTimeoutMs: 60_000,
    });
  });

  it("runs commands in the config file's folder, and takes cwd relative to it", () => {
    const text = `${HEAD}hooks:\n  check: { command: ./check.sh, cwd: ../scripts }\n`.replace(
      'healthCheck: { path: /health } }',
      'healthCheck: { path: /health }, cwd: app }',
    );
    const config = parseConfig(text, '/srv/shop/switchyard.yml', {});
    expect(config.services[0]!.versions['2']).toMatchObject({ cwd: '/srv/shop/app' });
    expect(config.hooks['check']).toMatchObject({ cwd: '/srv/scripts' });
    const absolute = parseConfig(HEAD.replace('instances: 2,', 'instances: 2, cwd: /opt/web,'), '/srv/shop/s.yml', {});
    expect(absolute.services[0]!.versions['2']).toMatchObject({ cwd: '/opt/web' });
  });

  it('wants exactly one of targets or command, and command options only with a command', () => {
    const text = `listeners:
  production: { port: 8080 }
services:
  - name: web
    versions:
      "1": { targets: ["http://a"], command: x }
      "2": { instances: 2 }
      "3": { targets: ["http://a"], instances: 2, cwd: /srv }
      "4": { command: [], healthCheck: { path: health, interval: 0s } }
    live: "1"
`;
    expect(problems(text)).toEqual([
      'x.yml:6:12 services[0].versions.1: a version needs exactly one of targets, command, synthetic or lambda',
      'x.yml:7:12 services[0].versions.2: a version needs exactly one of targets, command, synthetic or lambda',
      'x.yml:8:48 services[0].versions.3.instances: applies only to a version started by command',
      'x.yml:8:56 services[0].versions.3.cwd: applies only to a version started by command',
      'x.yml:9:23 services[0].versions.4.command: must name a program',
      'x.yml:9:48 services[0].versions.4.healthCheck.path: must start with /',
      'x.yml:9:66 services[0].versions.4.healthCheck.interval: must be longer than 0',
    ]);
  });
});

describe('function versions', () => {
  const FUNCTIONS = `listeners:
  production: { port: 8080 }
services:
  - name: orders
    eventFormat: rest-v1
    alias: prod
    versions:
      "1": { lambda: { handler: fn-v1/index.handler } }
      "2": { lambda: { bootstrap: ./fn-v2/bootstrap, handler: function.handler, timeout: 10s, memorySize: 512, env: { MODE: 2 }, concurrency: 4 } }
      "3": { lambda: { root: ., handler: src/app.main, idleTimeout: 1m } }
    live: "1"
`;

  it('parses a handler (its folder the task root), a custom runtime and Lambda’s defaults', () => {
    const config = parseConfig(FUNCTIONS, '/srv/shop/switchyard.yml', {});
    const service = config.services[0]!;
    expect(service).toMatchObject({ eventFormat: 'rest-v1', alias: 'prod' });
    const defaults = { timeoutMs: 3_000, memorySizeMb: 128, env: {}, concurrency: 10, idleMs: 300_000 };
    expect(service.versions['1']).toEqual({
      kind: 'lambda',
      lambda: { runtime: 'nodejs', handler: 'index.handler', root: '/srv/shop/fn-v1', ...defaults },
      readyTimeoutMs: 60_000,
    });
    expect(service.versions['2']).toMatchObject({
      lambda: {
        runtime: 'provided',
        handler: 'function.handler',
        root: '/srv/shop/fn-v2',
        bootstrap: '/srv/shop/fn-v2/bootstrap',
        timeoutMs: 10_000,
        memorySizeMb: 512,
        env: { MODE: '2' },
        concurrency: 4,
      },
    });
    expect(service.versions['3']).toMatchObject({
      lambda: { handler: 'src/app.main', root: '/srv/shop', idleMs: 60_000 },
    });
    // A service that names neither keeps them absent (the defaults, http-api-v2 and live, apply where used).
    expect(parseConfig(HEAD, 'x.yml', {}).services[0]).not.toHaveProperty('eventFormat');
  });

  it('refuses a function without code, Lambda’s bounds crossed, and command options on a function', () => {
    const text = `listeners:
  production: { port: 8080 }
services:
  - name: orders
    eventFormat: soap
    alias: "123"
    versions:
      "1": { lambda: { timeout: 20m, memorySize: 64 } }
      "2": { lambda: { handler: index }, env: { A: b } }
    live: "1"
`;
    expect(problems(text)).toEqual([
      'x.yml:5:18 services[0].eventFormat: must be one of http-api-v2, rest-v1, function-url',
      'x.yml:6:12 services[0].alias: must be 1-128 letters, digits, dashes or underscores, not only digits (a Lambda alias name)',
      'x.yml:8:22 services[0].versions.1.lambda: a function needs a handler, or a bootstrap (a custom runtime)',
      'x.yml:8:33 services[0].versions.1.lambda.timeout: must be at most 15m, as on Lambda',
      'x.yml:8:50 services[0].versions.1.lambda.memorySize: must be 128-10240 (MB), as on Lambda',
      'x.yml:9:33 services[0].versions.2.lambda.handler: must be <module path>.<exported function>, e.g. index.handler',
      'x.yml:9:47 services[0].versions.2.env: applies only to a version started by command (a function takes lambda.env)',
    ]);
  });
});

describe('declared applications, groups and configurations', () => {
  it('parses them in the API shapes, with switchyard shifts for custom configurations', () => {
    const config = parseConfig(
      `${HEAD}deploymentConfigs:
  fast-canary: { computePlatform: ECS, trafficRouting: { type: TimeBasedCanary, percent: 12.5, interval: 30s } }
  stepped: { computePlatform: Lambda, trafficRouting: { steps: [{ weight: 1, pause: 10s }, { weight: 50 }, { weight: 100 }] } }
applications:
  shop:
    computePlatform: ECS
    deploymentGroups:
      web-prod:
        ecsServices: [{ serviceName: web, clusterName: local }]
        deploymentConfigName: fast-canary
        autoRollbackConfiguration: { enabled: true, events: [DEPLOYMENT_FAILURE] }
`,
      'x.yml',
      {},
    );
    expect(config.deploymentConfigs['fast-canary']).toEqual({
      computePlatform: 'ECS',
      trafficRouting: { kind: 'canary', weight: 1250, intervalMs: 30_000 },
    });
    expect(config.deploymentConfigs['stepped']?.trafficRouting).toEqual({
      kind: 'steps',
      steps: [
        { weight: 100, pauseMs: 10_000 },
        { weight: 5000, pauseMs: null },
        { weight: 10_000, pauseMs: 0 },
      ],
    });
    expect(config.applications['shop']?.deploymentGroups['web-prod']).toEqual({
      ecsServices: [{ serviceName: 'web', clusterName: 'local' }],
      deploymentConfigName: 'fast-canary',
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
  });

  it('reports a typo in a group as an unknown key, where it is', () => {
    const text = `${HEAD}applications:
  shop:
    computePlatform: ECS
    deploymentGroups:
      web-prod:
        ecsServices: [{ serviceName: web, cluster: local }]
        autoRollbackConfiguration: { enable: true }
`;
    expect(problems(text)).toEqual([
      'x.yml:14:43 applications.shop.deploymentGroups.web-prod.ecsServices[0].cluster: unknown key',
      'x.yml:15:38 applications.shop.deploymentGroups.web-prod.autoRollbackConfiguration.enable: unknown key',
    ]);
  });

  it('holds declarations to the rules of the API, each at its place', () => {
    const text = `${HEAD}deploymentConfigs:
  "bad name!": { computePlatform: ECS, trafficRouting: { type: AllAtOnce } }
  lambda-only: { computePlatform: Lambda, trafficRouting: { type: TimeBasedLinear, percent: 10, interval: 1m } }
applications:
  shop:
    computePlatform: ECS
    deploymentGroups:
      web-prod:
        ecsServices: [{ serviceName: web }]
        deploymentConfigName: lambda-only
      no-service: {}
      unknown-service:
        ecsServices: [{ serviceName: api }]
      second:
        ecsServices: [{ serviceName: web }]
        deploymentConfigName: CodeDeployDefault.ECSNope
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^x\.yml:10:16 deploymentConfigs\.bad name!: deployment config name .* \(InvalidDeploymentConfigNameException\)$/,
      ),
      "x.yml:18:31 applications.shop.deploymentGroups.web-prod.deploymentConfigName: Deployment config 'lambda-only' is for the Lambda compute platform, but application 'shop' is ECS (InvalidDeploymentConfigNameException)",
      'x.yml:19:19 applications.shop.deploymentGroups.no-service: An ECS deployment group needs exactly one entry in ecsServices with a serviceName (InvalidECSServiceException)',
      'x.yml:21:38 applications.shop.deploymentGroups.unknown-service.ecsServices[0].serviceName: names no service of this file (services: web)',
      "x.yml:24:31 applications.shop.deploymentGroups.second.deploymentConfigName: Deployment config 'CodeDeployDefault.ECSNope' does not exist (DeploymentConfigDoesNotExistException)",
    ]);
  });

  it('takes triggers with a format, and refuses a bad one at triggerConfigurations', () => {
    const group = (trigger: string) => `${HEAD}applications:
  shop:
    computePlatform: ECS
    deploymentGroups:
      web-prod:
        ecsServices: [{ serviceName: web }]
        triggerConfigurations:
          - ${trigger}
`;
    const slack =
      '{ triggerName: chat, triggerTargetArn: "https://hooks.example/T/B/x", triggerEvents: [DeploymentFailure], format: slack }';
    expect(
      parseConfig(group(slack), 'x.yml', {}).applications['shop']?.deploymentGroups['web-prod']?.triggerConfigurations,
    ).toEqual([
      {
        triggerName: 'chat',
        triggerTargetArn: 'https://hooks.example/T/B/x',
        triggerEvents: ['DeploymentFailure'],
        format: 'slack',
      },
    ]);
    expect(
      problems(
        group('{ triggerName: sns, triggerTargetArn: "arn:aws:sns:us-east-1:1:t", triggerEvents: [DeploymentStart] }'),
      ),
    ).toEqual([
      expect.stringMatching(
        /^x\.yml:\d+:\d+ applications\.shop\.deploymentGroups\.web-prod\.triggerConfigurations: Trigger "sns": triggerTargetArn must be an http\(s\) webhook URL .*\(InvalidTriggerConfigException\)$/,
      ),
    ]);
    expect(
      problems(
        group(
          '{ triggerName: t, triggerTargetArn: "https://h.example", triggerEvents: [DeploymentStart], format: teams }',
        ),
      ),
    ).toEqual([expect.stringContaining('applications.shop.deploymentGroups.web-prod.triggerConfigurations[0].format')]);
  });

  it('refuses a second group for the same ECS service', () => {
    const text = `${HEAD}applications:
  shop:
    computePlatform: ECS
    deploymentGroups:
      a: { ecsServices: [{ serviceName: web }] }
      b: { ecsServices: [{ serviceName: web }] }
`;
    expect(problems(text)).toEqual([
      "x.yml:14:25 applications.shop.deploymentGroups.b.ecsServices: ECS service 'web' already belongs to deployment group 'a' of application 'shop' (ECSServiceMappingLimitExceededException)",
    ]);
  });
});
