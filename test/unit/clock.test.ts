import { describe, expect, it } from 'vitest';

import { ManualClock, scaledClock, systemClock } from '../../src/core/clock.js';

describe('ManualClock', () => {
  it('starts where told and moves only on advance', async () => {
    const clock = new ManualClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('fires timers in time order, each at its own instant, ties in the order they were set', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const mark = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimer(300, mark('c'));
    clock.setTimer(100, mark('a'));
    clock.setTimer(200, mark('b1'));
    clock.setTimer(200, mark('b2'));
    clock.setTimer(301, mark('late'));
    await clock.advance(300);
    expect(fired).toEqual(['a@100', 'b1@200', 'b2@200', 'c@300']);
    expect(clock.pending).toBe(1);
    expect(clock.now()).toBe(300);
    await clock.advance(1);
    expect(fired.at(-1)).toBe('late@301');
    expect(clock.pending).toBe(0);
  });

  it('does not fire cancelled timers, even when cancelled by an earlier timer at the same instant', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const cancelA = clock.setTimer(50, () => fired.push('a'));
    cancelA();
    cancelA();
    let cancelC = () => {};
    clock.setTimer(100, () => {
      fired.push('b');
      cancelC();
    });
    cancelC = clock.setTimer(100, () => fired.push('c'));
    expect(clock.pending).toBe(2);
    await clock.advance(1000);
    expect(fired).toEqual(['b']);
    expect(clock.pending).toBe(0);
  });

  it('fires timers that timers set, when they fall due within the same advance', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const tick = () => {
      at.push(clock.now());
      if (at.length < 5) clock.setTimer(10, tick);
    };
    clock.setTimer(10, tick);
    await clock.advance(35);
    expect(at).toEqual([10, 20, 30]);
    await clock.advance(100);
    expect(at).toEqual([10, 20, 30, 40, 50]);
  });

  it('lets promise chains settle after each timer, before the next one fires', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));
    const run = (async () => {
      await sleep(100);
      log.push(`woke@${clock.now()}`);
      await Promise.resolve();
      await sleep(100);
      log.push(`woke again@${clock.now()}`);
    })();
    clock.setTimer(150, () => log.push('timer@150'));
    await clock.advance(200);
    expect(log).toEqual(['woke@100', 'timer@150', 'woke again@200']);
    await run;
  });

  it('treats a negative delay as zero and refuses to move backwards', async () => {
    const clock = new ManualClock(500);
    let fired = false;
    clock.setTimer(-10, () => {
      fired = true;
    });
    await clock.advance(0);
    expect(fired).toBe(true);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError);
    expect(clock.now()).toBe(500);
  });
});

describe('scaledClock', () => {
  it('runs durations timeScale times faster against its base', async () => {
    const base = new ManualClock(10_000);
    const clock = scaledClock(60, base);
    expect(clock.now()).toBe(10_000);
    let fired = false;
    clock.setTimer(60_000, () => {
      fired = true;
    });
    await base.advance(999);
    expect(fired).toBe(false);
    expect(clock.now()).toBe(10_000 + 999 * 60);
    await base.advance(1);
    expect(fired).toBe(true);
    expect(clock.now()).toBe(10_000 + 60_000);
  });

  it('cancels through to the base clock', async () => {
    const base = new ManualClock();
    const cancel = scaledClock(10, base).setTimer(100, () => {
      throw new Error('cancelled timer fired');
    });
    cancel();
    await base.advance(1000);
    expect(base.pending).toBe(0);
  });

  it('is the base itself at scale 1 and rejects scales that are not finite and positive', () => {
    expect(scaledClock(1)).toBe(systemClock);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => scaledClock(bad)).toThrow(RangeError);
    }
  });
});

describe('systemClock', () => {
  it('fires a real timer and can cancel one', async () => {
    let cancelledFired = false;
    const cancel = systemClock.setTimer(5, () => {
      cancelledFired = true;
    });
    cancel();
    const start = systemClock.now();
    await new Promise<void>((resolve) => systemClock.setTimer(10, resolve));
    expect(systemClock.now() - start).toBeGreaterThanOrEqual(9);
    expect(cancelledFired).toBe(false);
  });
});
