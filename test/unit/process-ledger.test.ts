/**
 * The process ledger stops only the process groups it wrote down: a group whose leader is still the
 * same process (same kernel start time), never one whose pid now names another process.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';

import { describe, expect, it, onTestFinished } from 'vitest';

import { stopLeftoverProcesses, storeLedger } from '../../src/app/leftover-processes.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { processStartTime, startedProcess, stopLeftovers } from '../../src/core/process-ledger.js';
import { MemoryStore } from '../../src/store/memory-store.js';

/**
 * A detached process group running `sleep` (ignoring SIGTERM when `stubborn`); killed when the test ends.
 * `ready` resolves once a stubborn one has set its trap (it says so on stdout), at once otherwise.
 */
function sleeper(stubborn = false): { pid: number; exited: Promise<NodeJS.Signals | null>; ready: Promise<void> } {
  const child = stubborn
    ? spawn('sh', ['-c', 'trap "" TERM; echo trapped; sleep 30'], {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
    : spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const ready = stubborn
    ? new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('trapped')) resolve();
        });
        void exited.then((signal) => reject(new Error(`the shell ended (${signal}) before it set its trap`)));
      })
    : Promise.resolve();
  return { pid: child.pid!, exited, ready };
}

describe('process ledger', () => {
  it('reads a live process start time, and none for a pid that is not running', () => {
    const { pid } = sleeper();
    expect(processStartTime(pid)).toMatch(/^\d+$/);
    expect(startedProcess(pid, 'x')).toEqual({ pid, host: hostname(), startTime: processStartTime(pid), what: 'x' });
    expect(processStartTime(2 ** 22 + 1)).toBeUndefined();
  });

  it('stops a kept group that is still the same process: SIGTERM, then SIGKILL after the grace', async () => {
    const s = sleeper();
    const clock = new ManualClock();
    expect(stopLeftovers([startedProcess(s.pid, 'sleeper')], clock, 5_000).map((p) => p.pid)).toEqual([s.pid]);
    expect(await s.exited).toBe('SIGTERM');
  });

  it('sends SIGKILL after the grace to a group that ignores SIGTERM, then says it is done with it', async () => {
    const s = sleeper(true);
    // The shell has set its trap before it is signalled.
    await s.ready;
    const clock = new ManualClock();
    const done: number[] = [];
    stopLeftovers([startedProcess(s.pid, 'stubborn')], clock, 5_000, (p) => done.push(p.pid));
    // An observation window, not a handshake: SIGTERM must leave it running for these 200 ms.
    await new Promise((r) => setTimeout(r, 200));
    expect(processStartTime(s.pid)).toBeDefined();
    expect(done).toEqual([]);
    await clock.advance(5_000);
    expect(await s.exited).toBe('SIGKILL');
    expect(done).toEqual([s.pid]);
  });

  it('leaves alone a pid whose start time differs (the kernel gave it to another process)', async () => {
    const s = sleeper();
    const clock = new ManualClock();
    const stale = { pid: s.pid, startTime: '1', what: 'an old one' };
    expect(stopLeftovers([stale, { pid: s.pid, startTime: undefined, what: 'no /proc' }], clock, 0)).toEqual([]);
    await clock.advance(10);
    // An observation window, not a handshake: a signal sent to it would have ended it within 100 ms.
    await new Promise((r) => setTimeout(r, 100));
    expect(processStartTime(s.pid)).toBeDefined();
  });

  it('in a store shared by hosts, stops only the leftovers of this host and leaves those of another written down', async () => {
    const mine = sleeper();
    const theirs = sleeper();
    const store = new MemoryStore();
    storeLedger(store).started(mine.pid, 'mine');
    // Written by a control plane on another host: the same pid and start time mean nothing here.
    const other = { ...startedProcess(theirs.pid, 'theirs'), host: 'another-host' };
    store.put('process', `another-host/${theirs.pid}`, other);
    stopLeftoverProcesses(store, new ManualClock(), createLogger({ level: 'silent' }));
    expect(await mine.exited).toBe('SIGTERM');
    // An observation window, not a handshake: SIGTERM, had it been sent, would have ended it by then.
    const window = new Promise((r) => setTimeout(() => r('running'), 300));
    expect(await Promise.race([theirs.exited.then(() => 'ended'), window])).toBe('running');
    expect(store.list('process').map((d) => d.key)).toEqual([
      `${hostname()}/${mine.pid}`,
      `another-host/${theirs.pid}`,
    ]);
  });
});
