// @ts-check
/**
 * @module dashboard/stream
 * Server-sent events read with fetch() and a ReadableStream, since EventSource cannot send the
 * Authorization header: a parser for the event-stream format, and a stream that reconnects with
 * back-off and `Last-Event-ID` so that nothing still kept by the server is missed across a restart.
 */

/**
 * @typedef {object} SseEvent
 * @property {string} id the last event id seen (the stream's, carried over as the format says)
 * @property {string} event the event type ("message" when none is given)
 * @property {string} data the data lines joined by "\n"
 */

/** Parses the text/event-stream format from chunks split anywhere (even between "\r" and "\n"). */
export class SseParser {
  #buffer = '';
  #data = /** @type {string[]} */ ([]);
  #event = '';
  #sawData = false;
  /** The last event id, kept across events as the format says. */
  lastEventId = '';
  #skipNewline = false;

  /**
   * Feeds a chunk; returns the events it completed.
   * @param {string} chunk
   * @returns {SseEvent[]}
   */
  push(chunk) {
    /** @type {SseEvent[]} */
    const events = [];
    let text = chunk;
    if (this.#skipNewline && text.startsWith('\n')) text = text.slice(1);
    this.#skipNewline = false;
    this.#buffer += text;
    for (;;) {
      const end = this.#buffer.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.#buffer.slice(0, end);
      if (this.#buffer[end] === '\r') {
        // A "\r" at the chunk's end may be the first half of "\r\n": skip a "\n" the next chunk starts with.
        if (end + 1 === this.#buffer.length) this.#skipNewline = true;
        else if (this.#buffer[end + 1] === '\n')
          this.#buffer = this.#buffer.slice(0, end + 1) + this.#buffer.slice(end + 2);
      }
      this.#buffer = this.#buffer.slice(end + 1);
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /**
   * Takes one line; returns the event a blank line completes.
   * @param {string} line
   * @returns {SseEvent | undefined}
   */
  #line(line) {
    if (line === '') {
      const sawData = this.#sawData;
      const event = { id: this.lastEventId, event: this.#event || 'message', data: this.#data.join('\n') };
      this.#data = [];
      this.#event = '';
      this.#sawData = false;
      return sawData ? event : undefined;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.#data.push(value);
      this.#sawData = true;
    } else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    return undefined;
  }
}

/** The first wait before a reconnection, and the longest. */
export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 5000;

/** The wait after `failures` failed attempts in a row: 0.5 s, 1 s, 2 s, 4 s, then 5 s. */
export function backoffMs(/** @type {number} */ failures) {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * @typedef {object} StreamOptions
 * @property {string} url
 * @property {() => Record<string, string>} headers the headers of each attempt (the token may change)
 * @property {(event: SseEvent) => void} onEvent
 * @property {(connected: boolean) => void} onState called as the stream connects and drops
 * @property {() => void} [onOpen] called on each successful (re)connection, before its first event
 * @property {(message: string) => Promise<void>} onUnauthorized called on a 401 with its message; resolves when a new token is in place
 * @property {number} [silenceMs] how long a connection may stay silent before it is taken for dead (40 s)
 */

/**
 * Keeps a server-sent event stream open until closed: reconnects after each drop with back-off, sending
 * `Last-Event-ID` when an id has been seen.
 * @param {StreamOptions} options
 * @returns {{ close(): void }}
 */
export function openStream(options) {
  // The server writes at least a comment every 15 s: a connection silent for longer than this is dead
  // (a host that vanished without closing it), so it is dropped and made again.
  const silenceMs = options.silenceMs ?? 40_000;
  let closed = false;
  let failures = 0;
  /** @type {AbortController | undefined} */
  let controller;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const parser = new SseParser();

  const attempt = async () => {
    controller = new AbortController();
    /** @type {Record<string, string>} */
    const headers = { accept: 'text/event-stream', ...options.headers() };
    if (parser.lastEventId !== '') headers['last-event-id'] = parser.lastEventId;
    const response = await fetch(options.url, { headers, signal: controller.signal });
    if (response.status === 401) {
      /** @type {{ message?: unknown }} */
      const body = await response.json().then(
        (/** @type {unknown} */ json) => (json !== null && typeof json === 'object' ? json : {}),
        () => ({}),
      );
      await options.onUnauthorized(typeof body.message === 'string' ? body.message : 'a token is needed');
      return 'retry';
    }
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    failures = 0;
    options.onOpen?.();
    options.onState(true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const dropIfSilent = () => setTimeout(() => controller?.abort(), silenceMs);
    let silence = dropIfSilent();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(silence);
        silence = dropIfSilent();
        for (const event of parser.push(value)) options.onEvent(event);
      }
    } finally {
      clearTimeout(silence);
    }
    return 'ended';
  };

  const loop = async () => {
    if (closed) return;
    let retryNow = false;
    try {
      // A 401 answered with a new token: try again at once.
      retryNow = (await attempt()) === 'retry';
    } catch {
      // Dropped or refused: the page says so and keeps what it has, and the stream tries again.
    }
    if (closed) return;
    options.onState(false);
    if (!retryNow) failures += 1;
    timer = setTimeout(() => void loop(), retryNow ? 0 : backoffMs(failures));
  };

  void loop();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}
