/**
 * The teardown a start and a running switchyard's close() share: steps run newest first, one at a time,
 * once however often close() is called, and a step that fails is logged without stopping the rest.
 */
import { describe, expect, it } from 'vitest';

import { Teardown } from '../../src/app/teardown.js';
import { createLogger } from '../../src/core/logger.js';
import { logSink } from '../support/log-sink.js';

function teardown() {
  const sink = logSink();
  return { teardown: new Teardown(createLogger({ level: 'info', destination: sink.stream })), lines: sink.lines };
}

describe('Teardown', () => {
  it('runs the steps in reverse order of registration, each after the one before has finished', async () => {
    const { teardown: t } = teardown();
    const ran: string[] = [];
    t.add('store', () => {
      ran.push('store');
    });
    t.add('data plane', async () => {
      await new Promise((r) => setTimeout(r, 20));
      ran.push('data plane');
    });
    t.add('engine', () => {
      ran.push('engine');
    });
    await t.close();
    expect(ran).toEqual(['engine', 'data plane', 'store']);
  });

  it('runs once: a second close() is the same close, with the first one’s ending', async () => {
    const { teardown: t } = teardown();
    const endings: string[] = [];
    t.add('piece', (ending) => {
      endings.push(ending);
    });
    const first = t.close('failed start');
    const second = t.close('stop');
    expect(second).toBe(first);
    await first;
    await t.close();
    expect(endings).toEqual(['failed start']);
  });

  it('tells each step why it runs: a stop unless told otherwise', async () => {
    const { teardown: t } = teardown();
    const endings: string[] = [];
    t.add('piece', (ending) => {
      endings.push(ending);
    });
    await t.close();
    expect(endings).toEqual(['stop']);
  });

  it('logs a step that throws or rejects, runs the rest, and still resolves', async () => {
    const { teardown: t, lines } = teardown();
    const ran: string[] = [];
    t.add('store', () => {
      ran.push('store');
    });
    t.add('control API', () => Promise.reject(new Error('already closed')));
    t.add('task sets', () => {
      ran.push('task sets');
    });
    t.add('engine', () => {
      throw new Error('stuck');
    });
    await expect(t.close()).resolves.toBeUndefined();
    expect(ran).toEqual(['task sets', 'store']);
    const failed = lines.filter((l) => l['msg'] === 'a closing step failed; closing the rest');
    expect(failed.map((l) => [l['step'], l['err']])).toEqual([
      ['engine', 'stuck'],
      ['control API', 'already closed'],
    ]);
  });

  it('runs a nested teardown as one of its steps, in its place', async () => {
    const { teardown: t } = teardown();
    const { teardown: inner, lines: innerLines } = teardown();
    const ran: string[] = [];
    t.add('store', () => {
      ran.push('store');
    });
    t.add('after the drain', (ending) => inner.close(ending));
    t.add('data plane', () => {
      ran.push('data plane');
    });
    inner.add('stats', () => {
      ran.push('stats');
    });
    inner.add('control API', () => {
      throw new Error('refused');
    });
    t.add('engine', () => {
      ran.push('engine');
    });
    await t.close();
    expect(ran).toEqual(['engine', 'data plane', 'stats', 'store']);
    expect(innerLines.map((l) => l['step'])).toEqual(['control API']);
  });
});
