/**
 * @module app/workers/fleet
 * The primary's side of `--workers N`: N node:cluster workers, each a whole data plane on the same
 * listeners, steered over the data channel. Every table goes to every worker; a change counts as applied
 * once each serving worker has acknowledged it, and a worker that does not in time is replaced. A worker
 * that dies is replaced and given the current table before it accepts; the others serve on. Stats from
 * all of them are merged into one source for the control plane.
 */
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';

import type { Clock } from '../../core/clock.js';
import {
  type Channel,
  type ControlMessage,
  DATA_CHANNEL_PROTOCOL,
  type DataMessage,
  type ListenOptions,
} from '../../core/data-channel.js';
import { isErrorCode, SwitchyardError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RouteTable } from '../../core/route-table.js';
import { mergeStatsDeltas, type StatsDelta } from '../../core/stats-delta.js';
import { Acknowledgements } from '../acknowledgements.js';
import { ipcChannel } from './ipc-channel.js';

/** How a fleet is made. */
export interface FleetOptions {
  /** Workers to run. */
  readonly size: number;
  /** The built worker entry point (app/workers/worker-main.js). */
  readonly entry: string;
  readonly logLevel: string;
  readonly log: Logger;
  readonly clock: Clock;
  /** How long a worker may take to acknowledge a table before it is replaced. */
  readonly ackTimeoutMs: number;
  /** How often workers send their stats. */
  readonly statsIntervalMs: number;
}

/** One worker as the primary tracks it. */
interface Member {
  readonly worker: Worker;
  readonly channel: Channel<DataMessage, ControlMessage>;
  /** A stable name for metrics and logs, `1`…`N`: a replacement takes the name of the worker it replaces. */
  readonly slot: number;
  /** The latest revision it routes by. */
  applied: number;
  /** Sent its start message. */
  started: boolean;
  /** Accepting on the listeners (and so counted for acknowledgements). */
  serving: boolean;
  /** Being replaced or stopped: no longer counted. */
  leaving: boolean;
  requests: number;
  rssBytes: number;
  readonly drained: Promise<void>;
}

/** A worker's figures for /metrics. */
export interface WorkerReading {
  readonly worker: string;
  readonly requests: number;
  readonly rssBytes: number;
}

/** How a worker's start is settled: with its addresses, or why it failed. */
interface Starting {
  readonly resolve: (addresses: Record<string, AddressInfo>) => void;
  readonly refuse: (code: string, message: string) => void;
}

/** How long a worker may take from its start to accepting connections. */
const WORKER_START_TIMEOUT_MS = 30_000;

/** The longest pause before starting again a worker that keeps dying before it serves. */
const MAX_RESTART_DELAY_MS = 5_000;

/** N workers proxying on the same listeners, steered as one data plane. */
export class WorkerFleet {
  readonly #options: FleetOptions;
  readonly #log: Logger;
  readonly #members = new Map<number, Member>();
  #table: RouteTable | undefined;
  #listeners: ListenOptions | undefined;
  #deltas: StatsDelta[] = [];
  #restarts = 0;
  /** Consecutive deaths before serving, per slot: the back-off's exponent. */
  readonly #failures = new Map<number, number>();
  #stopping = false;
  #closed: Promise<void> | undefined;
  readonly #acks: Acknowledgements;

  constructor(options: FleetOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#acks = new Acknowledgements({
      clock: options.clock,
      timeoutMs: options.ackTimeoutMs,
      settled: (revision) => this.#settled(revision),
      overdue: (revision) => this.#overdue(revision),
    });
    cluster.setupPrimary({ exec: options.entry, args: [] });
    cluster.on('exit', this.#exitListener);
  }

  readonly #exitListener = (worker: Worker, code: number | null, signal: string | null): void =>
    this.#onExit(worker, code, signal);

  /** Workers replaced since start. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Takes the newest table: workers running get it at once, workers started later start on it. */
  publish(table: RouteTable): void {
    this.#table = table;
    if (this.#listeners === undefined) return;
    let any = false;
    for (const m of this.#members.values()) {
      // A worker not yet started starts on the newest table.
      if (m.leaving || !m.started) continue;
      m.channel.send({ type: 'table', table });
      any ||= m.serving;
    }
    if (any) this.#acks.published(table.revision);
  }

  /** Resolves once every serving worker routes by `revision` or later; a worker too slow to say so is replaced. */
  applied(revision: number): Promise<void> {
    return this.#acks.wait(revision);
  }

  /** Replaces the serving workers that have not acknowledged `revision` within the timeout. */
  #overdue(revision: number): void {
    for (const m of this.#members.values()) {
      if (!m.serving || m.leaving || m.applied >= revision) continue;
      this.#log.error(
        { worker: m.slot, revision, applied: m.applied, ackTimeoutMs: this.#options.ackTimeoutMs },
        'a worker did not acknowledge a route table in time: replacing it',
      );
      this.#retire(m);
    }
  }

  /** Starts the workers on the current table; resolves with the listeners' addresses once all accept. */
  async listen(listeners: ListenOptions): Promise<Record<string, AddressInfo>> {
    if (!this.#table) throw new Error('a fleet starts on a table: publish one first');
    this.#listeners = listeners;
    const started = await Promise.all(Array.from({ length: this.#options.size }, (_, i) => this.#start(i + 1)));
    return started[0]!;
  }

  /** Merged counts of every worker since the previous call. */
  takeStats(): StatsDelta {
    const deltas = this.#deltas;
    if (deltas.length === 0) return { entries: [] };
    this.#deltas = [];
    return mergeStatsDeltas(deltas);
  }

  /** Each worker's figures now. */
  readings(): WorkerReading[] {
    return [...this.#members.values()]
      .filter((m) => !m.leaving)
      .map((m) => ({ worker: String(m.slot), requests: m.requests, rssBytes: m.rssBytes }));
  }

  /** Propagation times (ms) measured since the previous call. */
  takePropagations(): number[] {
    return this.#acks.takePropagations();
  }

  /** Drains every worker (each finishes its requests for up to `drainMs`), then resolves when all have exited. */
  close(drainMs: number): Promise<void> {
    this.#closed ??= this.#close(drainMs);
    return this.#closed;
  }

  async #close(drainMs: number): Promise<void> {
    this.#stopping = true;
    this.#acks.stopDeadlines();
    const members = [...this.#members.values()];
    for (const m of members) m.channel.send({ type: 'drain', drainMs });
    await Promise.all(
      members.map(async (m) => {
        // A worker that cannot finish its drain in its time (and a margin) is cut.
        const cancel = this.#options.clock.setTimer(drainMs + 2_000, () => m.worker.process.kill('SIGKILL'));
        await m.drained;
        cancel();
      }),
    );
    // Nothing waits for a table that no worker will acknowledge.
    this.#acks.releaseWaits();
    cluster.off('exit', this.#exitListener);
  }

  /** Forks the worker for `slot` and resolves with its addresses once it accepts. */
  #start(slot: number): Promise<Record<string, AddressInfo>> {
    const worker = cluster.fork({ SWITCHYARD_WORKER: String(slot), SWITCHYARD_LOG_LEVEL: this.#options.logLevel });
    const channel = ipcChannel<DataMessage, ControlMessage>(worker);
    let exited!: () => void;
    const member: Member = {
      worker,
      channel,
      slot,
      applied: 0,
      started: false,
      serving: false,
      leaving: false,
      requests: 0,
      rssBytes: 0,
      drained: new Promise((resolve) => (exited = resolve)),
    };
    worker.once('exit', () => exited());
    // node:cluster's own messages to a worker that has just died fail with EPIPE on the worker: expected,
    // its exit is handled by #onExit, and unheard the error would end the primary.
    worker.on('error', (err) => this.#log.debug({ err, worker: slot }, 'message to a worker failed'));
    this.#members.set(worker.id, member);
    return new Promise((resolve, reject) => {
      const started: Starting = {
        resolve,
        refuse: (code, message) => reject(new SwitchyardError(isErrorCode(code) ? code : 'WORKER_FAILED', message)),
      };
      worker.once('exit', (code, signal) =>
        started.refuse('WORKER_FAILED', `worker ${slot} exited (${signal ?? code}) before it accepted connections`),
      );
      // A worker that never comes up (stuck loading, its listeners never bound) is not waited for forever.
      const cancel = this.#options.clock.setTimer(WORKER_START_TIMEOUT_MS, () => {
        if (member.serving || member.leaving) return;
        started.refuse(
          'WORKER_FAILED',
          `worker ${slot} did not accept connections within ${WORKER_START_TIMEOUT_MS} ms`,
        );
        this.#retire(member);
      });
      worker.once('exit', cancel);
      channel.onMessage((message) => this.#hear(member, message, started));
    });
  }

  /** What a worker says, as the primary acts on it; `started` settles its start (later calls do nothing). */
  #hear(member: Member, message: DataMessage, started: Starting): void {
    const { slot, worker, channel } = member;
    switch (message.type) {
      case 'hello':
        if (message.protocol !== DATA_CHANNEL_PROTOCOL) {
          started.refuse(
            'PROTOCOL_MISMATCH',
            `worker ${slot} speaks data channel protocol ${message.protocol}, the primary ${DATA_CHANNEL_PROTOCOL}`,
          );
          this.#retire(member);
          return;
        }
        // The newest table: one published while this worker was starting is in it.
        channel.send({
          type: 'start',
          protocol: DATA_CHANNEL_PROTOCOL,
          table: this.#table!,
          listeners: this.#listeners!,
          statsIntervalMs: this.#options.statsIntervalMs,
        });
        member.started = true;
        return;
      case 'listening':
        member.serving = true;
        member.applied = Math.max(member.applied, message.revision);
        this.#failures.delete(slot);
        this.#log.debug({ worker: slot, pid: worker.process.pid, revision: member.applied }, 'worker serving');
        started.resolve(message.addresses);
        this.#acks.settle();
        return;
      case 'applied':
        member.applied = Math.max(member.applied, message.revision);
        this.#acks.settle();
        return;
      case 'stats': {
        const { delta } = message;
        // Each worker ejects targets on its own failures: the control plane keeps them apart.
        const targets = delta.targets?.map((e) => ({ ...e, dataPlane: `worker ${slot}` }));
        this.#deltas.push(targets ? { ...delta, targets } : delta);
        member.rssBytes = message.rssBytes;
        for (const e of delta.entries) if (!e.mirrored) for (const n of e.counts) member.requests += n;
        return;
      }
      case 'failed':
        this.#log.error({ worker: slot, code: message.code }, `worker failed: ${message.message}`);
        started.refuse(message.code, `worker ${slot}: ${message.message}`);
        // A worker that refused a table still routes by an older one: it must not serve on.
        if (member.serving) this.#retire(member);
        return;
      case 'drained':
        member.serving = false;
        return;
    }
  }

  /** Takes a worker out of the count and kills it; its exit starts the replacement. */
  #retire(member: Member): void {
    member.leaving = true;
    member.serving = false;
    member.worker.process.kill('SIGKILL');
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    const member = this.#members.get(worker.id);
    if (!member) return;
    this.#members.delete(worker.id);
    this.#acks.settle();
    if (this.#stopping) return;
    this.#restarts++;
    const failures = member.serving || member.leaving ? 0 : (this.#failures.get(member.slot) ?? 0) + 1;
    this.#failures.set(member.slot, failures);
    // A worker that dies before it ever serves (a bad host, no memory) is started again ever more slowly.
    const delayMs = failures === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** (failures - 1));
    this.#log.warn(
      { worker: member.slot, pid: worker.process.pid, code, signal, restartInMs: delayMs },
      'a worker exited: starting a replacement on the current table',
    );
    this.#options.clock.setTimer(delayMs, () => {
      if (this.#stopping) return;
      this.#start(member.slot).catch((err: unknown) =>
        this.#log.error({ err, worker: member.slot }, 'a replacement worker did not start'),
      );
    });
  }

  /** Whether every serving worker routes by `revision` or later. */
  #settled(revision: number): boolean {
    for (const m of this.#members.values()) if (m.serving && !m.leaving && m.applied < revision) return false;
    return true;
  }
}
