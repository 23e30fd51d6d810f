/**
 * @module health/target-health
 * The health of every target, all the time (not only during deployments): active checks on the clock for
 * versions that declare `healthCheck`, and the passive ejections the data plane reports in its
 * StatsDeltas. An actively unhealthy target is taken out of the route table through TrafficPort; an
 * ejected one the data plane already skips. Every change is logged and handed to `onChange` (deployment
 * timelines), and a version whose share went elsewhere for want of a routable target is logged too.
 */
import type { ServiceConfig } from '../config/schema.js';
import type { CancelTimer, Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { StatsDelta } from '../core/stats-delta.js';
import type { TrafficPort } from '../shifting/ports.js';
import type { Prober } from './probe.js';

/** What a target's health is: checked and passing or failing, ejected by failures, or not checked. */
export type TargetState = 'healthy' | 'unhealthy' | 'ejected' | 'unchecked';

/** One target's health as the API shows it. */
export interface TargetHealthView {
  readonly target: string;
  readonly state: TargetState;
  /** Why, for a target that is not healthy: the last check's answer or the ejection. */
  readonly reason?: string;
  /** Epoch ms of the last change. */
  readonly since: number;
}

/** A change of one target's health. */
export interface TargetHealthChange {
  readonly service: string;
  readonly version: string;
  readonly target: string;
  readonly state: TargetState;
  readonly reason: string;
}

/** What the health tracker is built from. */
export interface TargetHealthDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly services: readonly ServiceConfig[];
  readonly traffic: TrafficPort;
  readonly prober: Prober;
  readonly onChange?: (change: TargetHealthChange) => void;
}

interface Active {
  healthy: boolean;
  passes: number;
  failures: number;
  reason: string;
  since: number;
}

interface Ejection {
  readonly until: number;
  readonly reason: string;
  readonly since: number;
}

/** Tracks active and passive health per target. */
export class TargetHealth {
  readonly #deps: TargetHealthDeps;
  /** By service, version and target. */
  readonly #active = new Map<string, Active>();
  /**
   * By target URL (ejection is about the target, whichever version lists it), then by the data plane that
   * ejected it: with workers each ejects on the failures it sees, and the target is out while any has it out.
   */
  readonly #ejected = new Map<string, Map<string, Ejection>>();
  readonly #timers: CancelTimer[] = [];
  #running = false;

  constructor(deps: TargetHealthDeps) {
    this.#deps = deps;
  }

  /** Starts the active checks of every version that declares `healthCheck`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const service of this.#deps.services) {
      for (const [label, spec] of Object.entries(service.versions)) {
        if (spec.healthCheck) this.#schedule(service.name, label, 0);
      }
    }
  }

  /** Stops the checks. */
  stop(): void {
    this.#running = false;
    for (const cancel of this.#timers.splice(0)) cancel();
  }

  /** Reads ejections, returns and failovers from a delta; a StatsHub listener. */
  readonly record = (delta: StatsDelta): void => {
    const now = this.#deps.clock.now();
    for (const event of delta.targets ?? []) {
      const owners = this.#owners(event.target);
      const by = event.dataPlane ? ` by ${event.dataPlane}` : '';
      const planes = this.#ejected.get(event.target) ?? new Map<string, Ejection>();
      this.#ejected.set(event.target, planes);
      if (event.state === 'ejected') {
        const reason = `ejected${by} for ${event.ejectionMs} ms after consecutive failures`;
        planes.set(event.dataPlane ?? '', { until: now + event.ejectionMs, reason, since: now });
        for (const [service, version] of owners)
          this.#changed({ service, version, target: event.target, state: 'ejected', reason });
      } else {
        planes.delete(event.dataPlane ?? '');
        // Still out while another data plane has it out.
        if (this.#ejection(event.target, now)) continue;
        const reason = `answered again after its ejection${by}`;
        for (const [service, version] of owners)
          this.#changed({ service, version, target: event.target, state: 'healthy', reason });
      }
    }
    for (const entry of delta.entries) {
      if (entry.failedOver > 0) {
        this.#deps.log.warn(
          { service: entry.service, version: entry.version, requests: entry.failedOver },
          'version had no routable target: its share went to another version',
        );
      }
    }
  };

  /** The ejection in force on `target` (the one lasting longest when several data planes have it out). */
  #ejection(target: string, now: number): Ejection | undefined {
    let out: Ejection | undefined;
    for (const e of this.#ejected.get(target)?.values() ?? [])
      if (e.until > now && (!out || e.until > out.until)) out = e;
    return out;
  }

  /** Every target of a service's versions with its health, by version label. */
  viewOf(service: string): Record<string, TargetHealthView[]> {
    const now = this.#deps.clock.now();
    const out: Record<string, TargetHealthView[]> = {};
    for (const version of this.#deps.traffic.service(service).versions) {
      out[version.label] = version.targets.map((target) => {
        const ejection = this.#ejection(target, now);
        if (ejection) return { target, state: 'ejected', reason: ejection.reason, since: ejection.since };
        const active = this.#active.get(keyOf(service, version.label, target));
        if (!active) return { target, state: 'unchecked', since: 0 };
        return active.healthy
          ? { target, state: 'healthy', since: active.since }
          : { target, state: 'unhealthy', reason: active.reason, since: active.since };
      });
    }
    return out;
  }

  /** Every target as healthy (1) or not (0), for the metrics. */
  readings(): { service: string; version: string; target: string; healthy: number }[] {
    return this.#deps.traffic.services().flatMap((service) =>
      Object.entries(this.viewOf(service.name)).flatMap(([version, targets]) =>
        targets.map((t) => ({
          service: service.name,
          version,
          target: t.target,
          healthy: t.state === 'unhealthy' || t.state === 'ejected' ? 0 : 1,
        })),
      ),
    );
  }

  #schedule(service: string, version: string, delayMs: number): void {
    if (!this.#running) return;
    const cancel = this.#deps.clock.setTimer(delayMs, () => {
      const i = this.#timers.indexOf(cancel);
      if (i >= 0) this.#timers.splice(i, 1);
      void this.#check(service, version);
    });
    this.#timers.push(cancel);
  }

  /** Probes every target of a version once, then schedules the next round. */
  async #check(service: string, version: string): Promise<void> {
    const spec = this.#deps.services.find((s) => s.name === service)?.versions[version];
    const check = spec?.healthCheck;
    if (!check || !this.#running) return;
    // The targets as routed now plus those held out for failing: a version run by command changes them.
    const targets = this.#deps.traffic.allTargets(service, version);
    await Promise.all(
      targets.map(async (target) => {
        const result = await this.#deps.prober.probe(target, check);
        if (!this.#running) return;
        const key = keyOf(service, version, target);
        const now = this.#deps.clock.now();
        let state = this.#active.get(key);
        if (!state) this.#active.set(key, (state = { healthy: true, passes: 0, failures: 0, reason: '', since: now }));
        if (result.healthy) {
          state.failures = 0;
          state.passes++;
          if (!state.healthy && state.passes >= check.healthyThreshold) {
            Object.assign(state, { healthy: true, since: now, reason: '' });
            this.#deps.traffic.setTargetHealthy(service, version, target, true);
            this.#changed({
              service,
              version,
              target,
              state: 'healthy',
              reason: `${check.healthyThreshold} checks in a row passed`,
            });
          }
        } else {
          state.passes = 0;
          state.failures++;
          state.reason = result.detail;
          if (state.healthy && state.failures >= check.unhealthyThreshold) {
            Object.assign(state, { healthy: false, since: now });
            this.#deps.traffic.setTargetHealthy(service, version, target, false);
            this.#changed({ service, version, target, state: 'unhealthy', reason: result.detail });
          }
        }
      }),
    );
    this.#schedule(service, version, check.interval);
  }

  #changed(change: TargetHealthChange): void {
    const level = change.state === 'healthy' ? 'info' : 'warn';
    this.#deps.log[level]({ ...change }, `target ${change.state}`);
    this.#deps.onChange?.(change);
  }

  /** The services and versions that list a target. */
  #owners(target: string): [string, string][] {
    return this.#deps.traffic
      .services()
      .flatMap((s) =>
        s.versions.filter((v) => v.targets.includes(target)).map((v): [string, string] => [s.name, v.label]),
      );
  }
}

const keyOf = (service: string, version: string, target: string) => `${service}\u0000${version}\u0000${target}`;
