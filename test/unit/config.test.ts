import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig, parseConfig } from '../../src/app/config.js';
import { DEFAULT_LISTENER_LIMITS } from '../../src/config/limits.js';
import { formatIssue, isSwitchyardError, type SwitchyardError } from '../../src/core/errors.js';

/** The error parseConfig throws for `text`, or a failure when it accepts it. */
function rejection(text: string, env: NodeJS.ProcessEnv = {}, file = 'x.yml'): SwitchyardError {
  try {
    parseConfig(text, file, env);
  } catch (err) {
    if (isSwitchyardError(err)) return err;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

/** Every problem in `text`, formatted as the CLI prints them. */
function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  return rejection(text, env).issues.map(formatIssue);
}

/** A valid file around one service body, indented under `services:`. */
function withService(body: string, top = ''): string {
  return `listeners:\n  production: { port: 8080 }\n${top}services:\n${body}`;
}

/** The message for a variable without a value or default. */
function unset(name: string, state = 'is not set'): string {
  return `environment variable ${name} ${state} and has no default (write \${${name}:-default})`;
}

const MINIMAL = withService(`  - name: web
    versions:
      "1": { targets: [http://127.0.0.1:9001] }
    live: "1"
`);

describe('parseConfig: valid files', () => {
  it('reads every section of a full file', () => {
    const config = parseConfig(
      `listeners:
  production: { host: 0.0.0.0, port: 8080 }
  test: { port: 8081 }
control: { host: 127.0.0.2, port: 9900 }
logLevel: debug
versionHeader: X-Served-By
workers: auto
drainTimeout: 15m
upstream: { connections: 64, connectTimeout: 500ms, headersTimeout: 30s, bodyTimeout: 2m, keepAliveTimeout: 4000 }
services:
  - name: checkout
    match: { host: Shop.Example.COM, pathPrefix: /api }
    versions:
      "1": { targets: ["http://127.0.0.1:9001"] }
      "2": { targets: ["http://127.0.0.1:9002", "https://green.internal:9443/base"] }
    live: "1"
    weights: { "1": 87.66, "2": 12.34 }
    routing:
      sticky: { header: X-User-Id }
      overrideHeader: X-Switchyard-Version
    upstream: { headersTimeout: 2s }
timeScale: 60
hooks:
  smoke: { url: "http://127.0.0.1:7000/smoke", mode: sync, timeout: 30s }
  migrate: { command: ["./migrate.sh", "--check"], env: { STAGE: test } }
notifications: { timeout: 2s, giveUpAfter: 1h }
`,
      'full.yml',
      {},
    );
    expect(config).toEqual({
      listeners: {
        production: { host: '0.0.0.0', port: 8080 },
        test: { host: '127.0.0.1', port: 8081 },
        limits: DEFAULT_LISTENER_LIMITS,
        forwardedHeaders: 'append',
      },
      control: { host: '127.0.0.2', port: 9900, allowedHosts: [] },
      logLevel: 'debug',
      versionHeader: 'x-served-by',
      workers: 'auto',
      drainTimeout: 900_000,
      upstream: {
        connections: 64,
        connectTimeout: 500,
        headersTimeout: 30_000,
        bodyTimeout: 120_000,
        keepAliveTimeout: 4000,
      },
      services: [
        {
          name: 'checkout',
          match: { host: 'shop.example.com', pathPrefix: '/api' },
          versions: {
            '1': { kind: 'targets', readyTimeoutMs: 60_000, targets: ['http://127.0.0.1:9001'] },
            '2': {
              kind: 'targets',
              readyTimeoutMs: 60_000,
              targets: ['http://127.0.0.1:9002', 'https://green.internal:9443/base'],
            },
          },
          live: '1',
          weights: { '1': 87.66, '2': 12.34 },
          routing: {
            sticky: { header: 'x-user-id' },
            overrideHeader: 'x-switchyard-version',
            retryOnOriginal: false,
            idempotentMethods: [],
          },
          upstream: { headersTimeout: 2000 },
        },
      ],
      timeScale: 60,
      alarms: {},
      alarmEvaluationInterval: 250,
      store: { sqlite: `${process.cwd()}/data/switchyard.db` },
      recovery: { policy: 'resume', hookInFlight: 'rerun' },
      deploymentConfigs: {},
      applications: {},
      notifications: { timeout: 2_000, retryDelay: 500, giveUpAfter: 3_600_000 },
      hooks: {
        smoke: { kind: 'http', url: 'http://127.0.0.1:7000/smoke', mode: 'sync', timeoutMs: 30_000 },
        migrate: {
          kind: 'command',
          command: ['./migrate.sh', '--check'],
          env: { STAGE: 'test' },
          cwd: process.cwd(), // the config file's folder: x.yml is relative
          timeoutMs: 3_600_000,
        },
      },
    });
  });

  it('fills defaults for everything optional', () => {
    expect(parseConfig(MINIMAL, 'min.yml', {})).toEqual({
      listeners: {
        production: { host: '127.0.0.1', port: 8080 },
        limits: DEFAULT_LISTENER_LIMITS,
        forwardedHeaders: 'append',
      },
      control: { host: '127.0.0.1', port: 9900, allowedHosts: [] },
      logLevel: 'info',
      versionHeader: 'x-switchyard-version',
      workers: 1,
      drainTimeout: 10_000,
      upstream: { connectTimeout: 5000, headersTimeout: 30_000, bodyTimeout: 30_000, keepAliveTimeout: 4000 },
      services: [
        {
          name: 'web',
          match: { pathPrefix: '/' },
          versions: { '1': { kind: 'targets', readyTimeoutMs: 60_000, targets: ['http://127.0.0.1:9001'] } },
          live: '1',
          routing: { retryOnOriginal: false, idempotentMethods: [] },
        },
      ],
      hooks: {},
      timeScale: 1,
      alarms: {},
      alarmEvaluationInterval: 250,
      store: { sqlite: `${process.cwd()}/data/switchyard.db` },
      recovery: { policy: 'resume', hookInFlight: 'rerun' },
      deploymentConfigs: {},
      applications: {},
      notifications: { timeout: 5_000, retryDelay: 500, giveUpAfter: 600_000 },
    });
  });

  it('gives each service its own defaults and freezes the result', () => {
    const config = parseConfig(
      withService(`  - name: a
    versions: { "1": { targets: [http://a] } }
    live: "1"
  - name: b
    match: { host: b.local }
    versions: { "1": { targets: [http://b] } }
    live: "1"
`),
      'two.yml',
      {},
    );
    expect(config.services[0]?.match).not.toBe(config.services[1]?.match);
    expect(config.services[1]?.match).toEqual({ host: 'b.local', pathPrefix: '/' });
    expect(Object.isFrozen(config)).toBe(true);
    const v1 = config.services[0]?.versions['1'];
    expect(v1?.kind === 'targets' && Object.isFrozen(v1.targets)).toBe(true);
  });

  it('takes durations as 500ms, 30s, 15m, 2h or whole milliseconds', () => {
    const config = parseConfig(
      `${MINIMAL}drainTimeout: 500ms\nupstream: { connectTimeout: 30s, headersTimeout: 15m, bodyTimeout: 2h, keepAliveTimeout: 250 }\n`,
      'd.yml',
      {},
    );
    expect(config.drainTimeout).toBe(500);
    expect(config.upstream).toEqual({
      connectTimeout: 30_000,
      headersTimeout: 900_000,
      bodyTimeout: 7_200_000,
      keepAliveTimeout: 250,
    });
  });

  it('takes sticky by cookie, a disabled version header, and a number where a label is expected', () => {
    const config = parseConfig(
      withService(
        `  - name: 42
    versions:
      1: { targets: [http://a] }
      2: { targets: [http://b] }
    live: 1
    weights: { 1: 50, 2: 50 }
    routing: { sticky: { cookie: session } }
`,
        'versionHeader: false\n',
      ),
      'c.yml',
      {},
    );
    expect(config.versionHeader).toBe(false);
    const service = config.services[0]!;
    expect(service.name).toBe('42');
    expect(service.live).toBe('1');
    expect(Object.keys(service.versions)).toEqual(['1', '2']);
    expect(service.weights).toEqual({ '1': 50, '2': 50 });
    expect(service.routing.sticky).toEqual({ cookie: 'session' });
  });
});

describe('parseConfig: environment substitution', () => {
  const TEXT = `listeners:
  production: { host: "\${HOST:-127.0.0.1}", port: "\${P:-8080}" }
drainTimeout: "\${DRAIN:-30s}"
services:
  - name: web
    versions:
      "1": { targets: ["http://\${BLUE_HOST}:\${BLUE_PORT:-9001}/v1"] }
      "2": { targets: ["http://127.0.0.1:9002"] }
    live: "\${LIVE:-1}"
    weights: { "1": "\${BLUE_WEIGHT:-90}", "2": 10 }
    routing: { overrideHeader: "\${PIN_HEADER:-x-pin}" }
`;

  it('uses defaults, and a whole-value variable reads as the number it stands for', () => {
    const config = parseConfig(TEXT, 'env.yml', { BLUE_HOST: 'blue.local' });
    expect(config.listeners.production).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.drainTimeout).toBe(30_000);
    const web = config.services[0]!;
    expect(web.versions['1']).toMatchObject({ targets: ['http://blue.local:9001/v1'] });
    expect(web.live).toBe('1');
    expect(web.weights).toEqual({ '1': 90, '2': 10 });
    expect(web.routing.overrideHeader).toBe('x-pin');
  });

  it('prefers the environment over the default', () => {
    const env = {
      HOST: '0.0.0.0',
      P: '18080',
      DRAIN: '500ms',
      BLUE_HOST: 'b',
      BLUE_PORT: '7000',
      LIVE: '2',
      BLUE_WEIGHT: '87.66',
    };
    const config = parseConfig(TEXT.replace('"2": 10 }', '"2": 12.34 }'), 'env.yml', env);
    expect(config.listeners.production).toEqual({ host: '0.0.0.0', port: 18_080 });
    expect(config.drainTimeout).toBe(500);
    expect(config.services[0]?.versions['1']).toMatchObject({ targets: ['http://b:7000/v1'] });
    expect(config.services[0]?.live).toBe('2');
    expect(config.services[0]?.weights).toEqual({ '1': 87.66, '2': 12.34 });
    // A substituted number is checked like a written one.
    expect(problems(TEXT, env)).toEqual(['x.yml:10:14 services[0].weights: must add up to 100, got 97.66']);
  });

  it('reports an unset variable without a default at its line and column', () => {
    expect(problems(TEXT, {})).toEqual([`x.yml:7:24: ${unset('BLUE_HOST')}`]);
  });

  it('treats an empty variable as unset', () => {
    expect(problems(TEXT, { BLUE_HOST: '' })).toEqual([`x.yml:7:24: ${unset('BLUE_HOST', 'is empty')}`]);
    expect(parseConfig(TEXT, 'env.yml', { BLUE_HOST: 'b', P: '' }).listeners.production.port).toBe(8080);
  });

  it('reports every unset variable, each where it stands', () => {
    const text = withService(`  - name: "\${NAME}"
    versions:
      "1": { targets: ["\${URL}"] }
    live: "1"
`);
    expect(problems(text)).toEqual([`x.yml:4:11: ${unset('NAME')}`, `x.yml:6:24: ${unset('URL')}`]);
  });

  it('leaves keys and comments alone and keeps a non-whole value a string', () => {
    const config = parseConfig(
      withService(`  # \${NOT_A_VALUE}
  - name: "svc-\${N:-1}"
    versions:
      "1": { targets: [http://a] }
    live: "1"
`),
      'k.yml',
      {},
    );
    expect(config.services[0]?.name).toBe('svc-1');
  });

  it('checks a substituted value against the schema at the place of the variable', () => {
    expect(problems(TEXT, { BLUE_HOST: 'b', P: 'eighty' })).toEqual([
      'x.yml:2:51 listeners.production.port: Invalid input: expected number, received string',
    ]);
  });
});

describe('parseConfig: errors', () => {
  it('points a bad target at its own line and column with its schema path', () => {
    const text = `# checkout behind switchyard
listeners:
  production: { host: 127.0.0.1, port: 8080 }
services:
  - name: checkout
    live: v1
    versions:
      v1:
        targets: [http://127.0.0.1:9001]
      v2:
        targets:
          - ftp://127.0.0.1:9002
          - http://127.0.0.1:9003
`;
    const err = rejection(text, {}, 'config/x.yml');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('config/x.yml: 1 problem');
    expect(err.issues.map(formatIssue)).toEqual([
      'config/x.yml:12:13 services[0].versions.v2.targets[0]: must be an http(s) URL',
    ]);
    expect(err.issues[0]).toEqual({
      location: { file: 'config/x.yml', line: 12, column: 13 },
      path: 'services[0].versions.v2.targets[0]',
      message: 'must be an http(s) URL',
    });
    expect(err.toJSON()).toEqual({
      error: 'CONFIG_INVALID',
      message: 'config/x.yml: 1 problem',
      issues: ['config/x.yml:12:13 services[0].versions.v2.targets[0]: must be an http(s) URL'],
    });
  });

  it('finds the node under an unquoted numeric key', () => {
    const text = withService(`  - name: web
    versions:
      1:
        targets:
          - http://a
          - not-a-url
    live: 1
`);
    expect(problems(text)).toEqual(['x.yml:9:13 services[0].versions.1.targets[1]: must be an http(s) URL']);
  });

  it('refuses a worker count that is neither a whole number from 0 to 256 nor auto', () => {
    const refusals = {
      '-1': 'must be at least 0',
      '257': 'must be at most 256',
      many: 'must be a whole number of workers or auto',
      '2.5': 'must be a whole number of workers or auto',
    };
    for (const [workers, message] of Object.entries(refusals)) {
      const err = rejection(`${MINIMAL}workers: ${workers}\n`);
      expect(err.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([`workers: ${message}`]);
    }
    expect(parseConfig(`${MINIMAL}workers: 3\n`, 'x.yml', {}).workers).toBe(3);
    // 0: a control plane that proxies nothing itself, its data planes all remote.
    expect(parseConfig(`${MINIMAL}workers: 0\n`, 'x.yml', {}).workers).toBe(0);
  });

  it('reports several problems at once, in file order', () => {
    const text = `listeners:
  production: { port: 70000 }
drainTimeout: soon
services:
  - name: web
    versions:
      "1": { targets: [ftp://a] }
      "2": { targets: [] }
    live: "3"
    weights: { "1": 50, "2": 40 }
    upstream: { connectTimeout: later }
  - name: web
    versions:
      "1": { targets: [http://a] }
    live: "1"
`;
    const err = rejection(text);
    expect(err.message).toBe('x.yml: 9 problems');
    expect(err.issues.map(formatIssue)).toEqual([
      'x.yml:2:23 listeners.production.port: must be a port number from 0 to 65535',
      'x.yml:3:15 drainTimeout: must be a duration such as 500ms, 30s or 15m, or a whole number of milliseconds, got "soon"',
      'x.yml:7:24 services[0].versions.1.targets[0]: must be an http(s) URL',
      'x.yml:8:23 services[0].versions.2.targets: a version needs at least one target',
      'x.yml:9:11 services[0].live: names no version of this service (versions: 1, 2)',
      'x.yml:10:14 services[0].weights: must add up to 100, got 90',
      'x.yml:11:33 services[0].upstream.connectTimeout: must be a duration such as 500ms, 30s or 15m, or a whole number of milliseconds, got "later"',
      'x.yml:12:5 services[1].match: matches the same host and path prefix as services[0]',
      'x.yml:12:11 services[1].name: duplicates services[0].name "web"',
    ]);
  });

  it('points unknown keys at the key itself', () => {
    const text = withService(
      `  - name: web
    versions:
      "1": { targets: [http://a], weight: 5 }
    live: "1"
    routing: { stiky: { header: x-user } }
`,
      'listners: {}\n',
    );
    expect(problems(text)).toEqual([
      'x.yml:3:1 listners: unknown key',
      'x.yml:7:35 services[0].versions.1.weight: unknown key',
      'x.yml:9:16 services[0].routing.stiky: unknown key',
    ]);
  });

  it('gives a YAML syntax error with its line and column, and no schema problems after it', () => {
    const text = withService(`  - name: web
    versions: { "1": { targets: [http://a] }
    live: "1"
`);
    expect(problems(text)).toEqual([
      'x.yml:6:5: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });

  it('rejects a match host with a port or path, which could never match', () => {
    for (const host of ['shop.local:8080', 'shop.local/x', '::1', '']) {
      const text = MINIMAL.replace('live: "1"', `live: "1"\n    match: { host: "${host}" }`);
      expect(problems(text)).toEqual([
        'x.yml:8:20 services[0].match.host: must be a host name (IPv6 in brackets), without port or path',
      ]);
    }
    const ok = MINIMAL.replace('live: "1"', 'live: "1"\n    match: { host: "[::1]" }');
    expect(parseConfig(ok, 'h.yml', {}).services[0]?.match.host).toBe('[::1]');
  });

  it('refuses an alias without an anchor and an alias bomb as problems, not crashes', () => {
    expect(problems(`${MINIMAL}upstream: *defaults\n`)).toEqual([
      'x.yml:8:11: alias *defaults names no anchor set before it',
    ]);
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 0, prev = 'a'; i < 6; prev = `b${i}`, i++) {
      bomb += `b${i}: &b${i} [${Array(10).fill(`*${prev}`).join(', ')}]\n`;
    }
    expect(problems(bomb)).toEqual(['x.yml:1:1: Excessive alias count indicates a resource exhaustion attack']);
  });

  it('rejects a key written twice', () => {
    const text = withService(`  - name: web
    name: web2
    versions: { "1": { targets: [http://a] } }
    live: "1"
`);
    expect(problems(text)).toEqual(['x.yml:5:5: Map keys must be unique']);
  });

  it('checks weights: sum, precision and labels', () => {
    const service = (weights: string) =>
      withService(`  - name: web
    versions:
      "1": { targets: [http://a] }
      "2": { targets: [http://b] }
    live: "1"
    weights: ${weights}
`);
    expect(problems(service('{ "1": 90, "2": 20 }'))).toEqual([
      'x.yml:9:14 services[0].weights: must add up to 100, got 110',
    ]);
    expect(problems(service('{ "1": 87.655, "2": 12.345 }'))).toEqual([
      'x.yml:9:14 services[0].weights: must add up to 100, got 100.01',
      'x.yml:9:21 services[0].weights.1: must have at most two decimals',
      'x.yml:9:34 services[0].weights.2: must have at most two decimals',
    ]);
    expect(problems(service('{ "1": 100, "3": 0 }'))).toEqual([
      'x.yml:9:31 services[0].weights.3: names no version of this service',
    ]);
    expect(problems(service('{ "1": 110, "2": -10 }'))).toEqual([
      'x.yml:9:21 services[0].weights.1: Too big: expected number to be <=100',
      'x.yml:9:31 services[0].weights.2: Too small: expected number to be >=0',
    ]);
    expect(parseConfig(service('{ "1": 0, "2": 100 }'), 'w.yml', {}).services[0]?.weights).toEqual({
      '1': 0,
      '2': 100,
    });
  });

  it('rejects live naming a missing version', () => {
    expect(problems(MINIMAL.replace('live: "1"', 'live: "2"'))).toEqual([
      'x.yml:7:11 services[0].live: names no version of this service (versions: 1)',
    ]);
  });

  it('rejects duplicate service names even when their routes differ', () => {
    const text = withService(`  - name: web
    versions: { "1": { targets: [http://a] } }
    live: "1"
  - name: web
    match: { pathPrefix: /other }
    versions: { "1": { targets: [http://b] } }
    live: "1"
`);
    expect(problems(text)).toEqual(['x.yml:7:11 services[1].name: duplicates services[0].name "web"']);
  });

  it('explains a sticky setting that names both or neither key', () => {
    const sticky = (value: string) => MINIMAL.replace('live: "1"', `live: "1"\n    routing: { sticky: ${value} }`);
    expect(problems(sticky('{ header: x-user, cookie: sid }'))).toEqual([
      'x.yml:8:24 services[0].routing.sticky: must name exactly one of header or cookie',
    ]);
    expect(problems(sticky('{}'))).toEqual([
      'x.yml:8:24 services[0].routing.sticky: must name exactly one of header or cookie',
    ]);
    expect(problems(sticky('{ header: "x user" }'))).toEqual([
      'x.yml:8:34 services[0].routing.sticky.header: must be a valid HTTP header name',
    ]);
  });

  it('reports missing required settings at the map that lacks them', () => {
    expect(problems('listeners:\n  production: { host: x }\nservices: []\n')).toEqual([
      'x.yml:2:15 listeners.production.port: is required',
      'x.yml:3:11 services: at least one service is needed',
    ]);
    expect(problems('logLevel: info\n')).toEqual([
      'x.yml:1:1 listeners: is required',
      'x.yml:1:1 services: is required',
    ]);
  });

  it('points at the file start when the file is empty or not a map', () => {
    expect(problems('')).toEqual(['x.yml:1:1: Invalid input: expected object, received null']);
    expect(problems('- a\n- b\n')).toEqual(['x.yml:1:1: Invalid input: expected object, received array']);
  });

  it('checks names, labels, prefixes and header names', () => {
    const text = withService(`  - name: "bad name"
    match: { pathPrefix: api }
    versions:
      "v 1": { targets: [http://a] }
    live: "v 1"
    routing: { overrideHeader: "x:pin" }
`);
    expect(problems(text)).toEqual([
      'x.yml:4:11 services[0].name: must be 1-140 letters, digits, dots, dashes or underscores',
      'x.yml:5:26 services[0].match.pathPrefix: must start with /',
      'x.yml:7:7 services[0].versions.v 1: must be 1-128 letters, digits, dots, dashes, underscores or colons',
      'x.yml:8:11 services[0].live: must be 1-128 letters, digits, dots, dashes, underscores or colons',
      'x.yml:9:32 services[0].routing.overrideHeader: must be a valid HTTP header name',
    ]);
  });

  it('reports a problem inside an alias where the anchored node stands', () => {
    const text = `listeners:
  production: { port: 8080 }
services:
  - name: web
    versions:
      "1": &shared { targets: [ftp://a] }
      "2": *shared
    live: "1"
`;
    expect(problems(text)).toEqual([
      'x.yml:6:32 services[0].versions.1.targets[0]: must be an http(s) URL',
      'x.yml:6:32 services[0].versions.2.targets[0]: must be an http(s) URL',
    ]);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and reports problems under its path', async () => {
    const good = join(dir, 'good.yml');
    await writeFile(good, MINIMAL);
    expect((await loadConfig(good, {})).services[0]?.name).toBe('web');
    const bad = join(dir, 'bad.yml');
    await writeFile(bad, MINIMAL.replace('http://127.0.0.1:9001', 'nope'));
    const err = await loadConfig(bad, {}).then(
      () => {
        throw new Error('expected the file to be rejected');
      },
      (e: unknown) => e as SwitchyardError,
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues.map(formatIssue)).toEqual([
      `${bad}:6:24 services[0].versions.1.targets[0]: must be an http(s) URL`,
    ]);
  });

  it('says CONFIG_NOT_FOUND for a file that cannot be read', async () => {
    const missing = join(dir, 'missing.yml');
    await expect(loadConfig(missing, {})).rejects.toMatchObject({
      code: 'CONFIG_NOT_FOUND',
      message: expect.stringContaining(missing),
    });
  });
});
