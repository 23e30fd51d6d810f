/**
 * @module shifting/traffic
 * The control plane's view of where traffic goes: per service the live version and the weights of each
 * listener. Every change builds a whole new RouteTable and publishes it; the data plane never sees a
 * half-applied change. Deployments, the REST API, health checks and recovery change traffic only through
 * this (as shifting/ports' TrafficPort).
 */
import type { FaultConfig } from '../config/faults.js';
import type { Config } from '../config/schema.js';
import type { ServiceConfig } from '../config/services.js';
import { SwitchyardError } from '../core/errors.js';
import {
  FULL_WEIGHT,
  type ListenerName,
  LISTENERS,
  type RouteTable,
  type ServiceRoute,
  type UpstreamSettings,
} from '../core/route-table.js';
import { isHttpUrl } from '../core/url.js';
import { type ScheduledFault, ServiceFaults } from './fault-schedules.js';
import type { PercentWeights, ServiceView, ShiftStart, TrafficPort } from './ports.js';

/** Receives every new RouteTable: the data plane in process, or a channel to workers. */
export interface RoutePublisher {
  publish(table: RouteTable): void;
  /**
   * Resolves once what this publisher feeds routes by `revision` or a later table; absent when `publish`
   * applies the table before it returns.
   */
  applied?(revision: number): Promise<void>;
}

interface ServiceState {
  readonly config: ServiceConfig;
  live: string;
  /** While a deployment shifts the service: its original and replacement versions. */
  shifting: { readonly original: string; readonly replacement: string } | undefined;
  /** While a deployment's replacement is ready: the version copies of requests go to (routing.mirror). */
  mirroring: string | undefined;
  /** Targets failing their active health checks, as `label\u0000url`: kept out of the route table. */
  readonly down: Set<string>;
  targets: Map<string, readonly string[]>;
  weights: Record<ListenerName, Record<string, number>>;
  /** Faults injected into a version's requests, by label (seeded), and which are in force now. */
  readonly faults: ServiceFaults;
}

/** A fault as set: the config's, with a random seed when it names none. */
function seeded(fault: FaultConfig): ScheduledFault {
  return { ...fault, seed: fault.seed ?? Math.floor(Math.random() * 0x1_0000_0000) };
}

/** Converts percent weights (summing to 100, at most two decimals) to basis points, or says why not. */
export function toBasisPoints(weights: PercentWeights, labels: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  let sum = 0;
  for (const [label, percent] of Object.entries(weights)) {
    if (!labels.includes(label)) {
      throw new SwitchyardError('VERSION_NOT_FOUND', `no version "${label}" (versions: ${labels.join(', ')})`);
    }
    const bp = Math.round(percent * 100);
    if (!Number.isFinite(percent) || percent < 0 || percent > 100 || Math.abs(bp - percent * 100) > 1e-6) {
      throw new SwitchyardError(
        'WEIGHTS_INVALID',
        `weight of "${label}" must be 0 to 100 with at most two decimals, got ${percent}`,
      );
    }
    if (bp > 0) out[label] = bp;
    sum += bp;
  }
  if (sum !== FULL_WEIGHT) throw new SwitchyardError('WEIGHTS_INVALID', `weights must add up to 100, got ${sum / 100}`);
  return out;
}

/** Holds the traffic state of every service and publishes it as RouteTables. */
export class TrafficState implements TrafficPort {
  readonly #config: Config;
  readonly #services = new Map<string, ServiceState>();
  readonly #publishers: RoutePublisher[] = [];
  #revision = 0;
  #table: RouteTable;

  constructor(config: Config) {
    this.#config = config;
    for (const s of config.services) {
      const labels = Object.keys(s.versions);
      const faults = new ServiceFaults(() => this.#publish());
      for (const [label, f] of Object.entries(s.faults ?? {})) faults.set(label, seeded(f));
      const production = s.weights ? toBasisPoints(s.weights, labels) : { [s.live]: FULL_WEIGHT };
      this.#services.set(s.name, {
        config: s,
        live: s.live,
        // A version started by command has no targets until its processes run.
        targets: new Map(
          Object.entries(s.versions).map(([label, v]) => [label, v.kind === 'targets' ? v.targets : []]),
        ),
        // The test listener starts on the live version, as CodeDeploy's does before AllowTestTraffic.
        weights: { production, test: { [s.live]: FULL_WEIGHT } },
        shifting: undefined,
        mirroring: undefined,
        down: new Set(),
        faults,
      });
    }
    this.#table = this.#build();
  }

  /** The table in force now. */
  get table(): RouteTable {
    return this.#table;
  }

  /** Adds a receiver of tables; it gets the current one at once. */
  attach(publisher: RoutePublisher): void {
    this.#publishers.push(publisher);
    publisher.publish(this.#table);
  }

  /** Resolves once every data plane routes by the table in force now (at once when all are in process). */
  async applied(): Promise<void> {
    const revision = this.#table.revision;
    const waits: Promise<void>[] = [];
    for (const p of this.#publishers) if (p.applied) waits.push(p.applied(revision));
    await Promise.all(waits);
  }

  /** Every service as the API shows it. */
  services(): ServiceView[] {
    return [...this.#services.values()].map((s) => this.#view(s));
  }

  /** One service as the API shows it. */
  service(name: string): ServiceView {
    return this.#view(this.#state(name));
  }

  /** The version labels a service has. */
  allLabels(service: string): string[] {
    return [...this.#state(service).targets.keys()];
  }

  /**
   * Puts a service back as a store kept it (live version and basis-point weights of each listener), in one
   * publish; refuses, changing nothing, when the config no longer has a version it names.
   */
  restore(
    service: string,
    saved: { live: string; weights: Readonly<Record<ListenerName, Readonly<Record<string, number>>>> },
  ): void {
    const state = this.#state(service);
    this.#label(state, saved.live);
    const labels = [...state.targets.keys()];
    const asPercent = (bp: Readonly<Record<string, number>>) =>
      Object.fromEntries(Object.entries(bp).map(([l, w]) => [l, w / 100]));
    const production = toBasisPoints(asPercent(saved.weights.production), labels);
    const test = toBasisPoints(asPercent(saved.weights.test), labels);
    state.live = saved.live;
    state.weights = { production, test };
    this.#publish();
  }

  /** Sets the weights of one listener of a service (percent by label, summing to 100). */
  setWeights(service: string, weights: PercentWeights, listener: ListenerName = 'production'): ServiceView {
    const state = this.#state(service);
    state.weights[listener] = toBasisPoints(weights, [...state.targets.keys()]);
    this.#publish();
    return this.#view(state);
  }

  /**
   * Gives `percent` of a listener's traffic to version `label` and the rest to the live version; the
   * common single-knob form of {@link setWeights}.
   */
  setVersionPercent(
    service: string,
    label: string,
    percent: number,
    listener: ListenerName = 'production',
  ): ServiceView {
    const state = this.#state(service);
    if (label === state.live) return this.setWeights(service, { [label]: 100 }, listener);
    return this.setWeights(service, { [label]: percent, [state.live]: +(100 - percent).toFixed(2) }, listener);
  }

  /** Makes `label` the live version and sends all of both listeners' traffic to it. */
  setLive(service: string, label: string): ServiceView {
    const state = this.#state(service);
    this.#label(state, label);
    state.live = label;
    for (const l of LISTENERS) state.weights[l] = { [label]: FULL_WEIGHT };
    this.#publish();
    return this.#view(state);
  }

  /**
   * Marks a service as being shifted from `original` to `replacement` (or no longer, with undefined), so
   * that its routing options that only apply during a deployment (retry on the original) take effect.
   * With `start` (the shift's beginning on the deployment's clock) its scheduled faults start over from
   * it; when the shift ends they stay at the percents they reached. One table for all of it.
   */
  setShifting(
    service: string,
    shifting: { original: string; replacement: string; start?: ShiftStart } | undefined,
  ): void {
    const state = this.#state(service);
    if (shifting) {
      this.#label(state, shifting.original);
      this.#label(state, shifting.replacement);
      if (shifting.start) state.faults.begin(shifting.start);
    } else {
      state.faults.end();
    }
    state.shifting = shifting && { original: shifting.original, replacement: shifting.replacement };
    this.#publish();
  }

  /** Takes a target of a version out of the route table (failing its health checks) or puts it back. */
  setTargetHealthy(service: string, label: string, target: string, healthy: boolean): void {
    const state = this.#state(service);
    this.#label(state, label);
    const key = `${label}\u0000${target}`;
    if (healthy === !state.down.has(key)) return;
    if (healthy) state.down.delete(key);
    else state.down.add(key);
    this.#publish();
  }

  /** Every target of a version, routed or held out for failing its health checks. */
  allTargets(service: string, label: string): readonly string[] {
    const state = this.#state(service);
    this.#label(state, label);
    return state.targets.get(label)!;
  }

  /** Starts (with the replacement's label) or stops mirroring production requests of a service. */
  setMirroring(service: string, replacement: string | undefined): void {
    const state = this.#state(service);
    if (replacement !== undefined) this.#label(state, replacement);
    if (state.mirroring === replacement) return;
    state.mirroring = replacement;
    if (state.config.routing.mirror) this.#publish();
  }

  /**
   * Injects faults into a version's requests (replacing any it had), or stops with undefined. A fault with
   * a schedule follows the shift of the deployment under way, or waits for the next one.
   */
  setFault(service: string, label: string, fault: FaultConfig | undefined): ServiceView {
    const state = this.#state(service);
    this.#label(state, label);
    if (state.faults.set(label, fault && seeded(fault))) this.#publish();
    return this.#view(state);
  }

  /** Stops the fault schedules' timers (shutdown); the table stays as it is. */
  close(): void {
    for (const s of this.#services.values()) s.faults.close();
  }

  /** Whether a deployment is marked as shifting `service`. */
  isShifting(service: string): boolean {
    return this.#state(service).shifting !== undefined;
  }

  /** Replaces the targets of a version (e.g. once its processes run); an empty list makes it unroutable. */
  setTargets(service: string, label: string, targets: readonly string[]): void {
    const state = this.#state(service);
    this.#label(state, label);
    // Checked before anything changes: a table the data plane cannot compile would be rejected after the
    // state had moved on, and every later publish would fail with it.
    for (const target of targets) {
      if (!isHttpUrl(target)) {
        throw new SwitchyardError(
          'ARGUMENTS_INVALID',
          `target of ${state.config.name} version "${label}" must be an http(s) URL, got "${target}"`,
        );
      }
    }
    state.targets.set(label, [...targets]);
    this.#publish();
  }

  #state(name: string): ServiceState {
    const state = this.#services.get(name);
    if (!state) {
      throw new SwitchyardError(
        'SERVICE_NOT_FOUND',
        `no service "${name}" (services: ${[...this.#services.keys()].join(', ')})`,
      );
    }
    return state;
  }

  #label(state: ServiceState, label: string): void {
    if (!state.targets.has(label)) {
      throw new SwitchyardError(
        'VERSION_NOT_FOUND',
        `service ${state.config.name} has no version "${label}" (versions: ${[...state.targets.keys()].join(', ')})`,
      );
    }
  }

  #publish(): void {
    this.#table = this.#build();
    for (const p of this.#publishers) p.publish(this.#table);
  }

  #build(): RouteTable {
    const services: ServiceRoute[] = [...this.#services.values()].map((s) => {
      const base = this.#config.upstream;
      const own = s.config.upstream ?? {};
      const upstream: UpstreamSettings = {
        connections: own.connections ?? base.connections,
        connectTimeout: own.connectTimeout ?? base.connectTimeout,
        headersTimeout: own.headersTimeout ?? base.headersTimeout,
        bodyTimeout: own.bodyTimeout ?? base.bodyTimeout,
        keepAliveTimeout: own.keepAliveTimeout ?? base.keepAliveTimeout,
        outlier: outlierOf(own.outlierDetection ?? base.outlierDetection),
      };
      return {
        name: s.config.name,
        host: s.config.match.host,
        pathPrefix: s.config.match.pathPrefix,
        versions: [...s.targets].map(([label, targets]) => {
          const fault = s.faults.spec(label);
          return {
            label,
            targets: s.down.size === 0 ? targets : targets.filter((t) => !s.down.has(`${label}\u0000${t}`)),
            ...(fault && { fault }),
          };
        }),
        live: s.live,
        weights: { production: { ...s.weights.production }, test: { ...s.weights.test } },
        sticky: s.config.routing.sticky,
        overrideHeader: s.config.routing.overrideHeader,
        upstream,
        ...(s.shifting &&
          s.config.routing.retryOnOriginal && {
            retry: {
              from: s.shifting.replacement,
              to: s.shifting.original,
              methods: ['GET', 'HEAD', 'OPTIONS', ...s.config.routing.idempotentMethods],
            },
          }),
        ...(s.mirroring !== undefined &&
          s.config.routing.mirror && {
            mirror: {
              to: s.mirroring,
              weight: Math.round(s.config.routing.mirror.percent * 100),
              maxBodyBytes: s.config.routing.mirror.maxBodyBytes,
            },
          }),
      };
    });
    return { revision: ++this.#revision, versionHeader: this.#config.versionHeader, services };
  }

  #view(s: ServiceState): ServiceView {
    const faults = s.faults.view();
    const percent = (w: Record<string, number>) =>
      Object.fromEntries([...s.targets.keys()].map((label) => [label, (w[label] ?? 0) / 100]));
    return {
      name: s.config.name,
      match: s.config.match,
      live: s.live,
      versions: [...s.targets].map(([label, targets]) => ({ label, targets })),
      weights: { production: percent(s.weights.production), test: percent(s.weights.test) },
      ...(faults && { faults }),
    };
  }
}

function outlierOf(config: Config['upstream']['outlierDetection']): UpstreamSettings['outlier'] {
  return config
    ? {
        consecutiveFailures: config.consecutiveFailures,
        ejectionMs: config.ejectionTime,
        maxEjectionMs: config.maxEjectionTime,
      }
    : undefined;
}
