/**
 * @module proxy/websocket
 * WebSocket (and other HTTP/1.1 Upgrade) tunnels through http-proxy, to the version the same split picks.
 * Upgraded sockets are tracked so a shutdown can end them after the drain timeout.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { CompiledVersion } from './compiled-table.js';
import type { Upstream } from './pools.js';
import { OUTCOME_ERROR } from './stats.js';

/** Proxies upgrade requests and remembers their sockets until they close. */
export class UpgradeProxy {
  readonly #proxy = httpProxy.createProxyServer({ ws: true, xfwd: true });
  readonly #sockets = new Set<Duplex>();

  constructor() {
    // Errors are handled per call; this listener only keeps an unexpected one from crashing the process.
    this.#proxy.on('error', (_err, _req, socket) => {
      if (socket && 'destroy' in socket) (socket as Duplex).destroy();
    });
  }

  /** Tunnels one upgrade request to `upstream`. */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    version: CompiledVersion,
    upstream: Upstream,
  ): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    this.#proxy.ws(req, socket, head, { target: upstream.origin + upstream.basePath }, () => {
      version.stats.record(OUTCOME_ERROR, 0);
      if (!socket.destroyed)
        socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
  }

  /** Open tunnels now. */
  get open(): number {
    return this.#sockets.size;
  }

  /** Ends every tunnel. */
  destroyAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    this.#proxy.close();
  }
}
