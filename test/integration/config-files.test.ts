/**
 * Every file in config/ is a config the README points users at: each must parse with the real schema,
 * so the docs cannot drift from it. AppSpec files, when they come, are told apart by their content.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { parseDataPlaneConfig } from '../../src/config/data-plane.js';
import { DEFAULT_LISTENER_LIMITS } from '../../src/config/limits.js';
import { formatIssue, isSwitchyardError } from '../../src/core/errors.js';

const CONFIG_DIR = join(import.meta.dirname, '..', '..', 'config');
const files = readdirSync(CONFIG_DIR)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

/** AppSpec files carry `version` and `Resources`; they belong to the AppSpec parser, not this schema. */
function isAppSpec(text: string): boolean {
  return /^\s*["']?(version|Resources)["']?\s*:/m.test(text) && /Resources/.test(text);
}

/** A remote data plane's config names the control planes it follows; it has its own schema. */
const isDataPlane = (text: string) => /^controlPlanes\s*:/m.test(text);

const text = (f: string) => readFileSync(join(CONFIG_DIR, f), 'utf8');
const configs = files.filter((f) => !isAppSpec(text(f)) && !isDataPlane(text(f)));
const dataPlaneConfigs = files.filter((f) => isDataPlane(text(f)));

/** Parses with an environment, turning a rejection into readable lines so a failure says what drifted. */
function parse(name: string, env: NodeJS.ProcessEnv) {
  try {
    return parseConfig(readFileSync(join(CONFIG_DIR, name), 'utf8'), `config/${name}`, env);
  } catch (err) {
    if (isSwitchyardError(err)) throw new Error([err.message, ...err.issues.map(formatIssue)].join('\n'));
    throw err;
  }
}

describe('config/', () => {
  it('holds the example and the demo config', () => {
    expect(configs).toEqual(expect.arrayContaining(['demo.yml', 'example.yml']));
  });

  it.each(dataPlaneConfigs)('%s parses as a data plane config, with and without its variables', (name) => {
    expect(parseDataPlaneConfig(text(name), `config/${name}`, {}).listeners.production?.port).toBe(8181);
    const moved = parseDataPlaneConfig(text(name), `config/${name}`, { DATA_PLANE_PORT: '8282' });
    expect(moved.listeners.production?.port).toBe(8282);
  });

  it.each(configs)('%s parses with the schema and no environment', (name) => {
    const config = parse(name, {});
    expect(config.services.length).toBeGreaterThan(0);
    for (const service of config.services) {
      expect(Object.keys(service.versions)).toContain(service.live);
    }
  });

  it('config/example.yml says what the README tour says', () => {
    const config = parse('example.yml', {});
    expect(config.listeners).toEqual({
      production: { host: '127.0.0.1', port: 8080 },
      test: { host: '127.0.0.1', port: 8081 },
      limits: DEFAULT_LISTENER_LIMITS,
      forwardedHeaders: 'append',
    });
    expect(config.control).toEqual({ host: '127.0.0.1', port: 9900, allowedHosts: [] });
    expect(config.drainTimeout).toBe(10_000);
    const checkout = config.services[0]!;
    expect(checkout.name).toBe('checkout');
    expect(checkout.versions['2']).toMatchObject({ targets: ['http://127.0.0.1:9002', 'http://127.0.0.1:9003'] });
    expect(checkout.weights).toEqual({ '1': 90, '2': 10 });
    expect(checkout.routing).toEqual({
      sticky: { header: 'x-user-id' },
      overrideHeader: 'x-switchyard-version',
      retryOnOriginal: true,
      idempotentMethods: ['PUT'],
      mirror: { percent: 10, maxBodyBytes: 1024 * 1024 },
    });
    expect(Object.keys(config.alarms)).toEqual(['green-errors', 'green-p99', 'green-vs-blue', 'prom-errors']);
    expect(config.applications['shop']?.deploymentGroups['checkout-prod']?.alarmConfiguration).toEqual({
      enabled: true,
      alarms: [{ name: 'green-errors' }, { name: 'green-p99' }],
    });
    const search = config.services[1]!;
    expect(search.match).toEqual({ host: 'search.local', pathPrefix: '/api' });
    expect(search.upstream).toEqual({ headersTimeout: 2000 });
  });

  it('config/example.yml takes its variables from the environment', () => {
    const config = parse('example.yml', { SEARCH_HOST: '10.0.0.7' });
    expect(config.services[1]?.versions['blue']).toMatchObject({ targets: ['http://10.0.0.7:9011'] });
  });

  it('config/demo.yml moves its ports by environment variables, as numbers', () => {
    const defaults = parse('demo.yml', {});
    expect(defaults.listeners.production.port).toBe(8080);
    expect(defaults.listeners.test?.port).toBe(8081);
    expect(defaults.control.port).toBe(9900);
    expect(defaults.services[0]?.versions['1']).toMatchObject({ targets: ['http://127.0.0.1:9101'] });
    const moved = parse('demo.yml', {
      DEMO_PORT: '18080',
      DEMO_TEST_PORT: '18081',
      DEMO_CONTROL_PORT: '19900',
      DEMO_BLUE_PORT: '19101',
      DEMO_GREEN_PORT: '19102',
    });
    expect(moved.listeners.production.port).toBe(18_080);
    expect(moved.listeners.test?.port).toBe(18_081);
    expect(moved.control.port).toBe(19_900);
    expect(moved.services[0]?.versions['1']).toMatchObject({ targets: ['http://127.0.0.1:19101'] });
    expect(moved.services[0]?.versions['2']).toMatchObject({ targets: ['http://127.0.0.1:19102'] });
  });
});
