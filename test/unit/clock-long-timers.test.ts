import { afterEach, describe, expect, it, vi } from 'vitest';

import { systemClock } from '../../src/core/clock.js';

const DAY_MS = 86_400_000;

afterEach(() => {
  vi.useRealTimers();
});

describe('systemClock: timers longer than setTimeout takes (2^31 - 1 ms, 24.8 days)', () => {
  it('a 30-day timer waits 30 days, rather than firing at once', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    systemClock.setTimer(30 * DAY_MS, fired);
    vi.advanceTimersByTime(1_000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - 2_000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('a long timer can still be cancelled, also after its first stretch', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancel = systemClock.setTimer(60 * DAY_MS, fired);
    vi.advanceTimersByTime(25 * DAY_MS);
    cancel();
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
  });

  it('an endless wait never fires', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    systemClock.setTimer(Number.POSITIVE_INFINITY, fired);
    vi.advanceTimersByTime(100 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
  });
});
