/**
 * @module proxy/channel-agent
 * A data plane steered from elsewhere: it does what a control plane's messages say (start on a table,
 * apply each new one, drain) and answers over the same channel (hello, listening, applied, stats,
 * drained). Transport-free: a cluster worker binds it to IPC; a data plane on another host would bind it
 * to a socket.
 */
import { type Channel, type ControlMessage, DATA_CHANNEL_PROTOCOL, type DataMessage } from '../core/data-channel.js';
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

/**
 * Serves as `channel`'s control plane says until it is told to drain (or the control plane is gone);
 * resolves once the data plane is closed. `rss` reads this process's resident memory for the stats.
 */
export function serveAsTold(
  channel: Channel<ControlMessage, DataMessage>,
  log: Logger,
  rss: () => number = () => process.memoryUsage.rss(),
): Promise<void> {
  return new Promise((resolve) => {
    const agent = new ChannelAgent(channel, log, rss, resolve);
    channel.onMessage((message) => agent.hear(message));
    // Messages sent before anyone listened are lost: the control plane starts this data plane once it hears.
    channel.send({ type: 'hello', protocol: DATA_CHANNEL_PROTOCOL });
    // A control plane that is gone leaves no data plane proxying on a table nobody updates.
    channel.onClose(() => {
      log.warn('the control plane is gone: closing without a drain');
      agent.end(0, false);
    });
  });
}

/** One data plane and the channel it answers on. */
class ChannelAgent {
  #plane: DataPlane | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #ending = false;

  constructor(
    private readonly channel: Channel<ControlMessage, DataMessage>,
    private readonly log: Logger,
    private readonly rss: () => number,
    private readonly ended: () => void,
  ) {}

  hear(message: ControlMessage): void {
    switch (message.type) {
      case 'start':
        return this.#start(message);
      case 'table':
        if (!this.#plane) return;
        try {
          this.#plane.apply(message.table);
          this.channel.send({ type: 'applied', revision: message.table.revision });
        } catch (err) {
          // The table before stays in force; the control plane hears why (and replaces this data plane).
          this.#fail(err);
        }
        return;
      case 'drain':
        return this.end(message.drainMs, true);
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
        this.channel.send({ type: 'drained' });
      }
    })().then(this.ended, (err: unknown) => {
      this.log.error({ err }, 'data plane close failed');
      this.ended();
    });
  }

  #start(message: StartMessage): void {
    if (this.#plane) return;
    if (message.protocol !== DATA_CHANNEL_PROTOCOL) {
      this.#fail(
        new SwitchyardError(
          'PROTOCOL_MISMATCH',
          `the control plane speaks data channel protocol ${message.protocol}, this data plane ${DATA_CHANNEL_PROTOCOL}`,
        ),
      );
      return this.end(0, false);
    }
    let plane: DataPlane;
    try {
      plane = new DataPlane(message.table, this.log);
    } catch (err) {
      this.#fail(err);
      return this.end(0, false);
    }
    // Set before listening: a table sent meanwhile is applied, so the listeners open on the newest one.
    this.#plane = plane;
    plane.listen(message.listeners).then(
      (addresses) => {
        this.channel.send({ type: 'listening', revision: plane.table.revision, addresses });
        this.#statsTimer = setInterval(() => this.#sendStats(true), message.statsIntervalMs);
        // Stats are pushed for the control plane; they must not keep a draining process alive.
        this.#statsTimer.unref();
      },
      (err: unknown) => {
        this.#fail(err);
        this.end(0, false);
      },
    );
  }

  #sendStats(always: boolean): void {
    if (!this.#plane) return;
    const delta = this.#plane.takeStats();
    if (always || hasNews(delta)) this.channel.send({ type: 'stats', delta, rssBytes: this.rss() });
  }

  #fail(err: unknown): void {
    const code = err instanceof SwitchyardError ? err.code : 'INTERNAL';
    this.channel.send({ type: 'failed', code, message: describeError(err) });
  }
}
