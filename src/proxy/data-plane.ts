/**
 * @module proxy/data-plane
 * The hot path: node:http listeners (production and test) that route each request by the current
 * compiled RouteTable and forward it. It knows nothing of deployments; the control plane steers it only
 * by publishing tables and reads it only through StatsDeltas.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type CompiledTable, compileTable, PoolRegistry } from './compiled-table.js';
import { forward } from './forwarder.js';
import { writeProxyError } from './proxy-error.js';
import { LISTENERS, type ListenerName, type RouteTable, validateRouteTable } from './route-table.js';
import { type StatsDelta, StatsRecorder } from './stats.js';
import { UpgradeProxy } from './websocket.js';

/** Where a listener should bind. */
export interface ListenSpec {
  readonly host: string;
  readonly port: number;
}

/** A data plane: listeners, pools and the current routes. */
export class DataPlane {
  readonly #log: Logger;
  readonly #pools = new PoolRegistry();
  readonly #stats = new StatsRecorder();
  readonly #upgrades = new UpgradeProxy();
  readonly #servers = new Map<ListenerName, Server>();
  #compiled: CompiledTable;
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #closing = false;

  constructor(table: RouteTable, log: Logger) {
    this.#log = log;
    this.#compiled = this.#compile(table);
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
    this.#compiled = this.#compile(table);
  }

  /** Counts since the previous call. */
  takeStats(): StatsDelta {
    return this.#stats.takeDelta();
  }

  /** Starts the listeners; resolves with the address each one is bound to. */
  async listen(specs: Partial<Record<ListenerName, ListenSpec>>): Promise<Record<string, AddressInfo>> {
    const out: Record<string, AddressInfo> = {};
    for (const name of LISTENERS) {
      const spec = specs[name];
      if (!spec) continue;
      const server = this.#createServer(LISTENERS.indexOf(name));
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            new SwitchyardError(
              'LISTEN_FAILED',
              `${name} listener cannot bind ${spec.host}:${spec.port}: ${err.code ?? err.message}`,
              {
                cause: err,
              },
            ),
          ),
        );
        server.listen(spec.port, spec.host, () => resolve());
      });
      this.#servers.set(name, server);
      out[name] = server.address() as AddressInfo;
    }
    return out;
  }

  /**
   * Stops accepting, lets in-flight requests finish for up to `drainMs`, then cuts what is left and
   * closes the pools.
   */
  async close(drainMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const closed = [...this.#servers.values()].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const server of this.#servers.values()) server.closeIdleConnections();
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#idle = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainMs);
        }),
      ]);
      clearTimeout(timer);
      if (this.#inFlight > 0)
        this.#log.warn(
          { inFlight: this.#inFlight },
          'drain timeout: closing connections with requests in flight',
        );
    }
    this.#upgrades.destroyAll();
    for (const server of this.#servers.values()) server.closeAllConnections();
    await Promise.all(closed);
    await this.#pools.closeAll(true);
  }

  #compile(table: RouteTable): CompiledTable {
    const problems = validateRouteTable(table);
    if (problems.length)
      throw new SwitchyardError('WEIGHTS_INVALID', `route table rejected: ${problems.join('; ')}`);
    return compileTable(table, this.#pools, this.#stats);
  }

  #createServer(listener: number): Server {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, listener);
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head, listener);
    // requestTimeout 0: uploads may stream for as long as they need; headersTimeout still guards slow clients.
    const server = createServer({ requestTimeout: 0, keepAliveTimeout: 5_000 }, onRequest);
    server.on('upgrade', onUpgrade);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.writable && err.code !== 'ECONNRESET')
        socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
    });
    return server;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, listener: number): void {
    this.#inFlight++;
    res.once('close', this.#requestDone);
    const table = this.#compiled;
    const service = table.match(req.headers.host, req.url!);
    if (!service) {
      writeProxyError(res, 'NO_ROUTE', `no service matches ${req.url}`);
      return;
    }
    const version = service.pick(req, listener);
    const upstream = version?.nextUpstream();
    if (!version || !upstream) {
      writeProxyError(
        res,
        'NO_TARGET',
        `service ${service.name} has no routable target`,
        table.source.versionHeader,
        version?.label,
      );
      return;
    }
    forward(req, res, version, upstream, table.source.versionHeader, 'http');
  }

  readonly #requestDone = (): void => {
    if (--this.#inFlight === 0 && this.#idle) this.#idle();
  };

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, listener: number): void {
    const service = this.#compiled.match(req.headers.host, req.url!);
    const version = service?.pick(req, listener);
    const upstream = version?.nextUpstream();
    if (!version || !upstream) {
      socket.end(
        `HTTP/1.1 ${service ? '503 Service Unavailable' : '404 Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
      return;
    }
    this.#upgrades.upgrade(req, socket, head, version, upstream);
  }
}
