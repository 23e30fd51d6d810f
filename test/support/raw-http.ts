/**
 * Both ends of a proxied exchange on raw sockets, every byte recorded: an upstream that keeps exactly
 * what it received on each connection and answers each whole request it finds there, and a client that
 * sends bytes of the test's choosing and splits what comes back into responses. For probes where what
 * an HTTP library would tidy up (or refuse to send or parse) is the point.
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

import { onTestFinished } from 'vitest';

/** One HTTP/1.1 message as framed on the wire. */
export interface RawMessage {
  /** The request line or status line. */
  readonly start: string;
  readonly headers: readonly [string, string][];
  /** The body with its framing removed (chunks joined). */
  readonly body: string;
}

/** Values of one header, by case-insensitive name, in order. */
export function headerValues(message: RawMessage, name: string): string[] {
  return message.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/**
 * Splits `data` into whole messages; `rest` is what follows the last whole one. Strict on purpose: a
 * message that is not exactly CRLF-framed with one length (what undici and node:http write) is left in
 * `rest`, so a test expecting no rest sees it. `bodyless(start)` says a message has no body whatever
 * its headers say (1xx, a response to HEAD); a response with no length runs to the end (`toEnd`).
 */
export function parseMessages(
  data: Buffer,
  bodyless: (start: string) => boolean = () => false,
  toEnd = false,
): { messages: RawMessage[]; rest: Buffer } {
  const messages: RawMessage[] = [];
  let at = 0;
  for (;;) {
    const one = parseOne(data, at, bodyless, toEnd);
    if (one === undefined) break;
    messages.push(one.message);
    at = one.end;
  }
  return { messages, rest: data.subarray(at) };
}

function parseOne(
  data: Buffer,
  at: number,
  bodyless: (start: string) => boolean,
  toEnd: boolean,
): { message: RawMessage; end: number } | undefined {
  const headEnd = data.indexOf('\r\n\r\n', at);
  if (headEnd < 0) return undefined;
  const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n');
  const start = lines.shift()!;
  const headers = lines.map((l): [string, string] => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon), l.slice(colon + 1).trim()];
  });
  const message = { start, headers, body: '' };
  let pos = headEnd + 4;
  const te = headerValues(message, 'transfer-encoding');
  const cl = headerValues(message, 'content-length');
  if (bodyless(start)) return { message, end: pos };
  if (te.length === 1 && te[0]!.toLowerCase() === 'chunked' && cl.length === 0) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = data.indexOf('\r\n', pos);
      if (lineEnd < 0) return undefined;
      const sizeText = data.subarray(pos, lineEnd).toString('latin1');
      if (!/^[0-9a-f]+$/i.test(sizeText)) return undefined;
      const size = Number.parseInt(sizeText, 16);
      pos = lineEnd + 2;
      if (size === 0) {
        // No trailers: undici and node:http send none here.
        if (data.subarray(pos, pos + 2).toString('latin1') !== '\r\n') return undefined;
        return { message: { ...message, body: Buffer.concat(parts).toString('latin1') }, end: pos + 2 };
      }
      if (data.length < pos + size + 2 || data.subarray(pos + size, pos + size + 2).toString('latin1') !== '\r\n') {
        return undefined;
      }
      parts.push(data.subarray(pos, pos + size));
      pos += size + 2;
    }
  }
  if (te.length > 0 || cl.length > 1) return undefined;
  if (cl.length === 1) {
    if (!/^\d+$/.test(cl[0]!)) return undefined;
    const size = Number(cl[0]);
    if (data.length < pos + size) return undefined;
    return { message: { ...message, body: data.subarray(pos, pos + size).toString('latin1') }, end: pos + size };
  }
  if (toEnd) return { message: { ...message, body: data.subarray(pos).toString('latin1') }, end: data.length };
  return { message, end: pos };
}

/** A raw upstream: what each connection carried, and the requests that made up. */
export interface RawUpstream {
  readonly url: string;
  /** Every byte received, one buffer per connection, in the order the connections were accepted. */
  readonly received: Buffer[];
  /** The whole requests received on every connection, in the order they were complete. */
  requests(): RawMessage[];
  /** Bytes past the last whole request, across all connections (a stray or cut request). */
  rest(): string;
  /** Every byte received on every connection, as latin1. */
  all(): string;
  /** Connections accepted. */
  readonly connections: number;
}

/**
 * What the upstream does with each whole request: undefined to answer `200 ok` at once, or a promise
 * to wait for first.
 */
export type Hold = (request: RawMessage) => Promise<void> | undefined;

/**
 * Starts a raw upstream on 127.0.0.1:0 that answers every whole request it parses with `200` and a
 * body `ok`, in order per connection; closed when the current test finishes (or with the suite when
 * `autoClose` is false: then call the returned close).
 */
export async function startRawUpstream(
  hold: Hold = () => undefined,
  autoClose = true,
): Promise<RawUpstream & { close(): Promise<void> }> {
  const received: Buffer[] = [];
  const arrived: RawMessage[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const index = received.push(Buffer.alloc(0)) - 1;
    sockets.add(socket);
    let answered = 0;
    let queue = Promise.resolve();
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      received[index] = Buffer.concat([received[index]!, chunk]);
      const { messages } = parseMessages(received[index]);
      for (; answered < messages.length; answered++) {
        const request = messages[answered]!;
        arrived.push(request);
        queue = queue.then(async () => {
          await hold(request);
          if (!socket.destroyed) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  if (autoClose) onTestFinished(close);
  const parsed = () => received.map((data) => parseMessages(data));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    requests: () => [...arrived],
    rest: () =>
      parsed()
        .map((p) => p.rest.toString('latin1'))
        .join(''),
    all: () => received.map((b) => b.toString('latin1')).join(''),
    get connections() {
      return received.length;
    },
    close,
  };
}

/** What a raw client got back. */
export interface Conversation {
  /** Final responses, in order (interim 1xx ones are in `interim`). */
  readonly responses: RawMessage[];
  readonly interim: RawMessage[];
  /** Bytes after the last whole response. */
  readonly rest: string;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
}

/** An open raw connection: send bytes, wait for responses or the close. */
export interface RawClient {
  write(bytes: string | Buffer): void;
  /** Resolves once `count` final responses have arrived, or the server closed (5 s at most). */
  responses(count: number): Promise<Conversation>;
  /** Resolves once at least `count` interim (1xx) responses have arrived (5 s at most). */
  interim(count: number): Promise<Conversation>;
  /** Resolves once the server has closed the connection (5 s at most). */
  closed(): Promise<Conversation>;
  end(): void;
  /** Cuts the connection at once. */
  destroy(): void;
}

/** Opens a raw connection to 127.0.0.1:`port`; destroyed when the current test finishes. */
export function rawClient(port: number): RawClient {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  onTestFinished(() => {
    socket.destroy();
  });
  let data = Buffer.alloc(0);
  let closed = false;
  const waiters = new Set<() => void>();
  const conversation = (): Conversation => {
    const { messages, rest } = parseMessages(data, (start) => / 1\d\d /.test(`${start} `), closed);
    return {
      responses: messages.filter((m) => !/^HTTP\/1\.[01] 1\d\d/.test(m.start)),
      interim: messages.filter((m) => /^HTTP\/1\.[01] 1\d\d/.test(m.start)),
      rest: rest.toString('latin1'),
      closed,
    };
  };
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  const waitFor = (done: (c: Conversation) => boolean, what: string) =>
    new Promise<Conversation>((resolve, reject) => {
      const check = () => {
        const c = conversation();
        if (!done(c) && !c.closed) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(c);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what} not seen in 5 s; got ${data.toString('latin1')}`));
      }, 5_000);
      waiters.add(check);
      check();
    });
  return {
    write: (bytes) => socket.write(bytes),
    responses: (count) => waitFor((c) => c.responses.length >= count, `${count} responses`),
    interim: (count) => waitFor((c) => c.interim.length >= count, `${count} interim responses`),
    closed: () => waitFor(() => false, 'the close'),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}
