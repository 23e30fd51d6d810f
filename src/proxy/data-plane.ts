/**
 * @module proxy/data-plane
 * The hot path: node:http listeners (production and test) that route each request by the current
 * compiled RouteTable and forward it. It knows nothing of deployments; the control plane steers it only
 * by publishing tables and reads it only through StatsDeltas.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import type { ListenerLimits, ListenOptions } from '../core/data-channel.js';
import { type ErrorCode, SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type ListenerName, LISTENERS, type RouteTable, validateRouteTable } from '../core/route-table.js';
import { OUTCOME_ERROR, REFUSED_CONNECTION, REFUSED_IN_FLIGHT, type StatsDelta } from '../core/stats-delta.js';
import { StatsRecorder } from '../core/stats-recorder.js';
import { type CompiledService, type CompiledTable, compileTable, PoolRegistry } from './compiled-table.js';
import type { CompiledVersion } from './compiled-version.js';
import type { Resume } from './faults.js';
import { forward, requestHasBody } from './forwarder.js';
import { deleteForwarded, withoutForwarded } from './headers.js';
import { type ClientError, onClientError, onIdle } from './listener-guards.js';
import { mirrorRequest } from './mirror.js';
import type { Upstream } from './pools.js';
import { writeProxyError } from './proxy-error.js';
import { checkTarget, type TargetVerdict } from './request-target.js';
import { UpgradeProxy } from './websocket.js';

export type { ListenerLimits, ListenOptions, ListenSpec } from '../core/data-channel.js';

/** The production listener's index in LISTENERS. */
const PRODUCTION = LISTENERS.indexOf('production');

/** A data plane: listeners, pools and the current routes. */
export class DataPlane {
  readonly #log: Logger;
  readonly #pools = new PoolRegistry();
  readonly #stats = new StatsRecorder();
  readonly #upgrades = new UpgradeProxy();
  readonly #servers = new Map<ListenerName, Server>();
  #compiled: CompiledTable;
  #inFlight = 0;
  /** Requests in flight on each listener, indexed like LISTENERS, and each one's limit. */
  readonly #listenerInFlight = new Int32Array(LISTENERS.length);
  readonly #maxInFlight = new Int32Array(LISTENERS.length);
  /** Each listener's `bodyTimeout`: how long an upload may go without a byte. */
  readonly #bodyTimeout = new Int32Array(LISTENERS.length);
  /** Each listener's end-of-request callback, made once so that no request allocates one. */
  readonly #requestDone = LISTENERS.map((_, listener) => () => this.#onRequestDone(listener));
  #idle: (() => void) | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  #dropped = 0;
  #droppedSaidAt = 0;
  #overwriteForwarded = false;

  constructor(table: RouteTable, log: Logger) {
    this.#log = log;
    this.#compiled = this.#compile(table, undefined);
  }

  /** The table requests are routed by now. */
  get table(): RouteTable {
    return this.#compiled.source;
  }

  /** Requests being served now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Replaces the routes atomically: requests already started finish on the table they began with. */
  apply(table: RouteTable): void {
    this.#compiled = this.#compile(table, this.#compiled);
  }

  /** Counts since the previous call. */
  takeStats(): StatsDelta {
    const delta = this.#stats.takeDelta();
    const targets = this.#pools.takeEvents();
    return targets.length ? { ...delta, targets } : delta;
  }

  /** Starts the listeners; resolves with the address each one is bound to. */
  async listen(specs: ListenOptions): Promise<Record<string, AddressInfo>> {
    const out: Record<string, AddressInfo> = {};
    this.#overwriteForwarded = specs.forwardedHeaders === 'overwrite';
    for (const name of LISTENERS) {
      const spec = specs[name];
      if (!spec) continue;
      const server = this.#createServer(LISTENERS.indexOf(name), specs.limits);
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) =>
          reject(
            new SwitchyardError(
              'LISTEN_FAILED',
              `${name} listener cannot bind ${spec.host}:${spec.port}: ${err.code ?? err.message}`,
              { cause: err },
            ),
          );
        server.once('error', onError);
        server.listen(spec.port, spec.host, () => {
          server.off('error', onError);
          resolve();
        });
      });
      // An 'error' with no listener would end the process; a listener that fails to accept is logged.
      server.on('error', (err) => this.#log.error({ err, listener: name }, 'listener error'));
      this.#servers.set(name, server);
      out[name] = server.address() as AddressInfo;
    }
    return out;
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to `drainMs`, then cuts what is left and
   * closes the pools. Calling it again returns the same promise.
   */
  close(drainMs: number): Promise<void> {
    this.#closed ??= this.#close(drainMs);
    return this.#closed;
  }

  async #close(drainMs: number): Promise<void> {
    this.#closing = true;
    const closed = [...this.#servers.values()].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const server of this.#servers.values()) server.closeIdleConnections();
    await this.#untilIdle(drainMs);
    if (this.#inFlight > 0)
      this.#log.warn({ inFlight: this.#inFlight }, 'drain timeout: closing connections with requests in flight');
    this.#upgrades.destroyAll();
    for (const server of this.#servers.values()) server.closeAllConnections();
    await Promise.all(closed);
    // Cut responses report their close a tick after their sockets; wait so inFlight is exact once closed.
    await this.#untilIdle(100);
    await this.#pools.closeAll(true);
  }

  /** Resolves when no request is in flight, or after `ms`. */
  async #untilIdle(ms: number): Promise<void> {
    if (this.#inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.#idle = resolve;
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
    this.#idle = undefined;
  }

  /** Compiles a table; services whose weights did not change keep their round-robin position. */
  #compile(table: RouteTable, previous: CompiledTable | undefined): CompiledTable {
    const problems = validateRouteTable(table);
    if (problems.length) throw new SwitchyardError('WEIGHTS_INVALID', `route table rejected: ${problems.join('; ')}`);
    return compileTable(table, this.#pools, this.#stats, previous);
  }

  #createServer(listener: number, limits: ListenerLimits): Server {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, listener);
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head, listener);
    this.#maxInFlight[listener] = limits.maxRequestsInFlight;
    const server = createServer(
      {
        // No deadline for a whole request: an upload may stream for as long as it keeps moving, and a
        // stalled one is cut by the idle timer below instead.
        requestTimeout: 0,
        headersTimeout: limits.headersTimeout,
        // Node enforces headersTimeout only when it sweeps its connections (every 30 s by default).
        connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(limits.headersTimeout / 4))),
        keepAliveTimeout: limits.keepAliveTimeout,
        maxHeaderSize: limits.maxHeaderSize,
        // A request without Host gets the data plane's JSON 400 (request-target.ts), not an empty one.
        requireHostHeader: false,
      },
      onRequest,
    );
    // Past it Node closes a new connection as soon as it is accepted: the client reads an immediate EOF.
    server.maxConnections = limits.maxConnections;
    // The idle timer is armed per connection and per request with a body, not as `server.timeout`: with
    // that, Node would make a new timer for every request, when it swaps keepAliveTimeout out again.
    const bodyTimeout = limits.bodyTimeout;
    this.#bodyTimeout[listener] = bodyTimeout;
    server.on('connection', (socket: Socket) => socket.setTimeout(bodyTimeout));
    server.on('timeout', onIdle);
    server.on('drop', this.#onDrop);
    server.on('upgrade', onUpgrade);
    server.on('connect', refuseConnect);
    server.on('clientError', (err: ClientError, socket: Duplex) => onClientError(err, socket, limits.maxHeaderSize));
    return server;
  }

  /** A listener at its connection limit closed a new connection; said at most every 10 s, with a count. */
  readonly #onDrop = (): void => {
    this.#stats.refused[REFUSED_CONNECTION]!++;
    this.#dropped++;
    const now = Date.now();
    if (now - this.#droppedSaidAt < 10_000) return;
    this.#log.warn({ dropped: this.#dropped }, 'connection limit reached: new client connections are closed');
    this.#droppedSaidAt = now;
    this.#dropped = 0;
  };

  #onRequest(req: IncomingMessage, res: ServerResponse, listener: number): void {
    this.#inFlight++;
    // A connection's first request runs under the timer its connection got; once one has been answered,
    // Node leaves the next one without a timer, which a bodiless request does not need: only a client
    // that is sending can stall it (a slow upstream has its own timeouts, a slow reader backpressure).
    const socket = req.socket;
    const bodyTimeout = this.#bodyTimeout[listener]!;
    if (socket.timeout !== bodyTimeout && requestHasBody(req.rawHeaders)) socket.setTimeout(bodyTimeout);
    // Counted from arrival, a pipelined request waiting its turn too; one past the limit is answered at
    // once, even behind earlier answers: node:http parses a pipelined burst without bound while the
    // queued answers have written nothing, and stops reading only once they have written enough.
    const over = ++this.#listenerInFlight[listener]! > this.#maxInFlight[listener]!;
    if (over) {
      this.#stats.refused[REFUSED_IN_FLIGHT]!++;
      writeProxyError(res, 'PROXY_OVERLOADED', `more than ${this.#maxInFlight[listener]} requests in flight`);
    }
    if (res.socket === null) {
      this.#afterEarlier(req, res, listener, over);
      return;
    }
    res.on('close', this.#requestDone[listener]!);
    if (!over) this.#route(req, res, listener);
  }

  /**
   * A pipelined request: node:http hands it over while an earlier response on its connection is still
   * being written, and queues its response. It is routed only once that earlier response has finished
   * (node:http then gives this one the socket), so the requests of one connection reach the upstreams
   * one after another, in order, as nginx serves them: a POST then a DELETE are never run at once.
   * A queued response that never gets the socket (the client left) emits no 'close'; the request's does.
   */
  #afterEarlier(req: IncomingMessage, res: ServerResponse, listener: number, answered: boolean): void {
    const done = this.#requestDone[listener]!;
    const start = () => {
      req.off('close', gone);
      res.on('close', done);
      if (!answered) this.#route(req, res, listener);
    };
    const gone = () => {
      res.off('socket', start);
      done();
    };
    res.once('socket', start);
    req.once('close', gone);
  }

  #route(req: IncomingMessage, res: ServerResponse, listener: number): void {
    const verdict = checkTarget(req);
    if (verdict !== undefined) {
      answerTarget(res, verdict);
      return;
    }
    if (this.#overwriteForwarded) req.rawHeaders = withoutForwarded(req.rawHeaders);
    const table = this.#compiled;
    const service = table.match(req);
    if (!service) {
      writeProxyError(res, 'NO_ROUTE', `no service matches ${req.url}`);
      return;
    }
    let version = service.pick(req, listener);
    let upstream = version?.nextUpstream();
    if (version && !upstream && !service.pinned(req)) {
      // No routable target (none running, all ejected or unhealthy): its share goes to a version that
      // has one, counted so the control plane can say so.
      const other = service.failover(version, listener);
      if (other) {
        version.stats.failedOver++;
        version = other.version;
        upstream = other.upstream;
      }
    }
    if (!version || !upstream) {
      // A version picked but unroutable is that version's failure, and health must see it.
      version?.stats.record(OUTCOME_ERROR, 0);
      writeProxyError(
        res,
        'NO_TARGET',
        `service ${service.name} has no routable target`,
        table.source.versionHeader,
        version?.label,
      );
      return;
    }
    const versionHeader = table.source.versionHeader;
    // The one check a request pays while no version has a fault.
    if (version.fault !== undefined) {
      version.fault.intercept(
        req,
        res,
        versionHeader,
        { service, version, upstream, listener, versionHeader },
        this.#resume,
      );
      return;
    }
    forwardRouted(req, res, service, version, upstream, listener, versionHeader);
  }

  /** Forwards a request a fault held and let go, as it was routed before its delay. */
  readonly #resume: Resume<Routed> = (req, res, r) =>
    forwardRouted(req, res, r.service, r.version, r.upstream, r.listener, r.versionHeader);

  #onRequestDone(listener: number): void {
    this.#listenerInFlight[listener]!--;
    if (--this.#inFlight === 0 && this.#idle) this.#idle();
    // While draining, a connection whose response is done is closed now rather than kept alive for a
    // next request that would stretch the drain.
    if (this.#closing) for (const server of this.#servers.values()) server.closeIdleConnections();
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, listener: number): void {
    // node:http stops listening for this socket's errors before it emits 'upgrade'; a client reset
    // while we answer must not become an uncaught error.
    socket.on('error', ignoreError);
    if (!isWebSocketUpgrade(req)) {
      // Only WebSocket tunnels are proxied (an h2c or other protocol switch has no HTTP/1.1 fallback here).
      refuseUpgrade(socket, '501 Not Implemented', 'UPGRADE_UNSUPPORTED', 'only WebSocket upgrades are proxied');
      return;
    }
    const verdict = checkTarget(req);
    if (verdict !== undefined) {
      const invalid = verdict === 'server-options' ? 'OPTIONS * cannot be upgraded' : verdict.invalid;
      refuseUpgrade(socket, '400 Bad Request', 'REQUEST_INVALID', invalid);
      return;
    }
    if (this.#overwriteForwarded) deleteForwarded(req.headers);
    const table = this.#compiled;
    const service = table.match(req);
    const version = service?.pick(req, listener);
    const upstream = version?.nextUpstream();
    if (!service) {
      refuseUpgrade(socket, '404 Not Found', 'NO_ROUTE', `no service matches ${req.url}`);
      return;
    }
    if (!version || !upstream) {
      version?.stats.record(OUTCOME_ERROR, 0);
      refuseUpgrade(socket, '503 Service Unavailable', 'NO_TARGET', `service ${service.name} has no routable target`);
      return;
    }
    // The service's own connect and answer deadlines, as its plain requests have.
    this.#upgrades.upgrade(req, socket, head, version, upstream, table.source.versionHeader, service.route.upstream);
  }
}

/** Where #route sent a request: kept while a fault holds it. */
interface Routed {
  readonly service: CompiledService;
  readonly version: CompiledVersion;
  readonly upstream: Upstream;
  readonly listener: number;
  readonly versionHeader: string | false;
}

/** Forwards a routed request; on production, with the service's retry and mirror. */
function forwardRouted(
  req: IncomingMessage,
  res: ServerResponse,
  service: CompiledService,
  version: CompiledVersion,
  upstream: Upstream,
  listener: number,
  versionHeader: string | false,
): void {
  // Only production traffic is retried or mirrored: the test listener exists to see the replacement itself.
  if (listener !== PRODUCTION) {
    forward(req, res, version, upstream, versionHeader, 'http');
    return;
  }
  const mirror = service.mirror;
  const body =
    mirror !== undefined && mirror.version !== version && mirror.take()
      ? mirrorRequest(req, mirror, requestHasBody(req.rawHeaders))
      : undefined;
  forward(req, res, version, upstream, versionHeader, 'http', version.retry, body);
}

function ignoreError(): void {}

/**
 * Answers a request request-target.ts will not have routed: `OPTIONS *` with an empty 200 (a question
 * about the server, which is switchyard), anything else with 400 and a close.
 */
function answerTarget(res: ServerResponse, verdict: NonNullable<TargetVerdict>): void {
  if (verdict === 'server-options') {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    return;
  }
  res.shouldKeepAlive = false;
  writeProxyError(res, 'REQUEST_INVALID', verdict.invalid);
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket';
}

/** A reverse proxy offers no CONNECT tunnels: the JSON error a client can read, not a bare close. */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on('error', ignoreError);
  refuseUpgrade(
    socket,
    '501 Not Implemented',
    'CONNECT_UNSUPPORTED',
    'switchyard is a reverse proxy: CONNECT is not offered',
  );
}

/** Answers an upgrade request that will not be tunnelled with the same JSON error shape as requests. */
function refuseUpgrade(socket: Duplex, status: string, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: code, message });
  socket.end(
    `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
