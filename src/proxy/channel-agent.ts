/**
 * @module proxy/channel-agent
 * A data plane steered from elsewhere: it does what a control plane's messages say (start on a table,
 * apply each new one, drain) and answers over the same channel (hello, listening, applied, stats,
 * drained). Transport-free: a cluster worker binds it to IPC, a data plane on another host to a WebSocket
 * it replaces each time it reconnects (the data plane, its listeners and its counts outlive a channel).
 */
import type { AddressInfo } from 'node:net';

import {
  type Channel,
  type ControlMessage,
  DATA_CHANNEL_PROTOCOL,
  type DataMessage,
  type ListenOptions,
} from '../core/data-channel.js';
import { describeError } from '../core/describe-error.js';
import { SwitchyardError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { StatsDelta } from '../core/stats-delta.js';
import { DataPlane } from './data-plane.js';

type StartMessage = Extract<ControlMessage, { type: 'start' }>;

/** Whether a delta carries anything worth a message. */
function hasNews(delta: StatsDelta): boolean {
  return delta.entries.length > 0 || delta.refused !== undefined || delta.targets !== undefined;
}

/** Who a data plane steered over a channel is, and what it holds of its own. */
export interface AgentOptions {
  /** Its name in every hello: unique among its control plane's data planes. */
  readonly name: string;
  /** Reads this process's resident memory for the stats. */
  readonly rss?: () => number;
  /**
   * Listeners of its own (a data plane on another host): bound at its first start whatever the control
   * plane names, and kept across reconnections.
   */
  readonly listeners?: ListenOptions;
}

/** What a data plane's owner hears from its agent besides the end. */
export interface AgentEvents {
  /** A start was carried out: the first one (listeners opened) or one after a reconnection. */
  started?(info: { readonly revision: number; readonly previous: number; readonly first: boolean }): void;
  /**
   * The control plane refused this data plane (another protocol version, a name taken) or this data plane
   * refused the control plane's protocol. Without this hook the agent ends.
   */
  refused?(code: string, message: string): void;
  /** The data plane could not start (a table it cannot route by, a listener it cannot bind); it ends. */
  failed?(err: unknown): void;
}

/**
 * Serves as `channel`'s control plane says until it is told to drain (or the control plane is gone);
 * resolves once the data plane is closed.
 */
export function serveAsTold(
  channel: Channel<ControlMessage, DataMessage>,
  log: Logger,
  options: AgentOptions,
): Promise<void> {
  return new Promise((resolve) => {
    const agent = new ChannelAgent(log, options, resolve);
    // A control plane that is gone leaves no data plane proxying on a table nobody updates.
    agent.attach(channel, () => {
      log.warn('the control plane is gone: closing without a drain');
      agent.end(0, false);
    });
  });
}

/** One data plane and the channel it answers on now. */
export class ChannelAgent {
  #channel: Channel<ControlMessage, DataMessage> | undefined;
  #plane: DataPlane | undefined;
  #addresses: Record<string, AddressInfo> | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #statsIntervalMs = 0;
  #ending = false;
  readonly #rss: () => number;

  /** `ended` is called once the data plane is closed. */
  constructor(
    private readonly log: Logger,
    private readonly options: AgentOptions,
    private readonly ended: () => void,
    private readonly events: AgentEvents = {},
  ) {
    this.#rss = options.rss ?? (() => process.memoryUsage.rss());
  }

  /** The revision routed by now; 0 before the first table. */
  get revision(): number {
    return this.#plane?.table.revision ?? 0;
  }

  /** Where the listeners are bound, once they are. */
  get addresses(): Readonly<Record<string, AddressInfo>> | undefined {
    return this.#addresses;
  }

  /**
   * Speaks over `channel` from now on, starting with hello; `closed` hears once it is gone. A channel
   * replaced by a later one is no longer heard.
   */
  attach(channel: Channel<ControlMessage, DataMessage>, closed: () => void): void {
    this.#channel = channel;
    channel.onMessage((message) => {
      if (this.#channel === channel) this.hear(message);
    });
    channel.onClose(() => {
      if (this.#channel !== channel) return;
      this.#channel = undefined;
      closed();
    });
    // Messages sent before anyone listened are lost: the control plane starts this data plane once it hears.
    channel.send({
      type: 'hello',
      protocol: DATA_CHANNEL_PROTOCOL,
      name: this.options.name,
      revision: this.revision,
      ...(this.#addresses && { addresses: this.#addresses }),
    });
  }

  /** Carries out one control message. */
  hear(message: ControlMessage): void {
    switch (message.type) {
      case 'start':
        return this.#start(message);
      case 'table':
        if (!this.#plane) return;
        try {
          this.#plane.apply(message.table);
          this.#send({ type: 'applied', revision: message.table.revision });
        } catch (err) {
          // The table before stays in force; the control plane hears why (and replaces this data plane).
          this.#fail(err);
        }
        return;
      case 'drain':
        return this.end(message.drainMs, true);
      case 'failed':
        return this.#refused(message.code, message.message);
    }
  }

  /** Closes the data plane (draining for up to `drainMs`); `tell` sends the last stats and `drained`. */
  end(drainMs: number, tell: boolean): void {
    if (this.#ending) return;
    this.#ending = true;
    void (async () => {
      clearInterval(this.#statsTimer);
      await this.#plane?.close(drainMs);
      if (tell) {
        // The drain's requests are counted: the last stats go up before the word that it is done.
        this.#sendStats(false);
        this.#send({ type: 'drained' });
      }
    })().then(this.ended, (err: unknown) => {
      this.log.error({ err }, 'data plane close failed');
      this.ended();
    });
  }

  #start(message: StartMessage): void {
    if (this.#ending) return;
    if (message.protocol !== DATA_CHANNEL_PROTOCOL) {
      const text = `the control plane speaks data channel protocol ${message.protocol}, this data plane ${DATA_CHANNEL_PROTOCOL}`;
      this.#fail(new SwitchyardError('PROTOCOL_MISMATCH', text));
      return this.#refused('PROTOCOL_MISMATCH', text);
    }
    this.#everyInterval(message.statsIntervalMs);
    if (this.#plane) return this.#restart(this.#plane, message);
    let plane: DataPlane;
    try {
      plane = new DataPlane(message.table, this.log);
    } catch (err) {
      return this.#cannotStart(err);
    }
    // Set before listening: a table sent meanwhile is applied, so the listeners open on the newest one.
    this.#plane = plane;
    plane.listen(this.options.listeners ?? message.listeners).then(
      (addresses) => {
        this.#addresses = addresses;
        this.#send({ type: 'listening', revision: plane.table.revision, addresses });
        this.events.started?.({ revision: plane.table.revision, previous: 0, first: true });
      },
      (err: unknown) => this.#cannotStart(err),
    );
  }

  #cannotStart(err: unknown): void {
    this.#fail(err);
    this.events.failed?.(err);
    this.end(0, false);
  }

  /** A start on a new channel to a data plane already serving: the table replaced, the listeners kept. */
  #restart(plane: DataPlane, message: StartMessage): void {
    const previous = plane.table.revision;
    try {
      plane.apply(message.table);
    } catch (err) {
      // The table before stays in force; the control plane hears why.
      this.#fail(err);
      return;
    }
    // Still binding: the first start's listen says `listening` once it is done.
    if (!this.#addresses) return;
    this.#send({ type: 'listening', revision: message.table.revision, addresses: this.#addresses });
    this.events.started?.({ revision: message.table.revision, previous, first: false });
  }

  /** Sends the stats every `ms` from now (the control plane's interval, which a new one may change). */
  #everyInterval(ms: number): void {
    if (this.#statsTimer && ms === this.#statsIntervalMs) return;
    clearInterval(this.#statsTimer);
    this.#statsIntervalMs = ms;
    this.#statsTimer = setInterval(() => this.#sendStats(true), ms);
    // Stats are pushed for the control plane; they must not keep a draining process alive.
    this.#statsTimer.unref();
  }

  #sendStats(always: boolean): void {
    // With no control plane to hear them the counts stay in the data plane, and go up once one does.
    if (!this.#plane || !this.#channel) return;
    const delta = this.#plane.takeStats();
    if (always || hasNews(delta)) this.#send({ type: 'stats', delta, rssBytes: this.#rss() });
  }

  #send(message: DataMessage): void {
    this.#channel?.send(message);
  }

  #refused(code: string, message: string): void {
    if (this.events.refused) return this.events.refused(code, message);
    this.log.error({ code }, `refused: ${message}`);
    this.end(0, false);
  }

  #fail(err: unknown): void {
    const code = err instanceof SwitchyardError ? err.code : 'INTERNAL';
    this.#send({ type: 'failed', code, message: describeError(err) });
  }
}
