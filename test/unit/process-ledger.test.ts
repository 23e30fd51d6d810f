/**
 * The process ledger stops only the process groups it wrote down: a group whose leader is still the
 * same process (same kernel start time), never one whose pid now names another process.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { processStartTime, startedProcess, stopLeftovers } from '../../src/core/process-ledger.js';

/** A detached process group running `sleep`; killed when the test ends, whatever happened. */
function sleeper(): { pid: number; exited: Promise<NodeJS.Signals | null> } {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { pid: child.pid!, exited: new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))) };
}

describe('process ledger', () => {
  it('reads a live process start time, and none for a pid that is not running', () => {
    const { pid } = sleeper();
    expect(processStartTime(pid)).toMatch(/^\d+$/);
    expect(startedProcess(pid, 'x')).toEqual({ pid, startTime: processStartTime(pid), what: 'x' });
    expect(processStartTime(2 ** 22 + 1)).toBeUndefined();
  });

  it('stops a kept group that is still the same process: SIGTERM, then SIGKILL after the grace', async () => {
    const s = sleeper();
    const clock = new ManualClock();
    expect(stopLeftovers([startedProcess(s.pid, 'sleeper')], clock, 5_000).map((p) => p.pid)).toEqual([s.pid]);
    expect(await s.exited).toBe('SIGTERM');
  });

  it('leaves alone a pid whose start time differs (the kernel gave it to another process)', async () => {
    const s = sleeper();
    const clock = new ManualClock();
    const stale = { pid: s.pid, startTime: '1', what: 'an old one' };
    expect(stopLeftovers([stale, { pid: s.pid, startTime: undefined, what: 'no /proc' }], clock, 0)).toEqual([]);
    await clock.advance(10);
    await new Promise((r) => setTimeout(r, 100));
    expect(processStartTime(s.pid)).toBeDefined();
  });
});
