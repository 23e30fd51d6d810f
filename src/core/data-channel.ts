/**
 * @module core/data-channel
 * The control ↔ data plane channel: what a control plane tells a data plane (start, a new RouteTable,
 * drain) and what a data plane answers (hello, listening, applied, stats, drained). Plain JSON messages,
 * so one protocol serves every transport: node:cluster's IPC to workers, a WebSocket to data planes on
 * other hosts. Each transport is one {@link Channel}.
 */
import type { AddressInfo } from 'node:net';

import type { ListenerName, RouteTable } from './route-table.js';
import type { StatsDelta } from './stats-delta.js';

/** Bumped on any change to the messages below; a data plane speaking another version is refused. */
export const DATA_CHANNEL_PROTOCOL = 2;

/** Largest message either end takes over a network channel: a route table of many services fits many times over. */
export const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** Where a remote data plane connects to its control plane: an HTTP upgrade to a WebSocket on the control API. */
export const DATA_PLANE_CONNECT_PATH = '/v1/data-planes/connect';

/** Where a listener should bind. */
export interface ListenSpec {
  readonly host: string;
  readonly port: number;
}

/**
 * What each listener allows one client; config/limits documents each and holds the defaults. Milliseconds
 * and bytes.
 */
export interface ListenerLimits {
  readonly headersTimeout: number;
  readonly bodyTimeout: number;
  readonly keepAliveTimeout: number;
  readonly maxConnections: number;
  readonly maxRequestsInFlight: number;
  readonly maxHeaderSize: number;
}

/** What `listen` takes: where each listener binds, and the limits both apply. */
export interface ListenOptions extends Partial<Record<ListenerName, ListenSpec>> {
  readonly limits: ListenerLimits;
  /**
   * The X-Forwarded-For / -Proto / -Host (and Forwarded) a client sent: `append` (the default) keeps
   * them and appends to X-Forwarded-For, as a proxy behind another should; `overwrite` drops them, so
   * the upstream sees only what switchyard itself saw, as the first hop must.
   */
  readonly forwardedHeaders?: 'append' | 'overwrite';
}

/** Control plane → data plane. */
export type ControlMessage =
  /** The answer to `hello`: the table to route by before any listener opens, and where to listen. */
  | {
      readonly type: 'start';
      readonly protocol: number;
      readonly table: RouteTable;
      readonly listeners: ListenOptions;
      /** How often to send stats up, in milliseconds. */
      readonly statsIntervalMs: number;
    }
  /** A new table replacing the one in force; answered by `applied` with its revision. */
  | { readonly type: 'table'; readonly table: RouteTable }
  /** Stop accepting, finish in-flight requests for up to `drainMs`, send the last stats, answer `drained`. */
  | { readonly type: 'drain'; readonly drainMs: number }
  /** The control plane refuses this data plane (another protocol, a name taken); the channel closes after it. */
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

/** Data plane → control plane. */
export type DataMessage =
  /**
   * The first message on every connection, once the data plane can hear. Answered by `start`, or by
   * `failed` and a closed channel.
   */
  | {
      readonly type: 'hello';
      readonly protocol: number;
      /** Unique among the control plane's data planes: a worker's slot, a remote one's `--name` or host:pid. */
      readonly name: string;
      /** The revision it routes by now (0 before its first table); the control plane's own numbering. */
      readonly revision: number;
      /** Where it listens already: a remote data plane reconnecting (its own listeners, bound once). */
      readonly addresses?: Partial<Record<ListenerName, AddressInfo>>;
    }
  /** Listeners open, routing by the start message's table. */
  | {
      readonly type: 'listening';
      readonly revision: number;
      readonly addresses: Partial<Record<ListenerName, AddressInfo>>;
    }
  /** The table of `revision` is in force: requests from now on route by it. */
  | { readonly type: 'applied'; readonly revision: number }
  /** Counts since the previous stats message, and the process's resident memory now. */
  | { readonly type: 'stats'; readonly delta: StatsDelta; readonly rssBytes: number }
  /** The data plane could not do what it was told (a table it refused, a listener it could not bind). */
  | { readonly type: 'failed'; readonly code: string; readonly message: string }
  /** Drained: nothing is in flight and the last stats were sent. */
  | { readonly type: 'drained' };

/** One transport's end of the channel, as either plane sees it. */
export interface Channel<In, Out> {
  send(message: Out): void;
  /** Calls `listener` with every message received. */
  onMessage(listener: (message: In) => void): void;
  /** Calls `listener` once when the other end is gone. */
  onClose(listener: () => void): void;
}
