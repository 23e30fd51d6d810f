/**
 * @module functions/pool
 * The execution environments of one function version: warm ones are reused (the most recently used
 * first, so the others go idle and are reaped), new ones started up to `concurrency`, and an invocation
 * beyond it refused as Lambda throttles (`TooManyRequestsException`) rather than queued.
 */
import type { CancelTimer, Clock } from '../core/clock.js';
import { SwitchyardError } from '../core/errors.js';
import type { ExecutionEnvironment, InvokeOptions, InvokeOutcome } from './environment.js';

/** How a version's environments are kept. */
export interface PoolOptions {
  readonly clock: Clock;
  /** Most environments at once, busy or idle. */
  readonly concurrency: number;
  /** An environment idle this long is closed. */
  readonly idleMs: number;
  /** Makes a new (not yet started) environment. */
  readonly create: () => ExecutionEnvironment;
}

interface Slot {
  readonly env: ExecutionEnvironment;
  cancelReap: CancelTimer | undefined;
}

/** Environments of one version, reused while warm, reaped when idle. */
export class EnvironmentPool {
  private readonly idle: Slot[] = [];
  private readonly all = new Set<Slot>();
  private closed = false;

  /** Nothing starts until the first invocation. */
  constructor(private readonly options: PoolOptions) {
    if (!(options.concurrency >= 1)) throw new SwitchyardError('INTERNAL', 'concurrency must be at least 1');
  }

  /** Environments now kept (busy and idle). */
  get size(): number {
    return this.all.size;
  }

  /** Environments now idle. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Runs one invocation on a warm environment, or a new one; throws FUNCTION_THROTTLED beyond concurrency. */
  async invoke(event: Buffer | string, options: InvokeOptions = {}): Promise<InvokeOutcome> {
    if (this.closed) throw new SwitchyardError('VERSION_NOT_READY', 'the function version is closed');
    const slot = this.take();
    try {
      return await slot.env.invoke(event, options);
    } finally {
      this.release(slot);
    }
  }

  /**
   * Initialises one environment ahead of traffic (when none is kept yet), so the version is ready and
   * its first request is warm; resolves with the Init time, or the Init failure as an invocation sees it.
   */
  async warm(): Promise<
    { readonly kind: 'ready'; readonly initMs: number } | { readonly kind: 'failed'; readonly outcome: InvokeOutcome }
  > {
    if (this.closed) throw new SwitchyardError('VERSION_NOT_READY', 'the function version is closed');
    if (this.all.size > 0) return { kind: 'ready', initMs: 0 };
    const slot: Slot = { env: this.options.create(), cancelReap: undefined };
    this.all.add(slot);
    const result = await slot.env.warm();
    if (result.kind === 'ready') this.release(slot);
    else {
      this.all.delete(slot);
      await slot.env.close();
    }
    return result;
  }

  /** Closes every environment, idle or busy; their processes are killed. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    for (const slot of slots) slot.cancelReap?.();
    await Promise.all(slots.map((slot) => slot.env.close()));
  }

  private take(): Slot {
    const warm = this.idle.pop();
    if (warm) {
      warm.cancelReap?.();
      warm.cancelReap = undefined;
      return warm;
    }
    if (this.all.size >= this.options.concurrency) {
      throw new SwitchyardError(
        'FUNCTION_THROTTLED',
        `Rate Exceeded. (all ${this.options.concurrency} execution environments are busy)`,
      );
    }
    const slot: Slot = { env: this.options.create(), cancelReap: undefined };
    this.all.add(slot);
    return slot;
  }

  private release(slot: Slot): void {
    if (this.closed || !this.all.has(slot)) return;
    this.idle.push(slot);
    slot.cancelReap = this.options.clock.setTimer(this.options.idleMs, () => void this.reap(slot));
  }

  private async reap(slot: Slot): Promise<void> {
    const at = this.idle.indexOf(slot);
    if (at < 0) return;
    this.idle.splice(at, 1);
    this.all.delete(slot);
    await slot.env.close();
  }
}
