/**
 * @module proxy/faults
 * Faults injected into one version's requests, as Envoy's HTTP fault filter injects them: a request may
 * be held for a delay, then answered with an error status or a reset connection without reaching a
 * target. Each is counted as that version's outcome, so health windows and alarms see an injected 503 as
 * they would see a real one. Draws come from seeded PRNGs: one seed and one request order, one result.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import { drawLognormal, type Lognormal, lognormalOf, Mulberry32 } from '../core/random.js';
import type { FaultSpec } from '../core/route-table.js';
import { OUTCOME_ERROR, outcomeOf } from '../core/stats-delta.js';
import type { VersionStats } from '../core/stats-recorder.js';
import { writeProxyError } from './proxy-error.js';

/** The longest delay drawn from a distribution (its far tail is cut here): 5 minutes. */
const MAX_DRAWN_DELAY_MS = 300_000;

/** Goes on with a request the fault let pass, now or after its delay (the data plane forwards it). */
export type Resume<C> = (req: IncomingMessage, res: ServerResponse, context: C) => void;

/** A request held for its delay; released to its abort or onward, or dropped when the client leaves. */
class HeldRequest<C> {
  timer: NodeJS.Timeout | undefined;
  /** The client left while held: the timer goes, nothing is counted (the version did nothing). */
  readonly gone = (): void => clearTimeout(this.timer);

  constructor(
    readonly fault: CompiledFault,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly versionHeader: string | false,
    readonly abort: boolean,
    readonly started: number,
    readonly context: C,
    readonly resume: Resume<C>,
  ) {}
}

/** The delay is over: the request is aborted or goes on. */
function release<C>(held: HeldRequest<C>): void {
  const res = held.res;
  res.off('close', held.gone);
  if (res.destroyed) return;
  if (held.abort) held.fault.abort(res, held.versionHeader, performance.now() - held.started);
  else held.resume(held.req, res, held.context);
}

/**
 * A fault's seeded draw streams, apart from the thresholds they are compared with: a table whose fault
 * differs only in its percents (a schedule's step) compiles with the same streams, so a percent change
 * goes on with the sequence instead of starting it over.
 */
export class FaultDraws {
  /** Separate streams, so that which requests abort depends on the seed alone, not on the delays drawn. */
  readonly abort: Mulberry32;
  readonly delay: Mulberry32;

  constructor(seed: number) {
    this.abort = new Mulberry32(seed);
    this.delay = new Mulberry32(seed ^ 0x5bd1e995);
  }
}

/** One version's faults, compiled: the draws and what they do to a request. */
export class CompiledFault {
  readonly #abortDraws: Mulberry32;
  readonly #delayDraws: Mulberry32;
  readonly #abortPercent: number;
  readonly #delayPercent: number;
  readonly #status: number | undefined;
  readonly #fixedMs: number | undefined;
  readonly #drawn: Lognormal | undefined;

  constructor(
    /** What it was compiled from: a table with the same spec keeps this fault and its draws going. */
    readonly spec: FaultSpec,
    readonly label: string,
    readonly stats: VersionStats,
    /** The streams to draw from: another fault's to go on with its sequence, fresh ones by default. */
    readonly draws: FaultDraws = new FaultDraws(spec.seed),
  ) {
    this.#abortDraws = draws.abort;
    this.#delayDraws = draws.delay;
    this.#abortPercent = spec.abort?.percent ?? 0;
    const abort = spec.abort;
    this.#status = abort && 'status' in abort ? abort.status : undefined;
    const delay = spec.delay;
    this.#delayPercent = delay?.percent ?? 0;
    this.#fixedMs = delay && 'fixedMs' in delay ? delay.fixedMs : undefined;
    this.#drawn = delay && 'p50Ms' in delay ? lognormalOf(delay.p50Ms, delay.p99Ms) : undefined;
  }

  /**
   * Applies the fault to a request: it goes on at once through `resume` (no fault drawn), is answered
   * now (aborted), or is held for its delay and then aborted or resumed.
   */
  intercept<C>(
    req: IncomingMessage,
    res: ServerResponse,
    versionHeader: string | false,
    context: C,
    resume: Resume<C>,
  ): void {
    // Both draws are made for every request, so each stream advances once per request.
    const delayMs = this.#drawDelay();
    const abort = this.#abortPercent > 0 && this.#abortDraws.next() * 100 < this.#abortPercent;
    if (delayMs <= 0) {
      if (abort) this.abort(res, versionHeader, 0);
      else resume(req, res, context);
      return;
    }
    const held = new HeldRequest(this, req, res, versionHeader, abort, performance.now(), context, resume);
    res.on('close', held.gone);
    held.timer = setTimeout(release<C>, delayMs, held);
  }

  /** Aborts a request as the spec says, counted as the version's outcome after `ms`. */
  abort(res: ServerResponse, versionHeader: string | false, ms: number): void {
    const status = this.#status;
    if (status === undefined) {
      this.stats.record(OUTCOME_ERROR, ms);
      // A reset (RST), not a clean close: what a crashed or overloaded target's client sees.
      res.socket?.resetAndDestroy();
      res.destroy();
      return;
    }
    this.stats.record(outcomeOf(status), ms);
    writeProxyError(
      res,
      'FAULT_INJECTED',
      `fault injected into version ${this.label}: aborted with ${status}`,
      versionHeader,
      this.label,
      status,
    );
  }

  /** This request's delay in ms; 0 for none. */
  #drawDelay(): number {
    if (this.#delayPercent <= 0) return 0;
    // Draws for the share and for the amount are taken either way, so that the stream stays aligned.
    const chosen = this.#delayDraws.next() * 100 < this.#delayPercent;
    const u1 = this.#delayDraws.next();
    const u2 = this.#delayDraws.next();
    if (!chosen) return 0;
    if (this.#fixedMs !== undefined || !this.#drawn) return this.#fixedMs ?? 0;
    return Math.min(MAX_DRAWN_DELAY_MS, Math.round(drawLognormal(this.#drawn, u1, u2)));
  }
}

/** What an abort does, as text: none, a reset or a status. */
function abortKind(abort: FaultSpec['abort']): string {
  if (!abort) return 'none';
  return 'status' in abort ? `status ${abort.status}` : 'reset';
}

/** How long a delay holds, as text: none, fixed or drawn. */
function delayKind(delay: FaultSpec['delay']): string {
  if (!delay) return 'none';
  return 'fixedMs' in delay ? `fixed ${delay.fixedMs}` : `drawn ${delay.p50Ms} ${delay.p99Ms}`;
}

/**
 * Whether two specs differ at most in their percents: then a recompiled table goes on with the fault's
 * draw streams ({@link FaultDraws}) rather than starting them over.
 */
export function sameDraws(a: FaultSpec, b: FaultSpec): boolean {
  return a.seed === b.seed && abortKind(a.abort) === abortKind(b.abort) && delayKind(a.delay) === delayKind(b.delay);
}

/** Whether two specs are the same fault (then a recompiled table keeps the fault and its draws). */
export function sameFault(a: FaultSpec, b: FaultSpec): boolean {
  return sameDraws(a, b) && a.abort?.percent === b.abort?.percent && a.delay?.percent === b.delay?.percent;
}
