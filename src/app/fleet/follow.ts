/**
 * @module app/fleet/follow
 * A remote data plane's side (`serve --data-plane`): it connects to a control plane over a WebSocket,
 * and serves on its own listeners as the control plane's tables say. Fail static, as Envoy does with its
 * management server: when the control plane goes away it keeps serving the last table and counting, and
 * reconnects with back-off over every control URL in turn; once back, its hello says which revision it
 * has, it is given the current table without its listeners moving, and the counts made while away go up.
 */
import type { AddressInfo } from 'node:net';

import { WebSocket } from 'ws';

import { type Clock, systemClock } from '../../core/clock.js';
import {
  type ControlMessage,
  DATA_PLANE_CONNECT_PATH,
  type DataMessage,
  type ListenOptions,
  MAX_MESSAGE_BYTES,
} from '../../core/data-channel.js';
import { describeError } from '../../core/describe-error.js';
import { isErrorCode, SwitchyardError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { ChannelAgent } from '../../proxy/channel-agent.js';
import { type Heartbeat, wsChannel } from './ws-channel.js';

/** The first wait before reconnecting, doubled after each failed attempt. */
export const FIRST_RETRY_MS = 100;

/** The longest wait between two attempts. */
export const LONGEST_RETRY_MS = 5_000;

/** How long an attempt may take to complete its handshake. */
const HANDSHAKE_TIMEOUT_MS = 5_000;

/** How a remote data plane follows its control planes. */
export interface FollowOptions {
  /** Control planes' base URLs (`http://host:port`), tried in turn. */
  readonly controlUrls: readonly string[];
  /** The control API's bearer token, when it has control.auth. */
  readonly token: string | undefined;
  readonly name: string;
  /** Its own listeners. */
  readonly listeners: ListenOptions;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly heartbeat?: Heartbeat;
  /** Draws the back-off's jitter, in [0, 1). */
  readonly random?: () => number;
}

/** A running remote data plane. */
export interface Follower {
  /** Resolves with the listeners' addresses once serving; rejects when refused for good before that. */
  readonly serving: Promise<Record<string, AddressInfo>>;
  /** Resolves once the data plane has closed. */
  readonly ended: Promise<void>;
  /** Drains for up to `drainMs` (telling the control plane, when connected), then disconnects. */
  stop(drainMs: number): Promise<void>;
}

/** The wait before attempt `failures` (0 after a connection is lost): doubling, capped, jittered to half of it or more. */
export function retryDelay(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** failures);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** The WebSocket address of a control plane's door. */
export function connectUrl(controlUrl: string): string {
  const url = new URL(DATA_PLANE_CONNECT_PATH, controlUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Refusals that another attempt will not cure before this data plane has ever served. */
const FATAL = new Set(['PROTOCOL_MISMATCH', 'UNAUTHORIZED']);

/** Starts following `options.controlUrls`. */
export function followControlPlane(options: FollowOptions): Follower {
  return new Following(options);
}

class Following implements Follower {
  readonly serving: Promise<Record<string, AddressInfo>>;
  readonly ended: Promise<void>;
  readonly #o: FollowOptions;
  readonly #clock: Clock;
  readonly #agent: ChannelAgent;
  #resolveServing!: (addresses: Record<string, AddressInfo>) => void;
  #rejectServing!: (err: Error) => void;
  #socket: WebSocket | undefined;
  #next = 0;
  #failures = 0;
  #everServed = false;
  #stopping = false;
  #awaySince: number | undefined;
  #cancelRetry: () => void = () => undefined;

  constructor(options: FollowOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.serving = new Promise((resolve, reject) => {
      this.#resolveServing = resolve;
      this.#rejectServing = reject;
    });
    // A refusal before serving is the caller's to report; nobody else awaits it meanwhile.
    this.serving.catch(() => undefined);
    let ended!: () => void;
    this.ended = new Promise((resolve) => (ended = resolve));
    this.#agent = new ChannelAgent(
      options.log,
      { name: options.name, listeners: options.listeners },
      () => {
        this.#stopping = true;
        this.#cancelRetry();
        this.#socket?.close(1000, 'data plane stopping');
        ended();
      },
      {
        started: (info) => this.#started(info),
        refused: (code, message) => this.#refused(code, message),
        failed: (err) => this.#fatal(err instanceof SwitchyardError ? err.code : 'INTERNAL', describeError(err)),
      },
    );
    this.#attempt();
  }

  stop(drainMs: number): Promise<void> {
    this.#stopping = true;
    this.#cancelRetry();
    this.#agent.end(drainMs, true);
    return this.ended;
  }

  /** One connection attempt to the next control URL. */
  #attempt(): void {
    if (this.#stopping) return;
    const base = this.#o.controlUrls[this.#next % this.#o.controlUrls.length]!;
    const url = connectUrl(base);
    const socket = new WebSocket(url, {
      headers: this.#o.token === undefined ? {} : { authorization: `Bearer ${this.#o.token}` },
      maxPayload: MAX_MESSAGE_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.#socket = socket;
    let opened = false;
    let over = false;
    const failed = (why: string, code?: string) => {
      if (over) return;
      over = true;
      socket.terminate();
      this.#attemptFailed(base, why, code);
    };
    socket.on('error', (err) => failed(describeError(err)));
    socket.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.slice(0, 4_096)));
      res.on('end', () => {
        const said = parsedError(body);
        failed(`${res.statusCode} ${said?.error ?? ''}: ${said?.message ?? body}`.trim(), said?.error);
      });
      res.on('error', () => failed(`${res.statusCode}`));
      req.on('error', () => undefined);
    });
    socket.once('close', () => {
      if (!opened) failed('the connection closed during the handshake');
    });
    socket.once('open', () => {
      opened = true;
      over = true;
      const channel = wsChannel<ControlMessage, DataMessage>(socket, this.#clock, this.#o.heartbeat);
      this.#o.log.debug({ controlPlane: base }, 'connected to the control plane');
      this.#agent.attach(channel, () => this.#lost(base));
    });
  }

  #attemptFailed(base: string, why: string, code: string | undefined): void {
    if (this.#stopping) return;
    if (code !== undefined && FATAL.has(code) && !this.#everServed) {
      return this.#fatal(code, `the control plane at ${base} refused this data plane: ${why}`);
    }
    // A standby answers so that the next URL is tried: the leader is there or about to be, so it is no
    // failure to back off from.
    const standby = code === 'STORE_NOT_LEADER';
    if (!standby) this.#failures++;
    this.#next++;
    const delayMs = retryDelay(standby ? 0 : this.#failures, this.#o.random);
    this.#o.log[code === undefined || standby ? 'debug' : 'error'](
      { controlPlane: base, why, retryInMs: delayMs, attempt: this.#failures },
      'cannot reach a control plane: trying again',
    );
    this.#retryIn(delayMs);
  }

  /** The connection to the control plane ended: serve on, and find one again. */
  #lost(base: string): void {
    if (this.#stopping) return;
    this.#awaySince ??= this.#clock.now();
    this.#o.log.warn(
      { controlPlane: base, revision: this.#agent.revision },
      this.#everServed
        ? 'the control plane is unreachable: serving the last table, reconnecting'
        : 'the control plane went away before this data plane started: reconnecting',
    );
    this.#retryIn(retryDelay(this.#failures, this.#o.random));
  }

  #retryIn(ms: number): void {
    this.#cancelRetry();
    this.#cancelRetry = this.#clock.setTimer(ms, () => this.#attempt());
  }

  #started(info: { revision: number; previous: number; first: boolean }): void {
    this.#failures = 0;
    if (info.first) {
      this.#everServed = true;
      this.#resolveServing(this.#agent.addresses ?? {});
      return;
    }
    const awayMs = this.#awaySince === undefined ? 0 : this.#clock.now() - this.#awaySince;
    this.#awaySince = undefined;
    this.#o.log.info(
      {
        awayMs,
        revision: info.revision,
        previous: info.previous,
        // A control plane started afresh numbers its tables from 1 again: nothing to count then.
        ...(info.revision >= info.previous && { missedRevisions: info.revision - info.previous }),
      },
      'rejoined the control plane: routing by its current table, sending what was counted meanwhile',
    );
  }

  #refused(code: string, message: string): void {
    if (FATAL.has(code) && !this.#everServed) return this.#fatal(code, message);
    this.#o.log.error({ code }, `the control plane refused this data plane: ${message}`);
    // It closes the connection; the next attempt waits as after any failure.
    this.#failures++;
    this.#next++;
  }

  #fatal(code: string, message: string): void {
    this.#stopping = true;
    this.#cancelRetry();
    this.#rejectServing(new SwitchyardError(isErrorCode(code) ? code : 'INTERNAL', message));
    this.#agent.end(0, false);
  }
}

/** A switchyard error body (`{"error","message"}`), or undefined. */
function parsedError(body: string): { error?: string; message?: string } | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
