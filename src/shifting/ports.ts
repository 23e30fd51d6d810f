/**
 * @module shifting/ports
 * What the deployment engine needs from the world, as interfaces it owns. Adapters (hook executors,
 * local task sets, stores) implement them; the engine never imports an adapter, so a 15-minute canary
 * runs as a millisecond test with fakes and a manual clock.
 */
import type { Diagnostics, LifecycleEventName } from '../codedeploy/lifecycle.js';
import type { FaultConfig, FaultSchedule } from '../config/faults.js';
import type { HealthCheckConfig } from '../config/versions.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { FaultSpec, ListenerName } from '../core/route-table.js';
import type { DeploymentRecord } from './deployment.js';

// The records that cross these ports, so that an adapter needs nothing of shifting but this file.
export type {
  AutoRollbackEvent,
  DeploymentEvent,
  DeploymentPlan,
  DeploymentRecord,
  LifecycleEventRecord,
  RecoveryPolicy,
  TimelineEvent,
} from './deployment.js';

/** One invocation of a lifecycle hook, as CodeDeploy makes it. */
export interface HookInvocation {
  readonly deploymentId: string;
  /** Opaque id the hook reports back with PutLifecycleEventHookExecutionStatus. */
  readonly executionId: string;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly event: LifecycleEventName;
  /** The hook as the AppSpec names it: a name from the config's `hooks:` map, or an http(s) URL. */
  readonly target: string;
  /** How long the hook may take, in milliseconds of the deployment's (scaled) clock. */
  readonly timeoutMs: number;
}

/** How a hook ended: CodeDeploy's lifecycle event status and diagnostics. */
export interface HookOutcome {
  readonly status: 'Succeeded' | 'Failed';
  readonly diagnostics: Diagnostics;
}

/** Runs lifecycle hooks; resolves when the hook has reported (or failed, or timed out). */
export interface HookRunner {
  /** Runs one hook; `signal` aborts it when the deployment is stopped. Never rejects. */
  run(invocation: HookInvocation, signal: AbortSignal): Promise<HookOutcome>;
  /** The timeout this runner's config gives `target`, unscaled, in ms; absent = the plan's default. */
  timeoutOf?(target: string): number;
}

/** What a deployment asks the alarm watcher to watch. */
export interface AlarmWatch {
  readonly deploymentId: string;
  readonly service: string;
  /** Version labels: the original (blue) and the replacement (green). */
  readonly original: string;
  readonly replacement: string;
  /** Alarm names from the deployment group's (or the deployment's override) alarmConfiguration. */
  readonly alarms: readonly string[];
  /** When true, an alarm whose state cannot be read is ignored instead of stopping the deployment. */
  readonly ignorePollAlarmFailure: boolean;
}

/** Watches a deployment's alarms while it runs, and says when one fires. */
export interface AlarmWatcher {
  /** Starts watching; `fire` is called at most once, with the alarm's name and why it fired. */
  watch(watch: AlarmWatch, fire: (alarm: string, reason: string) => void): void;
  /** Stops watching a deployment (it ended); harmless when not watched. */
  unwatch(deploymentId: string): void;
}

/** Starts and retires the processes of a version (a local "task set"); versions with fixed targets need nothing. */
export interface ReplacementLauncher {
  /** Makes `version` of `service` ready to serve (started and healthy), or rejects saying why. */
  prepare(service: string, version: string, signal: AbortSignal): Promise<void>;
  /** Stops what {@link prepare} started; harmless for versions it did not start. */
  retire(service: string, version: string): Promise<void>;
}

/** Why a version could not be made ready, with the last lines its processes printed (diagnostics.logTail). */
export class ReplacementNotReady extends Error {
  constructor(
    message: string,
    readonly logTail = '',
  ) {
    super(message);
    this.name = 'ReplacementNotReady';
  }
}

/** Waits until a target passes its health check (the health checks' prober, in the running app). */
export interface ReadinessCheck {
  /** Resolves once `target` passes `check`; rejects after `deadlineMs` saying what it last saw, or on abort. */
  untilHealthy(
    target: string,
    check: HealthCheckConfig | undefined,
    deadlineMs: number,
    signal: AbortSignal,
  ): Promise<void>;
}

/**
 * Whether `version` of `service` still has a weight on a listener, warned of when it does: a launcher never
 * retires such a version, as that would turn a stop into an outage.
 */
export function stillCarriesTraffic(traffic: TrafficPort, log: Logger, service: string, version: string): boolean {
  const view = traffic.service(service);
  if (!Object.values(view.weights).some((w) => (w[version] ?? 0) > 0)) return false;
  log.warn({ service, version, weights: view.weights }, 'not retiring a version that still carries traffic');
  return true;
}

/** A launcher for versions whose targets are fixed in the config: nothing to start or stop. */
export const fixedTargets: ReplacementLauncher = {
  prepare: async () => undefined,
  retire: async () => undefined,
};

/** A version's weights in percent (to 0.01), by label. */
export type PercentWeights = Readonly<Record<string, number>>;

/** A fault's percents in force now (0 for a kind it does not have, or before its schedule starts it). */
export interface FaultPercents {
  readonly abort: number;
  readonly delay: number;
}

/** A version's fault as set (seeded, with its schedule when it has one) and its percents in force now. */
export type FaultView = FaultSpec & { readonly schedule?: FaultSchedule; readonly active: FaultPercents };

/**
 * Where a deployment's traffic shift began (AllowTraffic), on the deployment's own clock: scheduled faults
 * count from it. `timeScale` is the clock's, so that steps can be bounded in real time.
 */
export interface ShiftStart {
  readonly clock: Clock;
  /** The moment the shift began, in `clock`'s time. */
  readonly at: number;
  readonly timeScale: number;
}

/** What `GET /v1/services` shows of one service. */
export interface ServiceView {
  readonly name: string;
  readonly match: { readonly host?: string; readonly pathPrefix: string };
  readonly live: string;
  readonly versions: readonly { readonly label: string; readonly targets: readonly string[] }[];
  /** Per listener, percent by version label. */
  readonly weights: Readonly<Record<ListenerName, PercentWeights>>;
  /** Faults injected into versions' requests, by label (as set, and in force now); absent when none is. */
  readonly faults?: Readonly<Record<string, FaultView>>;
}

/**
 * The traffic state as the pieces beside the engine use it: health checks take failing targets out,
 * task sets publish the targets they start, recovery puts kept weights back, the API reads and sets
 * weights. TrafficState is the one implementation.
 */
export interface TrafficPort {
  /** Every service, in config order. */
  services(): ServiceView[];
  /** One service; throws SERVICE_NOT_FOUND. */
  service(name: string): ServiceView;
  /** The version labels a service has. */
  allLabels(service: string): string[];
  /** A version's targets, including those kept out of rotation by their health checks. */
  allTargets(service: string, label: string): readonly string[];
  /** Replaces the targets of a version; an empty list makes it unroutable. */
  setTargets(service: string, label: string, targets: readonly string[]): void;
  /** Takes a target out of rotation (false) or puts it back (true). */
  setTargetHealthy(service: string, label: string, target: string, healthy: boolean): void;
  /** Sets all weights of a listener, in percent. */
  setWeights(service: string, weights: PercentWeights, listener?: ListenerName): ServiceView;
  /** Gives one version `percent` of a listener and the rest to the live version. */
  setVersionPercent(service: string, label: string, percent: number, listener?: ListenerName): ServiceView;
  /** Injects faults into a version's requests, or stops (undefined); publishes a table. */
  setFault(service: string, label: string, fault: FaultConfig | undefined): ServiceView;
  /** Makes `label` the live version with all traffic on both listeners. */
  setLive(service: string, label: string): ServiceView;
  /**
   * Marks a shift in progress (routing.retryOnOriginal applies), or ends it. With `start`, the service's
   * scheduled faults (re)start from that moment; without, they stay as they are.
   */
  setShifting(
    service: string,
    shifting: { original: string; replacement: string; start?: ShiftStart } | undefined,
  ): void;
  /** Whether a shift is in progress. */
  isShifting(service: string): boolean;
  /** Starts (a label) or stops (undefined) copying requests to a replacement (routing.mirror). */
  setMirroring(service: string, replacement: string | undefined): void;
  /**
   * Resolves once every data plane (each worker, each host) routes by the latest change: the moment traffic
   * has really moved. Bounded: a data plane that does not acknowledge in time is replaced.
   */
  applied(): Promise<void>;
  /** Puts back a kept live version and weights (basis points per listener). */
  restore(
    service: string,
    saved: { live: string; weights: Readonly<Record<ListenerName, Readonly<Record<string, number>>>> },
  ): void;
}

/** Where the engine keeps its deployment records, so that a restart forgets nothing (the store). */
export interface DeploymentJournal {
  /** Keeps a deployment record as it is now; called after every change to one. */
  save(record: DeploymentRecord): void;
  /**
   * Runs `fn` so that the writes it causes (records, traffic) are kept all or none: the store's
   * transaction. A step that changes several things (a rollback: traffic, the rollback record, the
   * failed one) is then never half kept by a crash.
   */
  atomically(fn: () => void): void;
}

// The DeploymentStore: where everything the API returns is kept so that a restart forgets nothing.
// Documents are plain JSON by kind and key; a kind lists in the order its keys were first written, which
// is the order the API lists deployments, applications and groups in. Writes are synchronous: the
// control plane's rate of change is small, and a write that returned is on disk (SQLite, WAL), or, for a
// store on a server (PostgreSQL), applied in memory and committed in order behind it: durable() says when.

/** The kinds of documents kept. */
export const STORE_KINDS = [
  'application',
  'group',
  'config',
  'deployment',
  'request',
  'service',
  'hookExecution',
  'process',
  'notification',
  'alarm',
] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** One stored document; what the value is, its reader checks (with the schema it was written from). */
export interface StoredDocument {
  readonly key: string;
  readonly value: unknown;
}

/** Keeps JSON documents by kind and key. */
export interface DeploymentStore {
  /** Inserts or replaces a document; a replaced one keeps its place in its kind's order. */
  put(kind: StoreKind, key: string, value: unknown): void;
  /** Removes a document; removing one that is not there is not an error. */
  delete(kind: StoreKind, key: string): void;
  /** One document's value, or undefined. */
  get(kind: StoreKind, key: string): unknown;
  /** Every document of a kind, in the order their keys were first written. */
  list(kind: StoreKind): StoredDocument[];
  /** Runs `fn` so that all of its writes happen or none do. */
  transaction(fn: () => void): void;
  /**
   * Resolves once every write made before the call is committed where it survives this process (at once for
   * a store that commits as it writes); rejects with STORE_FAILED or STORE_LEADERSHIP_LOST when one cannot be.
   */
  durable(): Promise<void>;
  /** Releases the store (closes the database). */
  close(): void;
}
