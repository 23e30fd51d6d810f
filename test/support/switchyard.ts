/**
 * Starts a real switchyard (listeners and control API on 127.0.0.1:0) from a config given as an object,
 * through the same YAML loader the CLI uses. It is closed when the current test finishes.
 */
import { dirname, join } from 'node:path';

import { inject, onTestFinished } from 'vitest';
import { stringify } from 'yaml';

import { parseConfig } from '../../src/app/config.js';
import { type StartOptions, startSwitchyard, type Switchyard } from '../../src/app/start.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/core/logger.js';

/** A loose config object; listeners and control default to port 0 on loopback. */
export type ConfigInput = Record<string, unknown> & { services: unknown[] };

/** Validates a config object exactly as a file with the same content would be. */
export function configFrom(input: ConfigInput): Config {
  const full = {
    listeners: { production: { host: '127.0.0.1', port: 0 }, test: { host: '127.0.0.1', port: 0 } },
    control: { host: '127.0.0.1', port: 0 },
    drainTimeout: '2s',
    // Each test its own state; a test of the SQLite store names a file of its own.
    store: 'memory',
    ...input,
  };
  return parseConfig(stringify(full), 'test.yml', {});
}

/** The Node bootstrap of function versions, as built for this test run (switchyard runs from source here). */
export function builtNodeBootstrap(): string {
  return join(dirname(dirname(inject('cliMain'))), 'functions', 'node-runtime', 'bootstrap.js');
}

/** Starts switchyard for one test. */
export async function startProxy(
  input: ConfigInput,
  options: { autoClose?: boolean } & Omit<StartOptions, 'clock'> = {},
): Promise<Switchyard> {
  const { autoClose: _, ...start } = options;
  const sy = await startSwitchyard(configFrom(input), {
    log: createLogger({ level: 'silent' }),
    nodeBootstrap: builtNodeBootstrap(),
    ...start,
  });
  if (options.autoClose !== false) onTestFinished(() => sy.close());
  return sy;
}

/** A one-service config: versions "1" (live) and "2" with the given targets and optional weights. */
export function twoVersions(blue: string, green: string, extra: Record<string, unknown> = {}): ConfigInput {
  return {
    services: [
      {
        name: 'web',
        versions: { '1': { targets: [blue] }, '2': { targets: [green] } },
        live: '1',
        ...extra,
      },
    ],
  };
}
