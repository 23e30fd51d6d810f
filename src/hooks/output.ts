/**
 * @module hooks/output
 * What an HTTP or command hook hands back to the runner (status, error code, message, output tail), and
 * the bounded buffer that keeps the end of a hook's output for `diagnostics.logTail`.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LifecycleErrorCode } from '../shifting/lifecycle.js';

/** How one hook attempt ended, before the runner adds the script name. */
export interface HookEnd {
  readonly status: 'Succeeded' | 'Failed';
  readonly errorCode: LifecycleErrorCode;
  readonly message: string;
  readonly logTail: string;
}

/** Lines and bytes of output kept as logTail: enough to see why, small enough to store per event. */
export const TAIL_LINES = 20;
export const TAIL_BYTES = 4096;

/** Keeps the last lines of one or more interleaved streams. */
export class TailBuffer {
  #text = '';
  readonly #decoders = new Map<unknown, StringDecoder>();

  /** Appends a chunk; `source` keeps multi-byte characters split across chunks of one stream intact. */
  push(chunk: Buffer | string, source: unknown = null): void {
    if (typeof chunk === 'string') {
      this.#text += chunk;
    } else {
      let decoder = this.#decoders.get(source);
      if (!decoder) this.#decoders.set(source, (decoder = new StringDecoder('utf8')));
      this.#text += decoder.write(chunk);
    }
    // Trimmed lazily at four times the budget so a chatty process costs amortised O(1) per byte.
    if (this.#text.length > TAIL_BYTES * 4) this.#text = this.#text.slice(-TAIL_BYTES * 2);
  }

  /** The last {@link TAIL_LINES} lines, at most {@link TAIL_BYTES} bytes, without a trailing newline. */
  tail(): string {
    const lines = this.#text.replace(/\n+$/, '').split('\n');
    const text = lines.slice(-TAIL_LINES).join('\n');
    const bytes = Buffer.from(text);
    if (bytes.length <= TAIL_BYTES) return text;
    // A cut inside a multi-byte character decodes as U+FFFD; drop it rather than show garbage.
    return bytes.subarray(-TAIL_BYTES).toString('utf8').replace(/^\uFFFD+/, '');
  }
}

/** A failed end with this code and message. */
export function failed(errorCode: LifecycleErrorCode, message: string, logTail = ''): HookEnd {
  return { status: 'Failed', errorCode, message, logTail };
}

/** A started hook attempt, as the runner drives it. */
export interface HookAttempt {
  /** Ends the attempt's work once the runner has an outcome from elsewhere (report, timeout, abort). */
  stop(why: 'report' | 'timeout' | 'abort'): void;
  /** The output so far, for diagnostics when the attempt did not end by itself. */
  tail(): string;
}

/** An error as one line: its code when the message lacks it, and the parts of an AggregateError. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) {
    return [...new Set(err.errors.map(describeError))].join('; ');
  }
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const message = err.message || err.name;
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
