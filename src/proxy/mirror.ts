/**
 * @module proxy/mirror
 * Traffic mirroring: a copy of a production request goes to the replacement in the background, its
 * answer read and discarded, so the replacement's counters fill (and alarms can judge it) before it takes
 * any real traffic. Nothing about the copy may delay or change the client's own request: a body is teed
 * as it streams to the real target and copied only up to a size limit, and the copy is sent only once the
 * client's body has fully arrived.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { PassThrough, type Readable } from 'node:stream';

import type { Dispatcher } from 'undici';

import { FULL_WEIGHT } from '../core/route-table.js';
import { OUTCOME_ERROR, outcomeOf } from '../core/stats-delta.js';
import type { VersionStats } from '../core/stats-recorder.js';
import type { CompiledVersion } from './compiled-version.js';
import { upstreamRequestHeaders } from './headers.js';
import { chargedToTarget, failureCode } from './proxy-error.js';

/** Marks a mirrored copy, so the replacement can tell a shadow request from a real one. */
const MIRROR_HEADER = 'x-switchyard-mirror';

/** Where copies go and how many: an exact share, as the split is (1 in 10 at 10%, not "about"). */
export class CompiledMirror {
  #credit = 0;

  constructor(
    readonly version: CompiledVersion,
    /** Counts the copies' outcomes apart from the requests the version really served. */
    readonly stats: VersionStats,
    readonly weight: number,
    readonly maxBodyBytes: number,
  ) {}

  /** Whether this request is one to copy. */
  take(): boolean {
    this.#credit += this.weight;
    if (this.#credit < FULL_WEIGHT) return false;
    this.#credit -= FULL_WEIGHT;
    return true;
  }
}

/** Reads a mirrored answer to the end, counts its outcome and keeps nothing. */
class MirrorHandler implements Dispatcher.DispatchHandler {
  #status = 0;
  #done = false;

  constructor(
    readonly stats: VersionStats,
    readonly started: number,
  ) {}

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    if (statusCode >= 200) this.#status = statusCode;
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.#finish(outcomeOf(this.#status));
  }

  onError(err: Error): void {
    // A copy the proxy could not build, or one cut by a local shortage, says nothing of the mirror version.
    if (chargedToTarget(failureCode(err))) this.#finish(OUTCOME_ERROR);
    else this.#done = true;
  }

  #finish(outcome: number): void {
    if (this.#done) return;
    this.#done = true;
    this.stats.record(outcome, performance.now() - this.started);
  }
}

function send(req: IncomingMessage, mirror: CompiledMirror, body: Buffer | null): void {
  const upstream = mirror.version.nextUpstream();
  if (!upstream) return;
  const headers = upstreamRequestHeaders(req.rawHeaders, {
    clientAddress: req.socket.remoteAddress ?? '',
    proto: 'http',
  });
  headers.push(MIRROR_HEADER, 'true');
  upstream.pool.dispatch(
    {
      path: upstream.basePath === '' ? req.url! : upstream.basePath + req.url!,
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body,
    },
    new MirrorHandler(mirror.stats, performance.now()),
  );
}

/**
 * Sends a copy of `req` to the mirror's version. Without a body the copy goes at once and undefined is
 * returned; with one, the returned stream is what the real request must read its body from (a tee), and
 * the copy follows once the body is complete, if it was no larger than the limit.
 */
export function mirrorRequest(req: IncomingMessage, mirror: CompiledMirror, hasBody: boolean): Readable | undefined {
  if (!hasBody) {
    send(req, mirror, null);
    return undefined;
  }
  const tee = new PassThrough();
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (chunk: Buffer) => {
    if (!tooBig) {
      size += chunk.length;
      if (size > mirror.maxBodyBytes) {
        tooBig = true;
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    }
    // The real request's pace sets the client's: the copy never holds it back.
    if (!tee.write(chunk)) req.pause();
  });
  tee.on('drain', () => req.resume());
  req.once('end', () => {
    tee.end();
    if (!tooBig) send(req, mirror, Buffer.concat(chunks, size));
  });
  req.once('error', (err) => tee.destroy(err));
  req.once('close', () => {
    if (!req.complete) tee.destroy(new Error('client closed the connection'));
  });
  return tee;
}
