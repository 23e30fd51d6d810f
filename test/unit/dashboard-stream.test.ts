import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { backoffMs, type SseEvent, SseParser } from '../../dashboard/stream.js';

function parseAll(chunks: string[]): SseEvent[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

const STREAM =
  ': switchyard deployment events\n\n' +
  'id: 41\nevent: deployment\ndata: {"a":1}\n\n' +
  ': keep-alive\n\n' +
  'id: 42\r\nevent: service\r\ndata: line one\r\ndata: line two\r\n\r\n' +
  'event: stats\rdata:no space\r\r' +
  'data\n\n';

const EXPECTED: SseEvent[] = [
  { id: '41', event: 'deployment', data: '{"a":1}' },
  { id: '42', event: 'service', data: 'line one\nline two' },
  { id: '42', event: 'stats', data: 'no space' },
  { id: '42', event: 'message', data: '' },
];

describe('dashboard SSE parser', () => {
  it('reads ids, types, multi-line data and every line ending, and skips comments', () => {
    expect(parseAll([STREAM])).toEqual(EXPECTED);
  });

  it('reads the same events however the stream is split into chunks', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: STREAM.length - 1 }), { maxLength: 20 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), STREAM.length];
        const chunks = at.slice(1).map((end, i) => STREAM.slice(at[i], end));
        expect(parseAll(chunks)).toEqual(EXPECTED);
      }),
    );
  });

  it('reads a stream one character at a time, "\\r" and "\\n" in separate chunks', () => {
    expect(parseAll(STREAM.split(''))).toEqual(EXPECTED);
  });

  it('keeps the last id for a reconnection, and dispatches nothing without data', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('7');
    expect(parser.push('id: 8\nevent: x\n')).toEqual([]);
    expect(parser.lastEventId).toBe('8');
    // An incomplete event is not dispatched until its blank line.
    expect(parser.push('data: y\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '8', event: 'x', data: 'y' }]);
  });
});

describe('dashboard stream back-off', () => {
  it('waits 0.5 s, then doubles up to 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });
});
