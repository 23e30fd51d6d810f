/**
 * @module core/tail-buffer
 * The bounded buffer that keeps the end of a process's or a hook's output: what `diagnostics.logTail`
 * and a failed start show.
 */
import { StringDecoder } from 'node:string_decoder';

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
    return bytes
      .subarray(-TAIL_BYTES)
      .toString('utf8')
      .replace(/^\uFFFD+/, '');
  }
}
