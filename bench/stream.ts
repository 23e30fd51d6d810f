/**
 * @module bench/stream
 * Scenario (f): a 1 GiB body streamed up through switchyard and another streamed down, while its RSS is
 * sampled. The client never holds more than a chunk: the upload is generated chunk by chunk with
 * backpressure, the download is counted and dropped. Growth is the peak RSS during a transfer minus the
 * RSS of the warmed-up process before the first transfer.
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { get } from './http-util.js';
import { rssBytes, RssSampler } from './proc-stats.js';
import type { Target } from './targets.js';

/** One direction of the transfer. */
export interface TransferResult {
  readonly direction: 'upload' | 'download';
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerS: number;
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  readonly rssGrowthMb: number;
  /** True when the far end saw exactly the bytes sent. */
  readonly complete: boolean;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x64);
const RSS_SAMPLE_MS = 50;
const MB = 2 ** 20;

function* chunks(total: number): Generator<Buffer> {
  for (let left = total; left > 0; left -= CHUNK.length) yield left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
}

function responseOf(req: ReturnType<typeof request>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
}

async function upload(url: string, bytes: number, agent: Agent): Promise<boolean> {
  const req = request(`${url}/upload`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
  });
  const response = responseOf(req);
  await pipeline(Readable.from(chunks(bytes), { objectMode: false }), req);
  const res = await response;
  let body = '';
  res.setEncoding('utf8');
  for await (const text of res) body += text as string;
  return res.statusCode === 200 && Number(body) === bytes;
}

async function download(url: string, bytes: number, agent: Agent): Promise<boolean> {
  const req = request(`${url}/stream/${bytes}`, { agent });
  const response = responseOf(req);
  req.end();
  const res = await response;
  let received = 0;
  for await (const chunk of res) received += (chunk as Buffer).length;
  return res.statusCode === 200 && received === bytes;
}

async function measureTransfer(
  target: Target,
  direction: TransferResult['direction'],
  bytes: number,
  before: number,
  run: () => Promise<boolean>,
): Promise<TransferResult> {
  const sampler = new RssSampler(target.pids, RSS_SAMPLE_MS);
  const started = performance.now();
  let complete: boolean;
  let peak: number;
  try {
    complete = await run();
  } finally {
    peak = sampler.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    direction,
    bytes,
    seconds,
    mbPerS: bytes / MB / seconds,
    rssBeforeMb: before / MB,
    rssPeakMb: peak / MB,
    rssGrowthMb: (peak - before) / MB,
    complete,
  };
}

/** Streams `bytes` up and then down through `target`. */
export async function streamThrough(target: Target, bytes: number): Promise<TransferResult[]> {
  // A few small requests first, so the baseline is of a warmed-up process with its pools open.
  for (let i = 0; i < 20; i++) await get(`${target.url}/bytes/100`);
  await sleep(1_000);
  // One baseline for both directions: memory the upload leaves behind counts against the download too.
  const before = rssBytes(target.pids);
  const agent = new Agent({ keepAlive: false });
  try {
    return [
      await measureTransfer(target, 'upload', bytes, before, () => upload(target.url, bytes, agent)),
      await measureTransfer(target, 'download', bytes, before, () => download(target.url, bytes, agent)),
    ];
  } finally {
    agent.destroy();
  }
}
