/**
 * @module api/sse
 * One server-sent event stream on a fastify reply, as `/v1/events` and `/v1/stats/stream` open it: the
 * headers, a first comment, a comment every 15 s so that idle connections (and proxies between) do not
 * time out, and the stream held for shutdown to end. What it sends is the caller's.
 */
import type { FastifyReply } from 'fastify';

import type { Clock } from '../core/clock.js';
import type { EventStream } from './event-stream.js';

const HEARTBEAT_MS = 15_000;

/** An open stream: write frames to it; `onClose` runs once the client is gone or shutdown ended it. */
export interface OpenStream {
  write(frame: string): void;
  onClose(done: () => void): void;
}

/** Takes `reply` over as a server-sent event stream, starting with the comment `title`. */
export function openSse(
  reply: FastifyReply,
  title: string,
  { clock, streams }: { readonly clock: Clock; readonly streams: Pick<EventStream, 'hold'> },
): OpenStream {
  const raw = reply.raw;
  // Written by hand for as long as it is open; fastify sends nothing of its own.
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  raw.write(`: ${title}\n\n`);
  let cancel = () => {};
  const beat = () => {
    raw.write(': keep-alive\n\n');
    cancel = clock.setTimer(HEARTBEAT_MS, beat);
  };
  cancel = clock.setTimer(HEARTBEAT_MS, beat);
  streams.hold(raw);
  raw.on('close', () => cancel());
  return {
    write: (frame) => void raw.write(frame),
    onClose: (done) => void raw.on('close', done),
  };
}
