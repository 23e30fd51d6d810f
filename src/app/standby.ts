/**
 * @module app/standby
 * What a control plane that does not lead answers while it waits to: its control address forwards every
 * API call to the leader (reads and writes alike, so awscli or an SDK pointed at any control plane of a
 * fleet works), and says so in a header. With no leader known or reachable it answers 503 naming what it
 * knows. Data planes asking to connect are told to try the next control URL, since a channel must reach
 * the leader itself. The server closes when this process takes the lead, and the full API binds there.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { request } from 'undici';

import { describeError } from '../core/describe-error.js';
import type { Logger } from '../core/logger.js';

/** Who leads, as the shared store records it. */
export interface LeaderInfo {
  readonly name: string;
  readonly controlUrl: string;
}

/** What a standby needs to know. */
export interface StandbySetting {
  readonly host: string;
  readonly port: number;
  /** This control plane's name, sent back in every answer. */
  readonly name: string;
  /** The leader now, or undefined when none is recorded. */
  readonly leader: () => Promise<LeaderInfo | undefined>;
  readonly log: Logger;
}

/** A running standby front; close() frees its address for the full control API. */
export interface StandbyFront {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
]);
/** A forwarded call may take this long for the leader's answer to start. */
const FORWARD_HEADERS_TIMEOUT_MS = 30_000;

/** Starts the standby front on the control address. */
export async function standBy(setting: StandbySetting): Promise<StandbyFront> {
  const server = createServer((req, res) => void forward(setting, req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => void refuseUpgrade(setting, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(setting.port, setting.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { address: server.address() as AddressInfo, close: () => closeServer(server) };
}

async function forward(setting: StandbySetting, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader('x-switchyard-standby', setting.name);
  let leader: LeaderInfo | undefined;
  try {
    leader = await setting.leader();
  } catch (err) {
    return unavailable(res, `the shared store cannot say who leads: ${describeError(err)}`);
  }
  if (!leader) return unavailable(res, `${setting.name} stands by and no control plane leads yet`);
  try {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const bodyless = req.method === 'GET' || req.method === 'HEAD';
    const answer = await request(new URL(req.url ?? '/', leader.controlUrl), {
      method: req.method as 'GET',
      headers,
      body: bodyless ? null : req,
      headersTimeout: FORWARD_HEADERS_TIMEOUT_MS,
    });
    res.statusCode = answer.statusCode;
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value);
    }
    res.setHeader('x-switchyard-leader', leader.name);
    await pipeline(answer.body, res);
  } catch (err) {
    setting.log.warn({ err, leader: leader.name }, 'standby: forwarding to the leader failed');
    if (!res.headersSent)
      unavailable(
        res,
        `the leader ${leader.name} at ${leader.controlUrl} did not answer: ${describeError(err)}`,
        leader,
      );
    else res.destroy();
  }
}

function unavailable(res: ServerResponse, message: string, leader?: LeaderInfo): void {
  const body = JSON.stringify({ error: 'STORE_NOT_LEADER', message, leader: leader ?? null });
  res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(body);
}

async function refuseUpgrade(setting: StandbySetting, socket: Duplex): Promise<void> {
  const leader = await setting.leader().catch(() => undefined);
  const body = JSON.stringify({
    error: 'STORE_NOT_LEADER',
    message: `${setting.name} stands by: connect to the leader${leader ? ` ${leader.name} at ${leader.controlUrl}` : ''}`,
  });
  socket.end(
    `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
