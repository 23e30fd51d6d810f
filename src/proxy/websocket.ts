/**
 * @module proxy/websocket
 * WebSocket (and other HTTP/1.1 Upgrade) tunnels through http-proxy, to the version the same split picks.
 * Each tunnel is tracked from the upgrade request on, so that whichever side goes away first the other
 * is closed too, and a shutdown can end them after the drain timeout.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';

import httpProxy from 'http-proxy';

import { OUTCOME_ERROR, outcomeOf } from '../core/stats-delta.js';
import type { CompiledVersion } from './compiled-version.js';
import { stripUpgradeHopByHop } from './headers.js';
import type { Upstream } from './pools.js';

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

function ignore(): void {}

/** One upgrade, from the client's request until both of its sockets are closed. */
class Tunnel {
  /** The request to the upstream, until it is answered. */
  request: ClientRequest | undefined;
  /** The upstream's socket, once it has switched protocols. */
  upstream: Socket | undefined;
  /** Whether the client has been sent a response head (101, or the upstream's refusal). */
  answered = false;
  readonly started = performance.now();

  constructor(
    readonly client: Duplex,
    readonly version: CompiledVersion,
    readonly versionHeader: string | false,
  ) {}

  /** Counts the upgrade's one outcome, by the status the upstream answered with. */
  answer(status: number): void {
    if (this.answered) return;
    this.answered = true;
    this.version.stats.record(outcomeOf(status), performance.now() - this.started);
  }

  /** Closes whatever is open towards the upstream. */
  closeUpstream(): void {
    this.upstream?.destroy();
    // Aborts a request still waiting for its answer; a no-op once it has been answered.
    this.request?.destroy();
  }
}

/** Proxies upgrade requests and remembers their tunnels until they close. */
export class UpgradeProxy {
  readonly #proxy = httpProxy.createProxyServer({ ws: true, xfwd: true });
  readonly #tunnels = new Map<Duplex, Tunnel>();

  constructor() {
    // Failures are handled per call; this listener only keeps an unexpected one from crashing the process.
    this.#proxy.on('error', (_err, _req, socket) => {
      if (socket && 'destroy' in socket) (socket as Duplex).destroy();
    });
    this.#proxy.on('proxyReqWs', (request, _req, socket) => {
      const tunnel = this.#tunnels.get(socket);
      if (!tunnel) return;
      tunnel.request = request;
      // Registered before http-proxy's own listeners, so the tunnel knows its state before bytes flow.
      // http-proxy writes the client's response head from `res.headers` after these run, so edits to
      // them here are what the client gets.
      request.once('upgrade', (res: IncomingMessage, upstream: Socket) => {
        tunnel.upstream = upstream;
        tunnel.request = undefined;
        tunnel.answer(res.statusCode ?? 101);
        if (tunnel.versionHeader !== false) res.headers[tunnel.versionHeader] = tunnel.version.label;
        if (tunnel.client.destroyed) upstream.destroy();
      });
      request.once('response', (res: IncomingMessage) => {
        tunnel.request = undefined;
        tunnel.answer(res.statusCode ?? 0);
        // A refusal is copied with its headers but its body decoded, then the connection is closed: a
        // Transfer-Encoding left in would describe framing the body no longer has, so the close is
        // what delimits it.
        const headers = res.headers;
        delete headers['transfer-encoding'];
        delete headers['keep-alive'];
        headers.connection = 'close';
        if (tunnel.versionHeader !== false) headers[tunnel.versionHeader] = tunnel.version.label;
      });
    });
  }

  /**
   * Tunnels one upgrade request to `upstream`; the response head names the version in `versionHeader`
   * unless it is false.
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    version: CompiledVersion,
    upstream: Upstream,
    versionHeader: string | false = false,
  ): void {
    const tunnel = new Tunnel(socket, version, versionHeader);
    this.#tunnels.set(socket, tunnel);
    // http-proxy listens for the client's errors only once the upstream has switched protocols; until
    // then nothing else does, and a client resetting its connection would be an uncaught error.
    socket.on('error', ignore);
    socket.once('close', () => {
      this.#tunnels.delete(socket);
      tunnel.closeUpstream();
    });
    stripUpgradeHopByHop(req.headers);
    this.#proxy.ws(req, socket, head, { target: upstream.origin + upstream.basePath }, () => this.#failed(tunnel));
  }

  /** The upstream request or an open tunnel's upstream socket failed. */
  #failed(tunnel: Tunnel): void {
    const client = tunnel.client;
    // The client left first (and the upstream request was aborted for it): nothing to count.
    if (client.destroyed) return;
    if (tunnel.answered) {
      // The client has a 101 (or a refusal) and maybe tunnelled bytes: an HTTP answer now would corrupt
      // its stream, so the connection is cut.
      client.destroy();
      return;
    }
    tunnel.answered = true;
    tunnel.version.stats.record(OUTCOME_ERROR, performance.now() - tunnel.started);
    client.end(BAD_GATEWAY);
  }

  /** Open tunnels now, including upgrades still waiting for the upstream's answer. */
  get open(): number {
    return this.#tunnels.size;
  }

  /** Ends every tunnel, on both sides. */
  destroyAll(): void {
    for (const tunnel of this.#tunnels.values()) {
      tunnel.client.destroy();
      tunnel.closeUpstream();
    }
    this.#tunnels.clear();
    this.#proxy.close();
  }
}
