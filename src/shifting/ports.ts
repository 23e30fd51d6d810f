/**
 * @module shifting/ports
 * What the deployment engine needs from the world, as interfaces it owns. Adapters (hook executors,
 * local task sets, stores) implement them; the engine never imports an adapter, so a 15-minute canary
 * runs as a millisecond test with fakes and a manual clock.
 */
import type { Diagnostics, LifecycleEventName } from './lifecycle.js';

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
