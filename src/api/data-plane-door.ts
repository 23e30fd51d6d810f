/**
 * @module api/data-plane-door
 * Where remote data planes come in: an HTTP upgrade to a WebSocket at `GET /v1/data-planes/connect` on
 * the control API's own listener, held to the same rules as every other call (the Host guard, then
 * `control.auth`'s bearer token) before the handshake, so a refused peer never holds a socket. Any other
 * upgrade is answered 404.
 */
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';

import type { ControlAuth } from '../config/schema.js';
import { DATA_PLANE_CONNECT_PATH, MAX_MESSAGE_BYTES } from '../core/data-channel.js';
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { bearerRefusal } from './auth/bearer.js';
import { hostAllowed, type HostRule } from './host-guard.js';
import type { DataPlaneRoster } from './rest/data-planes.js';

/** What the door checks and where it hands a connection. */
export interface DataPlaneDoorOptions {
  readonly roster: DataPlaneRoster;
  readonly log: Logger;
  readonly auth?: ControlAuth | undefined;
  readonly hosts?: HostRule | undefined;
}

/** Answers an upgrade request with an error instead of a handshake, and closes the socket. */
function refuse(socket: Duplex, error: SwitchyardError, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(error.toJSON());
  const status = error.statusCode;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** Why `req` may not connect (the error to answer with), or undefined when it may. */
function refusal(req: IncomingMessage, options: DataPlaneDoorOptions): SwitchyardError | undefined {
  const { auth, hosts } = options;
  if (hosts && !hostAllowed(req.headers.host, hosts)) {
    return new SwitchyardError(
      'HOST_NOT_ALLOWED',
      `the control API does not answer for Host "${req.headers.host ?? ''}"; add it to control.allowedHosts if it is yours`,
    );
  }
  if (!auth) return undefined;
  const header = req.headers.authorization;
  const reason = auth.token === undefined ? 'no token configured' : bearerRefusal(header, auth.token);
  if (reason === undefined) return undefined;
  options.log.warn(
    { method: req.method, url: req.url, remoteAddress: req.socket.remoteAddress, reason },
    'control API call refused',
  );
  return new SwitchyardError(
    'UNAUTHORIZED',
    auth.token === undefined
      ? 'this control API has no control.auth.token, so data planes cannot connect to it'
      : 'this control API needs "Authorization: Bearer <token>" with the token of control.auth.token (a data plane sends --token or $SWITCHYARD_TOKEN)',
  );
}

/** Takes WebSocket upgrades on `app`'s server: data planes at the connect path, nothing else. */
export function openDataPlaneDoor(app: FastifyInstance, options: DataPlaneDoorOptions): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A peer that goes away mid-handshake must not end the process.
    socket.on('error', () => undefined);
    const problem = refusal(req, options);
    if (problem) {
      const challenge: Record<string, string> =
        problem.code === 'UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="switchyard"' } : {};
      return refuse(socket, problem, challenge);
    }
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== DATA_PLANE_CONNECT_PATH) {
      return refuse(
        socket,
        new SwitchyardError('NO_ROUTE', `no upgrade at ${req.method} ${req.url} on the control API`),
      );
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const address = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
      options.roster.accept(ws, address);
    });
  });
  app.addHook('onClose', async () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
}
