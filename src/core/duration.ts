/**
 * @module core/duration
 * Human durations (`500ms`, `30s`, `15m`, `2h`, `1d`) and byte sizes (`64KiB`, `1MiB`), and the zod schema
 * every file format uses for durations.
 */
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_MS[m[2]!]!);
}

/** A short human form of a millisecond count (`1500` → `1.5s`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(3)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(3)}m`;
  return `${+(ms / 3_600_000).toFixed(3)}h`;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/;
const SIZE_BYTES: Record<string, number> = {
  B: 1,
  KB: 1000,
  KiB: 1024,
  MB: 1_000_000,
  MiB: 1024 * 1024,
  GB: 1_000_000_000,
  GiB: 1024 * 1024 * 1024,
};

/** Bytes in a size string, or undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SIZE_BYTES[m[2] ?? 'B']!);
}

const SIZE_HINT = 'must be a size such as 64KiB or 1MiB, or a whole number of bytes';

/** A size written as `64KiB`, `1MiB`, `10MB` (or a whole number of bytes), in bytes. */
export const Size = z.union([z.number(), z.string()], { error: SIZE_HINT }).transform((value, ctx) => {
  const bytes =
    typeof value === 'number' ? (Number.isInteger(value) && value >= 0 ? value : undefined) : parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `${SIZE_HINT}, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return bytes;
});

const DURATION_HINT = 'must be a duration such as 500ms, 30s or 15m, or a whole number of milliseconds';

/** A duration written as `500ms`, `30s`, `15m`, `2h` (or a whole number of milliseconds), in ms. */
export const Duration = z
  // One union with one message, so that a bad value is reported by what it should be, not as "Invalid input".
  .union([z.number(), z.string()], { error: DURATION_HINT })
  .transform((value, ctx) => {
    const ms =
      typeof value === 'number' ? (Number.isInteger(value) && value >= 0 ? value : undefined) : parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${DURATION_HINT}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    // Past 2^53 a count of milliseconds is no longer exact, and what holds durations (the shifting
    // model, the store's schemas) refuses it: refused here, where the file or request can be told.
    if (ms > Number.MAX_SAFE_INTEGER) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${Number.MAX_SAFE_INTEGER} ms, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
