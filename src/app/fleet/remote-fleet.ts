/**
 * @module app/fleet/remote-fleet
 * The control plane's side of remote data planes (`serve --data-plane`), each connected over a WebSocket
 * (./ws-channel). Every table goes to every connected data plane; a change counts as applied once each
 * serving one has acknowledged it, and one that does not in time is marked lost and its connection closed
 * (it reconnects, and is given the current table). Their stats are merged into one source with the local
 * data plane's. A data plane that leaves or goes silent is remembered for this run, so that deployments
 * pause rather than move traffic it would not follow (the shifting DataPlaneGate).
 */

import type { WebSocket } from 'ws';

import type { DataPlaneRoster, DataPlaneState, DataPlaneView } from '../../api/rest/data-planes.js';
import type { Clock } from '../../core/clock.js';
import {
  type ControlMessage,
  DATA_CHANNEL_PROTOCOL,
  type DataMessage,
  type ListenOptions,
} from '../../core/data-channel.js';
import { describeError } from '../../core/describe-error.js';
import { SwitchyardError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RouteTable } from '../../core/route-table.js';
import { mergeStatsDeltas, type StatsDelta } from '../../core/stats-delta.js';
import type { DataPlaneGate, UnreachableDataPlane } from '../../shifting/data-plane-gate.js';
import { Acknowledgements } from '../acknowledgements.js';
import { wellFormed } from './stats-shape.js';
import { type Heartbeat, type WsChannel, wsChannel } from './ws-channel.js';

/** How a remote fleet is made. */
export interface RemoteFleetOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** How long a data plane may take to acknowledge a table before it is marked lost. */
  readonly ackTimeoutMs: number;
  /** How long a data plane may be unreachable before deployments stop moving traffic. */
  readonly graceMs: number;
  /** How often data planes send their stats. */
  readonly statsIntervalMs: number;
  /** The listeners named in start messages (a remote data plane binds its own: they are for workers). */
  readonly listeners: ListenOptions;
  /** Heartbeat timings of each connection; the ws-channel defaults when absent. */
  readonly heartbeat?: Heartbeat;
}

type Channel = WsChannel<DataMessage, ControlMessage>;

/** One data plane as the control plane remembers it. */
interface Member {
  readonly name: string;
  channel: Channel | undefined;
  address: string;
  listeners: Record<string, string>;
  state: DataPlaneState;
  since: number;
  connectedSince: number;
  /** Sent the current table and said it listens: counted for acknowledgements. */
  serving: boolean;
  /** Has served in this run: only such a data plane is waited for once gone. */
  served: boolean;
  applied: number;
  requests: number;
  rssBytes: number;
  lastStatsAt: number | undefined;
  lastAway: { ms: number; missedRevisions: number } | undefined;
}

/** How long a new connection may take to say hello. */
const HELLO_TIMEOUT_MS = 5_000;

/** Longest data plane name taken: it is a metric label and a log field. */
const MAX_NAME_LENGTH = 128;

/** Remote data planes, steered as one. */
export class RemoteFleet implements DataPlaneRoster, DataPlaneGate {
  readonly #options: RemoteFleetOptions;
  readonly #log: Logger;
  readonly #members = new Map<string, Member>();
  #table: RouteTable | undefined;
  readonly #returns = new Set<() => void>();
  #deltas: StatsDelta[] = [];
  #closed = false;
  readonly #acks: Acknowledgements;

  constructor(options: RemoteFleetOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#acks = new Acknowledgements({
      clock: options.clock,
      timeoutMs: options.ackTimeoutMs,
      settled: (revision) => this.#settled(revision),
      overdue: (revision) => this.#overdue(revision),
    });
  }

  /** {@inheritDoc DataPlaneGate.graceMs} */
  get graceMs(): number {
    return this.#options.graceMs;
  }

  /** Takes the newest table: connected data planes get it at once, those connecting later start on it. */
  publish(table: RouteTable): void {
    this.#table = table;
    let any = false;
    for (const m of this.#members.values()) {
      if (!m.channel || m.state !== 'connected') continue;
      m.channel.send({ type: 'table', table });
      any ||= m.serving;
    }
    if (any) this.#acks.published(table.revision);
  }

  /** Resolves once every serving data plane routes by `revision` or later; one too slow to say so is marked lost. */
  applied(revision: number): Promise<void> {
    return this.#acks.wait(revision);
  }

  /** Marks lost the serving data planes that have not acknowledged `revision` within the timeout. */
  #overdue(revision: number): void {
    for (const m of this.#members.values()) {
      if (!m.serving || m.applied >= revision) continue;
      this.#log.error(
        { dataPlane: m.name, revision, applied: m.applied, ackTimeoutMs: this.#options.ackTimeoutMs },
        'a data plane did not acknowledge a route table in time: marked lost',
      );
      this.#lose(m);
    }
  }

  /** Merged counts of every data plane since the previous call. */
  takeStats(): StatsDelta {
    const deltas = this.#deltas;
    if (deltas.length === 0) return { entries: [] };
    this.#deltas = [];
    return mergeStatsDeltas(deltas);
  }

  /** Propagation times (ms, publish to the last acknowledgement) since the previous call. */
  takePropagations(): number[] {
    return this.#acks.takePropagations();
  }

  /** {@inheritDoc DataPlaneRoster.list} (by name) */
  list(): DataPlaneView[] {
    const byName = [...this.#members.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    return byName.map((m) => ({
      name: m.name,
      address: m.address,
      listeners: { ...m.listeners },
      state: m.state,
      since: m.since,
      revision: m.applied,
      requests: m.requests,
      connectedSince: m.connectedSince,
      ...(m.lastStatsAt !== undefined && { lastStatsAt: m.lastStatsAt }),
      ...(m.lastAway && { lastAway: { ...m.lastAway } }),
    }));
  }

  /** {@inheritDoc DataPlaneRoster.forget} */
  forget(name: string): void {
    const m = this.#members.get(name);
    if (!m) throw new SwitchyardError('DATA_PLANE_NOT_FOUND', `no data plane "${name}" has been seen in this run`);
    if (m.state === 'connected') {
      throw new SwitchyardError(
        'DATA_PLANE_CONNECTED',
        `data plane "${name}" is connected: only one gone can be forgotten`,
      );
    }
    this.#members.delete(name);
    this.#returned();
  }

  /** {@inheritDoc DataPlaneGate.unreachable} */
  unreachable(): UnreachableDataPlane[] {
    const now = this.#options.clock.now();
    const out: UnreachableDataPlane[] = [];
    for (const m of this.#members.values()) {
      if ((m.state === 'lost' || m.state === 'away') && now - m.since > this.#options.graceMs) {
        out.push({ name: m.name, since: m.since });
      }
    }
    return out;
  }

  /** {@inheritDoc DataPlaneGate.onReturn} */
  onReturn(listener: () => void): () => void {
    this.#returns.add(listener);
    return () => this.#returns.delete(listener);
  }

  /** {@inheritDoc DataPlaneRoster.accept} */
  accept(socket: WebSocket, address: string): void {
    const channel: Channel = wsChannel(socket, this.#options.clock, this.#options.heartbeat);
    if (this.#closed) return channel.close(1001, 'control plane stopping');
    let member: Member | undefined;
    const cancelHello = this.#options.clock.setTimer(HELLO_TIMEOUT_MS, () => {
      this.#log.warn({ address }, 'a data plane connection said no hello in time: closed');
      channel.terminate();
    });
    channel.onMessage((message) => {
      try {
        if (member) return this.#hear(member, message);
        if (message.type !== 'hello') return channel.close(1002, 'hello first');
        cancelHello();
        member = this.#join(channel, address, message);
      } catch (err) {
        // A message this side cannot act on (a malformed delta, say) ends that connection, not the control plane.
        this.#log.error({ err, address, dataPlane: member?.name }, 'a data plane message could not be handled');
        channel.terminate();
      }
    });
    channel.onClose(() => {
      cancelHello();
      if (member) this.#gone(member, channel);
    });
  }

  /** Closes every connection; the data planes keep serving their last table and reconnect to whoever answers. */
  close(): Promise<void> {
    this.#closed = true;
    this.#acks.stopDeadlines();
    for (const m of this.#members.values()) m.channel?.close(1001, 'control plane stopping');
    // Nothing waits for a table that no data plane will acknowledge.
    this.#acks.releaseWaits();
    return Promise.resolve();
  }

  /** Checks a hello and starts the data plane on the current table; undefined when refused. */
  #join(channel: Channel, address: string, hello: Extract<DataMessage, { type: 'hello' }>): Member | undefined {
    const refuse = (code: string, message: string) => {
      this.#log.warn({ address, code, dataPlane: hello.name }, `a data plane was refused: ${message}`);
      channel.send({ type: 'failed', code, message });
      channel.close(1008, code);
      return undefined;
    };
    if (hello.protocol !== DATA_CHANNEL_PROTOCOL) {
      return refuse(
        'PROTOCOL_MISMATCH',
        `the data plane speaks data channel protocol ${hello.protocol}, the control plane ${DATA_CHANNEL_PROTOCOL}`,
      );
    }
    const name = typeof hello.name === 'string' ? hello.name : '';
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
      return refuse('ARGUMENTS_INVALID', `a data plane name must be 1 to ${MAX_NAME_LENGTH} characters`);
    }
    const now = this.#options.clock.now();
    const known = this.#members.get(name);
    if (known?.state === 'connected') {
      return refuse(
        'DATA_PLANE_NAME_TAKEN',
        `a data plane named "${name}" is connected already (from ${known.address})`,
      );
    }
    const table = this.#table!;
    const member: Member = known ?? {
      name,
      channel,
      address,
      listeners: {},
      state: 'connected',
      since: now,
      connectedSince: now,
      serving: false,
      served: false,
      applied: 0,
      requests: 0,
      rssBytes: 0,
      lastStatsAt: undefined,
      lastAway: undefined,
    };
    if (known) {
      // Its hello says which revision of ours it still routes by: what it missed is the difference.
      const had = typeof hello.revision === 'number' ? hello.revision : 0;
      const away = { ms: now - known.since, missedRevisions: Math.max(0, table.revision - had) };
      this.#log.info(
        { dataPlane: name, address, awayMs: away.ms, missedRevisions: away.missedRevisions, was: known.state },
        'a data plane came back',
      );
      Object.assign(known, {
        channel,
        address,
        state: 'connected',
        since: now,
        connectedSince: now,
        serving: false,
        lastAway: away,
      });
      this.#returned();
    } else {
      this.#members.set(name, member);
      this.#log.info({ dataPlane: name, address, revision: hello.revision }, 'a data plane joined');
    }
    channel.send({
      type: 'start',
      protocol: DATA_CHANNEL_PROTOCOL,
      table,
      listeners: this.#options.listeners,
      statsIntervalMs: this.#options.statsIntervalMs,
    });
    return member;
  }

  /** What a joined data plane says, as the control plane acts on it. */
  #hear(m: Member, message: DataMessage): void {
    switch (message.type) {
      case 'hello':
        return;
      case 'listening':
        m.serving = true;
        m.served = true;
        m.applied = message.revision;
        m.listeners = Object.fromEntries(
          Object.entries(message.addresses).map(([listener, a]) => [listener, urlOf(a.address, a.family, a.port)]),
        );
        this.#log.info({ dataPlane: m.name, revision: m.applied, listeners: m.listeners }, 'a data plane is serving');
        return this.#acks.settle();
      case 'applied':
        m.applied = Math.max(m.applied, message.revision);
        return this.#acks.settle();
      case 'stats': {
        const { delta } = message;
        // Checked here, not when merged: a bad delta would otherwise fail the stats pump for every source.
        if (!wellFormed(delta)) throw new Error('a stats message that is not a StatsDelta');
        // Each data plane ejects targets on its own failures: the control plane keeps them apart.
        const targets = delta.targets?.map((e) => ({ ...e, dataPlane: m.name }));
        this.#deltas.push(targets ? { ...delta, targets } : delta);
        m.rssBytes = message.rssBytes;
        m.lastStatsAt = this.#options.clock.now();
        for (const e of delta.entries) if (!e.mirrored) for (const n of e.counts) m.requests += n;
        return;
      }
      case 'failed':
        this.#log.error({ dataPlane: m.name, code: message.code }, `a data plane failed: ${message.message}`);
        // One that refused a table still routes by an older one: it is not counted as following.
        if (m.serving) this.#lose(m);
        return;
      case 'drained':
        m.serving = false;
        m.state = 'left';
        m.since = this.#options.clock.now();
        this.#log.info({ dataPlane: m.name }, 'a data plane drained and left');
        return this.#acks.settle();
    }
  }

  /** Marks a data plane lost and ends its connection. */
  #lose(m: Member): void {
    m.serving = false;
    m.state = 'lost';
    m.since = this.#options.clock.now();
    m.channel?.terminate();
  }

  /** A connection ended: its data plane is away (unless lost or left already). */
  #gone(m: Member, channel: Channel): void {
    if (m.channel !== channel) return;
    m.channel = undefined;
    m.serving = false;
    if (!m.served) {
      // Refused its table, or could not bind: it never followed, so nothing waits for it.
      this.#members.delete(m.name);
      this.#log.warn({ dataPlane: m.name, why: channel.ended }, 'a data plane left before it served');
      return this.#acks.settle();
    }
    if (m.state === 'connected') {
      m.state = channel.ended === 'silent' ? 'lost' : 'away';
      m.since = this.#options.clock.now();
      this.#log.warn({ dataPlane: m.name, state: m.state, why: channel.ended }, 'a data plane is unreachable');
    }
    this.#acks.settle();
  }

  /** Tells whoever waits that a data plane came back or was forgotten. */
  #returned(): void {
    for (const listener of [...this.#returns]) {
      try {
        listener();
      } catch (err) {
        this.#log.error({ err: describeError(err) }, 'a data plane return listener failed');
      }
    }
  }

  /** Whether every serving data plane routes by `revision` or later. */
  #settled(revision: number): boolean {
    for (const m of this.#members.values()) if (m.serving && m.applied < revision) return false;
    return true;
  }
}

/** A listener's base URL from its bound address. */
function urlOf(address: string, family: string, port: number): string {
  return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
}
