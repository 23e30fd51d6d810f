/**
 * @module shifting/engine
 * The deployment state machine as the API and the app use it: creates deployments, answers for them,
 * takes users' requests to stop, continue or promote one, and takes back after a restart what a store
 * kept. The lifecycle itself is walked by {@link LifecycleWalk}, ended in shifting/endings, and what
 * becomes of a kept deployment is decided by {@link recoveryDecision}. Every wait comes from the
 * deployment's clock (scaled by its time scale), so a 15-minute canary is a millisecond test under a
 * manual clock.
 */
import { lifecycleOf, TERMINAL_STATUSES } from '../codedeploy/lifecycle.js';
import { scaledClock } from '../core/clock.js';
import { SwitchyardError } from '../core/errors.js';
import { deploymentId } from '../core/ids.js';
import { halt, wantsRollback } from './endings.js';
import { EngineContext, type EngineDeps } from './engine-context.js';
import { LifecycleWalk } from './lifecycle-walk.js';
import type { DeploymentPlan, DeploymentRecord, RecoveryPolicy, TimelineEvent } from './ports.js';
import { recoveryDecision } from './recovery-decision.js';
import { Run } from './run.js';

export type { EngineDeps } from './engine-context.js';

/** Why the runs of a closing engine end: what a hook cut short by it reports. */
const SHUTDOWN = 'switchyard stopped while the hook ran; the deployment is left for the next start (recovery:)';

/** Runs deployments. */
export class DeploymentEngine {
  readonly #ctx: EngineContext;
  readonly #walk: LifecycleWalk;
  /** Deployments taken back by restore, waiting for resumeRestored. */
  readonly #restored: (() => void)[] = [];

  constructor(deps: EngineDeps) {
    this.#ctx = new EngineContext(deps);
    this.#walk = new LifecycleWalk(this.#ctx);
  }

  /**
   * Creates a deployment and starts it on the next turn; returns its record. `id` is given by a caller
   * that had to keep something under it first (CreateDeployment's request).
   */
  create(plan: DeploymentPlan, id: string = deploymentId()): DeploymentRecord {
    const ctx = this.#ctx;
    this.checkCanCreate(plan.applicationName, plan.deploymentGroupName);
    const clock = scaledClock(plan.timeScale, ctx.deps.clock);
    const record: DeploymentRecord = {
      id,
      plan,
      status: 'Created',
      createTime: clock.now(),
      lifecycleEvents: lifecycleOf(plan.appSpec.platform).map((name) => ({ name, status: 'Pending' })),
      trafficWeight: 0,
      shiftStep: 0,
      instanceTerminationWaitTimeStarted: false,
      wallTimes: { create: ctx.deps.clock.now() },
      timeline: [],
    };
    const log = ctx.deps.log.child({ deploymentId: record.id, service: plan.service });
    const run = new Run(record, clock, log);
    ctx.records.set(record.id, record);
    ctx.runs.set(record.id, run);
    ctx.note(run, 'info', 'deployment created', {
      application: plan.applicationName,
      group: plan.deploymentGroupName,
      config: plan.config.name,
      from: plan.currentVersion,
      to: plan.targetVersion,
      timeScale: plan.timeScale,
    });
    queueMicrotask(() => void this.#walk.start(run));
    return record;
  }

  /** Throws DEPLOYMENT_ACTIVE when the group has a deployment that has not ended (CodeDeploy allows one). */
  checkCanCreate(application: string, group: string): void {
    const active = this.active(application, group);
    if (active) {
      throw new SwitchyardError(
        'DEPLOYMENT_ACTIVE',
        `The Deployment Group '${group}' already has an active Deployment '${active.id}'`,
      );
    }
  }

  /** A deployment by id. */
  get(id: string): DeploymentRecord | undefined {
    return this.#ctx.records.get(id);
  }

  /** Every deployment, oldest first. */
  list(): DeploymentRecord[] {
    return [...this.#ctx.records.values()];
  }

  /** The deployment of a group that is not yet finished, if any (CodeDeploy allows one). */
  active(application: string, group: string): DeploymentRecord | undefined {
    for (const r of this.#ctx.records.values()) {
      if (
        r.plan.applicationName === application &&
        r.plan.deploymentGroupName === group &&
        !TERMINAL_STATUSES.has(r.status)
      ) {
        return r;
      }
    }
    return undefined;
  }

  /** The unfinished deployment that steers `service`'s traffic, if any. */
  activeOn(service: string): DeploymentRecord | undefined {
    for (const run of this.#ctx.runs.values()) if (run.record.plan.service === service) return run.record;
    return undefined;
  }

  /**
   * Stops a deployment. Traffic stays where it is unless `rollback` (or, when not given, the plan's
   * DEPLOYMENT_STOP_ON_REQUEST) asks to return it to the original version.
   */
  stop(id: string, rollback?: boolean): { status: 'Succeeded'; statusMessage: string } {
    const run = this.#active(id);
    const back = rollback ?? wantsRollback(run.record.plan, 'DEPLOYMENT_STOP_ON_REQUEST');
    halt(this.#ctx, run, 'Stopped', 'MANUAL_STOP', 'The deployment was stopped by request', back);
    return {
      status: 'Succeeded',
      statusMessage: back
        ? 'Deployment stopped; traffic was returned to the original version'
        : 'Deployment stopped; traffic stays where it was',
    };
  }

  /** Ends a ready wait (READY_WAIT) or a termination wait (TERMINATION_WAIT), or a manual shift pause. */
  continue(id: string, waitType: 'READY_WAIT' | 'TERMINATION_WAIT'): void {
    const run = this.#active(id);
    const waiting = run.record.waitingFor;
    const matches =
      waitType === 'READY_WAIT' ? waiting === 'READY_WAIT' || waiting === 'CONTINUE_STEP' : waiting === waitType;
    if (!matches) {
      throw new SwitchyardError(
        'DEPLOYMENT_NOT_WAITING',
        `deployment ${id} is not waiting for ${waitType === 'READY_WAIT' ? 'a ready continue' : 'its termination wait to end'}`,
      );
    }
    this.#ctx.note(run, 'info', 'continued', { waitType, waitingFor: waiting });
    run.wake();
  }

  /** Skips the rest of the shift schedule: the target version takes all production traffic now. */
  promote(id: string): void {
    const run = this.#active(id);
    run.record.promoted = true;
    this.#ctx.note(run, 'info', 'promoted: skipping the remaining waits');
    if (run.record.waitingFor === 'CONTINUE_STEP' || run.record.waitingFor === undefined) run.wake();
  }

  /** Adds an entry to an active deployment's timeline (alarm state changes, health). */
  annotate(id: string, level: 'info' | 'warn', message: string, detail: Record<string, unknown> = {}): void {
    const run = this.#ctx.runs.get(id);
    if (run) this.#ctx.note(run, level, message, detail);
  }

  /** The timeline of a deployment, oldest first. */
  timeline(id: string): readonly TimelineEvent[] {
    const record = this.#ctx.records.get(id);
    if (!record) throw new SwitchyardError('DEPLOYMENT_NOT_FOUND', `no deployment ${id}`);
    return record.timeline;
  }

  /** Stops every active deployment's timers (for shutdown); records keep their state. */
  close(): void {
    const { runs, deps } = this.#ctx;
    for (const run of runs.values()) {
      run.abort.abort(SHUTDOWN);
      deps.alarms?.unwatch(run.record.id);
    }
    runs.clear();
  }

  /**
   * Takes back the deployments a store kept: finished ones as they are, for the API. Of the unfinished,
   * those the policy rolls back (and those whose versions the config no longer has) end here, in this
   * turn, so that no request is routed by their split once listeners open; the others are readied to go
   * on (a shift's routing options back on) and go on at {@link resumeRestored}. Call once, at start,
   * before any deployment is created.
   */
  restore(records: readonly DeploymentRecord[], recovery: RecoveryPolicy): void {
    for (const record of records) this.#ctx.records.set(record.id, record);
    for (const record of records) {
      if (!TERMINAL_STATUSES.has(record.status)) this.#recover(record, recovery);
    }
  }

  /** Lets the deployments {@link restore} readied go on (once the control API listens for their hooks' reports). */
  resumeRestored(): void {
    for (const go of this.#restored.splice(0)) queueMicrotask(go);
  }

  /** Takes back one unfinished kept deployment and carries out what {@link recoveryDecision} says of it. */
  #recover(record: DeploymentRecord, recovery: RecoveryPolicy): void {
    const ctx = this.#ctx;
    const plan = record.plan;
    const clock = scaledClock(plan.timeScale, ctx.deps.clock, record.wallTimes.create);
    const run = new Run(record, clock, ctx.deps.log.child({ deploymentId: record.id, service: plan.service }));
    run.resumed = true;
    ctx.runs.set(record.id, run);
    const decision = recoveryDecision(record, recovery, this.#versionsOf(plan.service));
    switch (decision.action) {
      case 'fail':
        halt(ctx, run, 'Failed', 'INTERNAL_ERROR', decision.message, false);
        return;
      case 'start':
        ctx.note(run, 'info', 'recovered after a restart: starting');
        this.#restored.push(() => void this.#walk.start(run));
        return;
      case 'rollback': {
        const { hook } = decision;
        ctx.note(run, 'warn', 'recovered after a restart: rolling back, as the recovery policy says', {
          ...recovery,
          ...(hook && { hook }),
        });
        halt(ctx, run, 'Failed', 'INTERNAL_ERROR', decision.message, decision.traffic);
        return;
      }
      case 'resume':
        if (decision.shifting)
          ctx.deps.traffic.setShifting(plan.service, {
            original: plan.currentVersion,
            replacement: plan.targetVersion,
          });
        ctx.note(run, 'info', 'recovered after a restart: resuming', {
          ...recovery,
          // Real milliseconds, as a reader of the log counts them (the deployment's clock may run scaled).
          ...(record.waitStartedAt !== undefined && {
            waitedMs: Math.round(Math.max(0, clock.now() - record.waitStartedAt) / plan.timeScale),
          }),
        });
        this.#restored.push(() => void this.#walk.resume(run));
        return;
    }
  }

  /** The version labels the config has now for `service`; undefined when it no longer has the service. */
  #versionsOf(service: string): ReadonlySet<string> | undefined {
    try {
      return new Set(this.#ctx.deps.traffic.allLabels(service));
    } catch {
      return undefined;
    }
  }

  /** A deployment still running, or why it cannot be acted on: not found, or already completed. */
  #active(id: string): Run {
    const record = this.#ctx.records.get(id);
    if (!record) throw new SwitchyardError('DEPLOYMENT_NOT_FOUND', `no deployment ${id}`);
    const run = this.#ctx.runs.get(id);
    if (!run || TERMINAL_STATUSES.has(record.status)) {
      throw new SwitchyardError('DEPLOYMENT_COMPLETED', `deployment ${id} has already completed (${record.status})`);
    }
    return run;
  }
}
