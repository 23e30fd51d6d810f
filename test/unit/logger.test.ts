import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../../src/core/logger.js';
import { logSink } from '../support/log-sink.js';

const sink = logSink;

describe('logger', () => {
  const saved = process.env['LOG_LEVEL'];
  afterEach(() => {
    if (saved === undefined) delete process.env['LOG_LEVEL'];
    else process.env['LOG_LEVEL'] = saved;
  });

  it('writes JSON lines at the configured level', () => {
    delete process.env['LOG_LEVEL'];
    const { stream, lines } = sink();
    const log = createLogger({ level: 'warn', destination: stream });
    log.info('hidden');
    log.warn({ service: 'web' }, 'shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'shown', service: 'web', name: 'switchyard' });
  });

  it('lets LOG_LEVEL in the environment win over the config', () => {
    process.env['LOG_LEVEL'] = 'debug';
    const { stream, lines } = sink();
    const log = createLogger({ level: 'warn', destination: stream });
    log.debug('now shown');
    expect(lines.map((l) => l['msg'])).toEqual(['now shown']);
  });

  it('ignores a LOG_LEVEL that is not a level', () => {
    process.env['LOG_LEVEL'] = 'loud';
    const { stream, lines } = sink();
    createLogger({ level: 'error', destination: stream }).warn('hidden');
    expect(lines).toEqual([]);
  });

  it('carries child bindings on every line', () => {
    delete process.env['LOG_LEVEL'];
    const { stream, lines } = sink();
    createLogger({ destination: stream }).child({ deploymentId: 'd-1' }).info('x');
    expect(lines[0]).toMatchObject({ deploymentId: 'd-1', msg: 'x' });
  });
});
