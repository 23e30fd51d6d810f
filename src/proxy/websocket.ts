/**
 * @module proxy/websocket
 * WebSocket (and other HTTP/1.1 Upgrade) tunnels through http-proxy, to the version the same split picks.
 * Each tunnel is tracked from the upgrade request on, so that whichever side goes away first the other
 * is closed too, and a shutdown can end them after the drain timeout. Until the upstream answers, the
 * upgrade has the same deadlines as a plain request (connect, then response head) and fails with the
 * same JSON errors; once open, a tunnel with no traffic either way for the idle timeout is closed.
 */
import { type ClientRequest, type IncomingMessage, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';

import httpProxy from 'http-proxy';

import { describeError } from '../core/describe-error.js';
import { OUTCOME_ERROR, outcomeOf } from '../core/stats-delta.js';
import type { CompiledVersion } from './compiled-version.js';
import { stripUpgradeHopByHop } from './headers.js';
import type { Upstream } from './pools.js';
import { PROXY_ERRORS, type ProxyErrorCode } from './proxy-error.js';

/** Deadlines of an upgrade towards its upstream, in milliseconds; 0 turns one off (as in undici). */
export interface UpgradeTimeouts {
  /** From the upgrade request until the TCP connection to the upstream is up. */
  readonly connectTimeout: number;
  /** From then until the upstream's response head: its 101, or its refusal. */
  readonly headersTimeout: number;
}

/** The upstream settings' defaults, for a caller without a service's own. */
export const DEFAULT_UPGRADE_TIMEOUTS: UpgradeTimeouts = { connectTimeout: 5_000, headersTimeout: 30_000 };

/** How long an open tunnel may carry no byte either way before it is closed: Envoy's stream idle timeout. */
export const DEFAULT_TUNNEL_IDLE_TIMEOUT = 300_000;

/** Settings of an {@link UpgradeProxy}. */
export interface UpgradeOptions {
  /** Milliseconds an open tunnel may go without a byte either way; 0 never closes one for it. */
  readonly idleTimeout?: number;
}

/** System error codes that mean the upstream took too long rather than failed. */
const TIMEOUT_CODES = new Set(['ETIMEDOUT']);

function ignore(): void {}

/** A 'finish' or 'timeout' listener: closes the stream it is called on. */
function destroyEmitter(this: Duplex): void {
  this.destroy();
}

/** One upgrade, from the client's request until both of its sockets are closed. */
class Tunnel {
  /** The request to the upstream, until it has switched protocols (kept through a refusal's body). */
  request: ClientRequest | undefined;
  /** The upstream's socket, once it has switched protocols. */
  upstream: Socket | undefined;
  /** Whether the client has been sent a response head (101, the upstream's refusal or our error). */
  answered = false;
  /** Whether that head was switchyard's own error: the upstream request's failure is then expected. */
  refused = false;
  /** The deadline for the upstream's answer, while one runs. */
  deadline: NodeJS.Timeout | undefined;
  readonly started = performance.now();

  constructor(
    readonly client: Duplex,
    readonly version: CompiledVersion,
    readonly versionHeader: string | false,
    readonly timeouts: UpgradeTimeouts,
  ) {}

  /** Counts the upgrade's one outcome, by the status the upstream answered with. */
  answer(status: number): void {
    clearTimeout(this.deadline);
    if (this.answered) return;
    this.answered = true;
    this.version.stats.record(outcomeOf(status), performance.now() - this.started);
  }

  /** Starts the deadline of the phase the upgrade is in now, replacing the previous phase's. */
  arm(ms: number, phase: string): void {
    clearTimeout(this.deadline);
    this.deadline = ms > 0 ? setTimeout(expire, ms, this, `no ${phase} within ${ms} ms`) : undefined;
  }

  /**
   * Ends the upgrade with the data plane's JSON error, then closes both sides; a client that already
   * has a response head only gets its connection cut, as an HTTP answer would corrupt its stream.
   */
  fail(code: ProxyErrorCode, message: string): void {
    clearTimeout(this.deadline);
    const client = this.client;
    if (this.answered) {
      client.destroy();
      return;
    }
    this.answered = true;
    this.refused = true;
    this.version.stats.record(OUTCOME_ERROR, performance.now() - this.started);
    // node:http lets upgraded clients half-close: once the answer is written, the connection is closed
    // here rather than held open for a client that never closes its side.
    client.once('finish', destroyEmitter);
    client.end(errorResponse(code, message, this.versionHeader, this.version.label));
    this.closeUpstream();
  }

  /** Closes whatever is open towards the upstream. */
  closeUpstream(): void {
    clearTimeout(this.deadline);
    this.upstream?.destroy();
    // Aborts a request still waiting for its answer, or the body of a refusal being relayed.
    this.request?.destroy();
  }
}

/** A deadline's timer callback: the upstream did not answer in time. */
function expire(tunnel: Tunnel, what: string): void {
  tunnel.deadline = undefined;
  tunnel.fail('UPSTREAM_TIMEOUT', `version ${tunnel.version.label} timed out (${what})`);
}

/**
 * The raw HTTP answer for a failed upgrade: the same body and headers as writeProxyError gives a plain
 * request, plus `connection: close`, since there is no ServerResponse for an upgrade request.
 */
function errorResponse(code: ProxyErrorCode, message: string, versionHeader: string | false, label: string): string {
  const body = JSON.stringify({ error: code, message });
  const status = PROXY_ERRORS[code];
  const version = versionHeader === false ? '' : `${versionHeader}: ${label}\r\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n${version}connection: close\r\n\r\n${body}`
  );
}

/** Proxies upgrade requests and remembers their tunnels until they close. */
export class UpgradeProxy {
  readonly #proxy = httpProxy.createProxyServer({ ws: true, xfwd: true });
  readonly #tunnels = new Map<Duplex, Tunnel>();
  readonly #idleTimeout: number;

  constructor(options: UpgradeOptions = {}) {
    this.#idleTimeout = options.idleTimeout ?? DEFAULT_TUNNEL_IDLE_TIMEOUT;
    // Failures are handled per call; this listener only keeps an unexpected one from crashing the process.
    this.#proxy.on('error', (_err, _req, socket) => {
      if (socket && 'destroy' in socket) (socket as Duplex).destroy();
    });
    this.#proxy.on('proxyReqWs', (request, _req, socket) => {
      const tunnel = this.#tunnels.get(socket);
      if (tunnel) this.#track(tunnel, request);
    });
  }

  /** Follows the upstream request of `tunnel` through its deadlines to its answer. */
  #track(tunnel: Tunnel, request: ClientRequest): void {
    tunnel.request = request;
    tunnel.arm(tunnel.timeouts.connectTimeout, 'connection');
    request.once('socket', (socket: Socket) => {
      if (socket.connecting) socket.once('connect', () => tunnel.arm(tunnel.timeouts.headersTimeout, 'answer'));
      else tunnel.arm(tunnel.timeouts.headersTimeout, 'answer');
    });
    // Registered before http-proxy's own listeners, so the tunnel knows its state before bytes flow.
    // http-proxy writes the client's response head from `res.headers` after these run, so edits to
    // them here are what the client gets.
    request.once('upgrade', (res: IncomingMessage, upstream: Socket) => {
      tunnel.upstream = upstream;
      tunnel.request = undefined;
      tunnel.answer(res.statusCode ?? 101);
      if (tunnel.versionHeader !== false) res.headers[tunnel.versionHeader] = tunnel.version.label;
      const client = tunnel.client;
      if (client.destroyed) upstream.destroy();
      else if (this.#idleTimeout > 0 && client instanceof Socket) {
        // Socket timeouts count reads and writes, so this is "no byte either way"; http-proxy cleared
        // the client's timeout before it sent the request, so this one is not overridden.
        client.setTimeout(this.#idleTimeout);
        client.once('timeout', destroyEmitter);
      }
    });
    request.once('response', (res: IncomingMessage) => {
      tunnel.answer(res.statusCode ?? 0);
      // A refusal is copied with its headers but its body decoded, then the connection is closed: a
      // Transfer-Encoding left in would describe framing the body no longer has, so the close is
      // what delimits it. The client is closed once it has it all, even if it never closes its side.
      const headers = res.headers;
      delete headers['transfer-encoding'];
      delete headers['keep-alive'];
      headers.connection = 'close';
      if (tunnel.versionHeader !== false) headers[tunnel.versionHeader] = tunnel.version.label;
      const client = tunnel.client;
      client.once('finish', destroyEmitter);
      // Nothing the client sends now is for anyone, and reading it is how its leaving is noticed: an
      // end counts as leaving (as in nginx), which also drops a refusal whose body never ends.
      client.once('end', destroyEmitter);
      client.resume();
    });
  }

  /**
   * Tunnels one upgrade request to `upstream`; the response head names the version in `versionHeader`
   * unless it is false. `timeouts` bound the wait for the upstream's answer (the service's upstream
   * settings fit).
   */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    version: CompiledVersion,
    upstream: Upstream,
    versionHeader: string | false = false,
    timeouts: UpgradeTimeouts = DEFAULT_UPGRADE_TIMEOUTS,
  ): void {
    const tunnel = new Tunnel(socket, version, versionHeader, timeouts);
    this.#tunnels.set(socket, tunnel);
    // http-proxy listens for the client's errors only once the upstream has switched protocols; until
    // then nothing else does, and a client resetting its connection would be an uncaught error.
    socket.on('error', ignore);
    socket.once('close', () => {
      this.#tunnels.delete(socket);
      tunnel.closeUpstream();
    });
    stripUpgradeHopByHop(req.headers);
    this.#proxy.ws(req, socket, head, { target: upstream.origin + upstream.basePath }, (err: Error) =>
      this.#failed(tunnel, err),
    );
  }

  /** The upstream request or an open tunnel's upstream socket failed. */
  #failed(tunnel: Tunnel, err: Error): void {
    // The client left first (and the upstream request was aborted for it), or already has our answer.
    if (tunnel.client.destroyed || tunnel.refused) return;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const timedOut = TIMEOUT_CODES.has(code);
    const what = timedOut ? 'timed out' : 'could not be reached';
    tunnel.fail(
      timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE',
      `version ${tunnel.version.label} ${what} (${code || describeError(err)})`,
    );
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
