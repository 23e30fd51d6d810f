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
