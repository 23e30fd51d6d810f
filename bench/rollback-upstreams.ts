/**
 * @module bench/rollback-upstreams
 * The rollback scenario's two upstreams, blue (version 1) and green (version 2), as node:http servers in
 * the bench process, so that green's notes (when it was switched to failing, when each load request
 * reached it) share one clock with the load generator's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

import { type FailureKind, LOAD_PATH, SLOW_EXTRA_MS } from './rollback-settings.js';

type GreenMode = 'ok' | FailureKind;

/** Blue and green on loopback; green can be switched to failing and back. */
export class UpstreamPair {
  mode: GreenMode = 'ok';
  /** When green was last switched to failing. */
  flippedAt = Number.NaN;
  /** Arrival times of load requests at green since the last reset (bounded by the run's length). */
  greenArrivals: number[] = [];

  readonly blue = createServer({ keepAliveTimeout: 60_000 }, (_req, res) => answer(res, 200, 'blue'));
  readonly green = createServer({ keepAliveTimeout: 60_000 }, (req, res) => this.#onGreen(req, res));
  urls: readonly [string, string] = ['', ''];

  /** Both servers listening on loopback. */
  static async start(): Promise<UpstreamPair> {
    const pair = new UpstreamPair();
    const ports = [await listen(pair.blue), await listen(pair.green)];
    pair.urls = [`http://127.0.0.1:${ports[0]}`, `http://127.0.0.1:${ports[1]}`];
    return pair;
  }

  #onGreen(req: IncomingMessage, res: ServerResponse): void {
    // Only the load counts: Install's health check (GET /) is not traffic the proxy routed.
    if (req.url?.startsWith(LOAD_PATH)) this.greenArrivals.push(performance.now());
    if (this.mode === '5xx') answer(res, 500, 'green broke');
    else if (this.mode === 'slow') setTimeout(() => answer(res, 200, 'green'), SLOW_EXTRA_MS);
    else answer(res, 200, 'green');
  }

  /** Switches green to failing and returns the instant it did. */
  flip(mode: FailureKind): number {
    this.mode = mode;
    this.flippedAt = performance.now();
    return this.flippedAt;
  }

  /** Lets green answer normally again; its notes are kept. */
  heal(): void {
    this.mode = 'ok';
  }

  /** Green healthy and its notes cleared, for the next run. */
  reset(): void {
    this.heal();
    this.greenArrivals = [];
    this.flippedAt = Number.NaN;
  }

  /** Closes both servers, dropping their keep-alive connections. */
  async close(): Promise<void> {
    for (const s of [this.blue, this.green]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, ['content-type', 'text/plain', 'content-length', String(text.length)]);
  res.end(text);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
