import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { formatIssue, isSwitchyardError } from '../../src/core/errors.js';

/** A valid file whose `listeners` block ends with `limits` (YAML flow style, or nothing). */
function withLimits(limits?: string): string {
  return (
    'listeners:\n  production: { port: 8080 }\n' +
    (limits === undefined ? '' : `  limits: ${limits}\n`) +
    'services:\n  - name: web\n    versions:\n      "1": { targets: [http://127.0.0.1:9001] }\n    live: "1"\n'
  );
}

/** Every problem parseConfig finds in `text`, formatted as the CLI prints them. */
function problems(text: string): string[] {
  try {
    parseConfig(text, 'x.yml', {});
  } catch (err) {
    if (isSwitchyardError(err)) return err.issues.map((issue) => formatIssue(issue).replace(/^x\.yml:\d+:\d+ /, ''));
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('listeners.limits', () => {
  it('has a default for every limit', () => {
    expect(parseConfig(withLimits(), 'x.yml', {}).listeners.limits).toEqual({
      headersTimeout: 10_000,
      bodyTimeout: 60_000,
      keepAliveTimeout: 5_000,
      maxConnections: 1024,
      maxRequestsInFlight: 1024,
      maxHeaderSize: 16 * 1024,
    });
  });

  it('reads durations and sizes, keeping the defaults of the limits it does not name', () => {
    const limits = parseConfig(withLimits('{ headersTimeout: 2s, maxHeaderSize: 32KiB }'), 'x.yml', {}).listeners
      .limits;
    expect(limits).toEqual({
      headersTimeout: 2_000,
      bodyTimeout: 60_000,
      keepAliveTimeout: 5_000,
      maxConnections: 1024,
      maxRequestsInFlight: 1024,
      maxHeaderSize: 32 * 1024,
    });
  });

  it('refuses a limit of 0, which Node would read as no limit, and an unknown key', () => {
    expect(
      problems(withLimits('{ headersTimeout: 0, bodyTimeout: 0ms, maxConnections: 0, maxHeaderSize: 10, slow: 1s }')),
    ).toEqual([
      'listeners.limits.headersTimeout: must be at least 1ms',
      'listeners.limits.bodyTimeout: must be at least 1ms',
      'listeners.limits.maxConnections: must be at least 1',
      'listeners.limits.maxHeaderSize: must be at least 1KiB',
      'listeners.limits.slow: unknown key',
    ]);
  });
});
