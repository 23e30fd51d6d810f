import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration, parseSize } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    ['0ms', 0],
    ['0.5m', 30_000],
    [' 10s ', 10_000],
    ['10 s', 10_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', 's', '-5s', '5 seconds', '5S', '1m30s', '1e3ms', '.5s', 'ms10', '5x'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999, '999ms'],
    [1500, '1.5s'],
    [60_000, '1m'],
    [90_000, '1.5m'],
    [3_600_000, '1h'],
  ])('%d → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('reads back through parseDuration', () => {
    for (const ms of [250, 1500, 45_000, 900_000, 7_200_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('parseSize', () => {
  it.each([
    ['100', 100],
    ['100B', 100],
    ['64KiB', 65_536],
    ['64KB', 64_000],
    ['1MiB', 1_048_576],
    ['1.5MiB', 1_572_864],
    ['2MB', 2_000_000],
    ['1GiB', 1_073_741_824],
    ['1GB', 1_000_000_000],
    [' 8 KiB ', 8192],
  ])('%j → %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'KiB', '-1KiB', '1TiB', '1kib', '1 k', 'ten'])('rejects %j', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});
