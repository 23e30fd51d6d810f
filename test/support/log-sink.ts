/**
 * A pino destination that keeps each JSON line it is given, so tests assert on what was logged.
 */
import { Writable } from 'node:stream';

/** A stream to log into, and the parsed lines written to it so far. */
export function logSink(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}
