/**
 * @module shifting/engine
 * The deployment state machine: walks a deployment through its platform's lifecycle in CodeDeploy's
 * order, runs hooks, shifts production traffic by the configuration's schedule, and stops, fails or
 * rolls back. Every wait comes from the deployment's clock (scaled by its time scale), so a 15-minute
 * canary is a millisecond test under a manual clock. Traffic moves only through TrafficState.
 */
import { type Clock, scaledClock } from '../core/clock.js';
import { SwitchyardError } from '../core/errors.js';
import { deploymentId, hookExecutionId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { FULL_WEIGHT } from '../core/route-table.js';
import type { DeploymentEvent, DeploymentPlan, DeploymentRecord, LifecycleEventRecord, RecoveryPolicy, TimelineEvent } from './ports.js';
import {
  type DeploymentErrorCode,
  type Diagnostics,
  type LifecycleEventName,
  lifecycleOf,
  RESERVED_EVENTS,
  TERMINAL_STATUSES,
} from '../codedeploy/lifecycle.js';
import {
  type AlarmWatcher,
  type DeploymentJournal,
  fixedTargets,
  type HookOutcome,
  type HookRunner,
  type ReplacementLauncher,
  ReplacementNotReady,
  type TrafficPort,
} from './ports.js';
import { stepsOf } from './schedule.js';
import { describeError } from '../core/describe-error.js';

/** What the engine is built from. */
export interface EngineDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly traffic: TrafficPort;
  readonly hooks: HookRunner;
  readonly launcher?: ReplacementLauncher;
  /** Watches the alarms a plan names; without it, alarms are not evaluated. */
  readonly alarms?: AlarmWatcher;
  /** Keeps every change to a deployment record (the store); without it, records live in memory only. */
  readonly journal?: DeploymentJournal;
  /** Called with every timeline entry as it is added (the event stream). */
  readonly onEvent?: (event: DeploymentEvent) => void;
}

const SUCCESS: Diagnostics = { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' };

/** Why the runs of a closing engine end: what a hook cut short by it reports. */
const SHUTDOWN = 'switchyard stopped while the hook ran; the deployment is left for the next start (recovery:)';

/** Whether a deployment has sent any traffic, test or production, to its replacement yet. */
function trafficMoved(record: DeploymentRecord): boolean {
  return (
    record.trafficWeight > 0 ||
    record.lifecycleEvents.some((e) => e.name === 'AllowTestTraffic' && (e.status === 'InProgress' || e.status === 'Succeeded'))
  );
}

/** Thrown inside a run when the deployment was stopped or failed elsewhere; ends the run quietly. */
class Halted extends Error {}

/** One in-flight deployment: its record, its clock and whatever it waits on. */
class Run {
  readonly abort = new AbortController();
  #wake: (() => void) | undefined;
  /** Set when the run was taken back after a restart: its first timed wait counts from the persisted start. */
  resumed = false;

  constructor(
    readonly record: DeploymentRecord,
    readonly clock: Clock,
    readonly log: Logger,
  ) {}

  /**
   * Waits `ms` on this deployment's clock (null: until woken); resolves with what ended the wait, early
   * when woken; rejects with Halted when the deployment is halted meanwhile.
   */
  wait(ms: number | null): Promise<'elapsed' | 'woken'> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.reject(new Halted());
    return new Promise((resolve, reject) => {
      const done = () => {
        cancel?.();
        signal.removeEventListener('abort', onAbort);
        this.#wake = undefined;
      };
      const onAbort = () => {
        done();
        reject(new Halted());
      };
      const cancel =
        ms === null
          ? undefined
          : this.clock.setTimer(ms, () => {
              done();
              resolve('elapsed');
            });
      this.#wake = () => {
        done();
        resolve('woken');
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the current wait now. */
  wake(): void {
    this.#wake?.();
  }
}

/** Runs deployments. */
export class DeploymentEngine {
  readonly #deps: EngineDeps;
  readonly #launcher: ReplacementLauncher;
  readonly #records = new Map<string, DeploymentRecord>();
  readonly #runs = new Map<string, Run>();
  /** Deployments taken back by restore, waiting for resumeRestored. */
  readonly #restored: (() => void)[] = [];

  constructor(deps: EngineDeps) {
    this.#deps = deps;
    this.#launcher = deps.launcher ?? fixedTargets;
  }

  /** Creates a deployment and starts it on the next turn; returns its record. */
  create(plan: DeploymentPlan): DeploymentRecord {
    const active = this.active(plan.applicationName, plan.deploymentGroupName);
    if (active) {
      throw new SwitchyardError(
        'DEPLOYMENT_ACTIVE',
        `The Deployment Group '${plan.deploymentGroupName}' already has an active Deployment '${active.id}'`,
      );
    }
    const clock = scaledClock(plan.timeScale, this.#deps.clock);
    const record: DeploymentRecord = {
      id: deploymentId(),
      plan,
      status: 'Created',
      createTime: clock.now(),
      lifecycleEvents: lifecycleOf(plan.appSpec.platform).map((name) => ({ name, status: 'Pending' })),
      trafficWeight: 0,
      shiftStep: 0,
      instanceTerminationWaitTimeStarted: false,
      wallTimes: { create: this.#deps.clock.now() },
      timeline: [],
    };
    const log = this.#deps.log.child({ deploymentId: record.id, service: plan.service });
    const run = new Run(record, clock, log);
    this.#records.set(record.id, record);
    this.#runs.set(record.id, run);
    this.#note(run, 'info', 'deployment created', {
      application: plan.applicationName,
      group: plan.deploymentGroupName,
      config: plan.config.name,
      from: plan.currentVersion,
      to: plan.targetVersion,
      timeScale: plan.timeScale,
    });
    queueMicrotask(() => void this.#run(run));
    return record;
  }

  /** A deployment by id. */
  get(id: string): DeploymentRecord | undefined {
    return this.#records.get(id);
  }

  /** Every deployment, oldest first. */
  list(): DeploymentRecord[] {
    return [...this.#records.values()];
  }

  /** The deployment of a group that is not yet finished, if any (CodeDeploy allows one). */
  active(application: string, group: string): DeploymentRecord | undefined {
    for (const r of this.#records.values()) {
      if (r.plan.applicationName === application && r.plan.deploymentGroupName === group && !TERMINAL_STATUSES.has(r.status)) {
        return r;
      }
    }
    return undefined;
  }

  /** The unfinished deployment that steers `service`'s traffic, if any. */
  activeOn(service: string): DeploymentRecord | undefined {
    for (const run of this.#runs.values()) if (run.record.plan.service === service) return run.record;
    return undefined;
  }

  /**
   * Stops a deployment. Traffic stays where it is unless `rollback` (or, when not given, the plan's
   * DEPLOYMENT_STOP_ON_REQUEST) asks to return it to the original version.
   */
  stop(id: string, rollback?: boolean): { status: 'Succeeded'; statusMessage: string } {
    const run = this.#active(id);
    const record = run.record;
    const auto = record.plan.autoRollback;
    const back = rollback ?? (auto.enabled && auto.events.includes('DEPLOYMENT_STOP_ON_REQUEST'));
    this.#halt(run, 'Stopped', 'MANUAL_STOP', 'The deployment was stopped by request', back);
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
    const matches = waitType === 'READY_WAIT' ? waiting === 'READY_WAIT' || waiting === 'CONTINUE_STEP' : waiting === waitType;
    if (!matches) {
      throw new SwitchyardError(
        'DEPLOYMENT_NOT_WAITING',
        `deployment ${id} is not waiting for ${waitType === 'READY_WAIT' ? 'a ready continue' : 'its termination wait to end'}`,
      );
    }
    this.#note(run, 'info', 'continued', { waitType, waitingFor: waiting });
    run.wake();
  }

  /** Skips the rest of the shift schedule: the target version takes all production traffic now. */
  promote(id: string): void {
    const run = this.#active(id);
    run.record.promoted = true;
    this.#note(run, 'info', 'promoted: skipping the remaining waits');
    if (run.record.waitingFor === 'CONTINUE_STEP' || run.record.waitingFor === undefined) run.wake();
  }

  /** Adds an entry to an active deployment's timeline (alarm state changes, health). */
  annotate(id: string, level: 'info' | 'warn', message: string, detail: Record<string, unknown> = {}): void {
    const run = this.#runs.get(id);
    if (run) this.#note(run, level, message, detail);
  }

  /** Stops every active deployment's timers (for shutdown); records keep their state. */
  close(): void {
    for (const run of this.#runs.values()) {
      run.abort.abort(SHUTDOWN);
      this.#deps.alarms?.unwatch(run.record.id);
    }
    this.#runs.clear();
  }

  #active(id: string): Run {
    const record = this.#records.get(id);
    if (!record) throw new SwitchyardError('DEPLOYMENT_NOT_FOUND', `no deployment ${id}`);
    const run = this.#runs.get(id);
    if (!run || TERMINAL_STATUSES.has(record.status)) {
      throw new SwitchyardError('DEPLOYMENT_COMPLETED', `deployment ${id} has already completed (${record.status})`);
    }
    return run;
  }

  #changed(record: DeploymentRecord): void {
    this.#deps.journal?.save(record);
  }

  /** Logs a step of a deployment and appends it to its timeline, so the API and CLI never scrape logs. */
  #note(run: Run, level: 'info' | 'warn', message: string, detail: Record<string, unknown> = {}): void {
    const record = run.record;
    const entry: TimelineEvent = { time: run.clock.now(), wallTime: this.#deps.clock.now(), level, message, detail, status: record.status };
    record.timeline.push(entry);
    run.log[level](detail, message);
    this.#changed(record);
    this.#deps.onEvent?.({ deploymentId: record.id, ...entry });
  }

  /** The timeline of a deployment, oldest first. */
  timeline(id: string): readonly TimelineEvent[] {
    const record = this.#records.get(id);
    if (!record) throw new SwitchyardError('DEPLOYMENT_NOT_FOUND', `no deployment ${id}`);
    return record.timeline;
  }

  /**
   * Takes back the deployments a store kept: finished ones as they are, for the API. Of the unfinished,
   * those the policy rolls back (and those whose versions the config no longer has) end here, in this
   * turn, so that no request is routed by their split once listeners open; the others are readied to go
   * on (a shift's routing options back on) and go on at {@link resumeRestored}. Call once, at start,
   * before any deployment is created.
   */
  restore(records: readonly DeploymentRecord[], recovery: RecoveryPolicy): void {
    for (const record of records) this.#records.set(record.id, record);
    for (const record of records) {
      if (TERMINAL_STATUSES.has(record.status)) continue;
      const plan = record.plan;
      const clock = scaledClock(plan.timeScale, this.#deps.clock, record.wallTimes.create);
      const run = new Run(record, clock, this.#deps.log.child({ deploymentId: record.id, service: plan.service }));
      run.resumed = true;
      this.#runs.set(record.id, run);
      const missing = this.#missingVersion(plan);
      const hook = this.#hookInFlight(record);
      const rollback = recovery.policy === 'rollback' || (hook !== undefined && recovery.hookInFlight === 'rollback');
      if (missing) {
        this.#halt(run, 'Failed', 'INTERNAL_ERROR', `cannot recover after a restart: ${missing}`, false);
      } else if (record.status === 'Created') {
        // Nothing had happened yet: it starts as it would have.
        this.#note(run, 'info', 'recovered after a restart: starting');
        this.#restored.push(() => void this.#run(run));
      } else if (rollback) {
        const why = recovery.policy === 'rollback' ? 'its recovery policy is rollback' : `its ${hook} hook was running and the recovery policy for that is rollback`;
        this.#note(run, 'warn', 'recovered after a restart: rolling back, as the recovery policy says', { ...recovery, ...(hook && { hook }) });
        this.#halt(run, 'Failed', 'INTERNAL_ERROR', `switchyard restarted while the deployment ran, and ${why}`, trafficMoved(record) || 'restore');
      } else {
        if (record.lifecycleEvents.some((e) => e.name === 'AllowTraffic' && e.status !== 'Pending')) {
          this.#deps.traffic.setShifting(plan.service, { original: plan.currentVersion, replacement: plan.targetVersion });
        }
        this.#note(run, 'info', 'recovered after a restart: resuming', {
          ...recovery,
          // Real milliseconds, as a reader of the log counts them (the deployment's clock may run scaled).
          ...(record.waitStartedAt !== undefined && { waitedMs: Math.round(Math.max(0, clock.now() - record.waitStartedAt) / plan.timeScale) }),
        });
        this.#restored.push(() => void this.#resume(run));
      }
    }
  }

  /** Lets the deployments {@link restore} readied go on (once the control API listens for their hooks' reports). */
  resumeRestored(): void {
    for (const go of this.#restored.splice(0)) queueMicrotask(go);
  }

  /** The hook lifecycle event a kept record was running, if any. */
  #hookInFlight(record: DeploymentRecord): LifecycleEventName | undefined {
    const running = record.lifecycleEvents.find((e) => e.status === 'InProgress' && !RESERVED_EVENTS.has(e.name));
    return running && record.plan.appSpec.hooks.some((h) => h.event === running.name) ? running.name : undefined;
  }

  /** Why a kept plan no longer fits this config (its service or a version was removed), if it does not. */
  #missingVersion(plan: DeploymentPlan): string | undefined {
    try {
      const labels = new Set(this.#deps.traffic.allLabels(plan.service));
      const gone = [plan.currentVersion, plan.targetVersion].filter((v) => !labels.has(v));
      return gone.length === 0 ? undefined : `service ${plan.service} has no version ${gone.join(' or ')} any more`;
    } catch {
      return `service ${plan.service} is no longer configured`;
    }
  }

  async #run(run: Run): Promise<void> {
    const { record, clock } = run;
    const plan = record.plan;
    // Stopped before it began: nothing to do.
    if (run.abort.signal.aborted) return;
    record.status = 'InProgress';
    record.startTime = clock.now();
    record.wallTimes.start = this.#deps.clock.now();
    this.#note(run, 'info', 'deployment started');
    this.#watchAlarms(run);
    const misconfigured = this.#lambdaAliasProblem(plan);
    if (misconfigured) {
      this.#halt(run, 'Failed', 'INVALID_LAMBDA_CONFIGURATION', misconfigured, false);
      return;
    }
    await this.#guarded(run, async () => {
      if (plan.appSpec.platform === 'Lambda' && !(await this.#replacementReady(run, false))) return;
      await this.#proceed(run);
    });
  }

  /**
   * Goes on with a deployment taken back after a restart: its alarms watched, the replacement made ready
   * again (a version run by command is started afresh), then the lifecycle from the event it was in.
   */
  async #resume(run: Run): Promise<void> {
    const { record } = run;
    const plan = record.plan;
    if (run.abort.signal.aborted) return;
    this.#watchAlarms(run);
    await this.#guarded(run, async () => {
      const installed = plan.appSpec.platform === 'Lambda' || record.lifecycleEvents.some((e) => e.name === 'Install' && e.status === 'Succeeded');
      // A replacement that cannot run again has nothing to serve the traffic it was given: that goes back
      // to the original whatever the group's rollback settings, rather than to a version with no targets.
      if (installed && !(await this.#replacementReady(run, trafficMoved(record) || this.#wantsRollback(plan, 'DEPLOYMENT_FAILURE')))) return;
      await this.#proceed(run);
    });
  }

  /** Runs `body`; an unexpected error fails the deployment (rolling back as its plan says) instead of escaping. */
  async #guarded(run: Run, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      if (err instanceof Halted || run.abort.signal.aborted) return;
      run.log.error({ err }, 'deployment engine error');
      this.#halt(run, 'Failed', 'INTERNAL_ERROR', describeError(err), this.#wantsRollback(run.record.plan, 'DEPLOYMENT_FAILURE'));
    }
  }

  /** The lifecycle from the first event not yet finished, then the termination wait and success. */
  async #proceed(run: Run): Promise<void> {
    const { record } = run;
    const plan = record.plan;
    for (const event of record.lifecycleEvents) {
      if (event.status !== 'Pending' && event.status !== 'InProgress') continue;
      if (plan.appSpec.platform === 'ECS' && event.name === 'BeforeAllowTraffic' && plan.readyWait && event.status === 'Pending') {
        await this.#readyWait(run, plan.readyWait.waitMs);
      }
      const outcome = await this.#event(run, event);
      if (outcome.status === 'Failed') {
        // A failed BeforeInstall changed nothing yet, so CodeDeploy never rolls it back.
        const rollback = event.name !== 'BeforeInstall' && this.#wantsRollback(plan, 'DEPLOYMENT_FAILURE');
        this.#halt(run, 'Failed', outcome.code, outcome.message, rollback);
        return;
      }
    }
    await this.#terminationWait(run);
    this.#succeed(run);
  }

  /** Alarms are watched from the start to the end of the deployment, termination wait included. */
  #watchAlarms(run: Run): void {
    const { record } = run;
    const plan = record.plan;
    if (!plan.alarms || plan.alarms.names.length === 0 || !this.#deps.alarms) return;
    this.#deps.alarms.watch(
      {
        deploymentId: record.id,
        service: plan.service,
        original: plan.currentVersion,
        replacement: plan.targetVersion,
        alarms: plan.alarms.names,
        ignorePollAlarmFailure: plan.alarms.ignorePollAlarmFailure,
      },
      (alarm, reason) => {
        if (this.#runs.get(record.id) !== run) return;
        const message = `Alarm "${alarm}" went into ALARM: ${reason}`;
        this.#halt(run, 'Stopped', 'ALARM_ACTIVE', message, this.#wantsRollback(plan, 'DEPLOYMENT_STOP_ON_ALARM'));
      },
    );
  }

  /**
   * Makes the replacement ready outside an Install event: a Lambda version exists before its deployment
   * (there is no Install), and a resumed deployment's replacement must run again. A version switchyard
   * runs by command is started, and any version health-checked; when it cannot be, the deployment fails
   * (rolling traffic back when `rollback`).
   */
  async #replacementReady(run: Run, rollback: boolean): Promise<boolean> {
    const plan = run.record.plan;
    try {
      await this.#launcher.prepare(plan.service, plan.targetVersion, run.abort.signal);
      this.#deps.traffic.setMirroring(plan.service, plan.targetVersion);
      return true;
    } catch (err) {
      if (run.abort.signal.aborted) throw new Halted();
      this.#halt(run, 'Failed', 'HEALTH_CONSTRAINTS', `version ${plan.targetVersion} is not ready: ${describeError(err)}`, rollback);
      return false;
    }
  }

  /**
   * CodeDeploy refuses to shift a Lambda alias that does not point wholly at CurrentVersion (a deployment
   * stopped without rollback leaves it weighted); the same holds here for the service's production split.
   */
  #lambdaAliasProblem(plan: DeploymentPlan): string | undefined {
    if (plan.appSpec.platform !== 'Lambda') return undefined;
    const service = this.#deps.traffic.service(plan.service);
    if (service.live !== plan.currentVersion) {
      return `CurrentVersion ${plan.currentVersion} is not the version live now (${service.live})`;
    }
    const weighted = Object.entries(service.weights.production).filter(([, percent]) => percent > 0);
    if (weighted.length !== 1) {
      const split = weighted.map(([label, percent]) => `${label}: ${percent}%`).join(', ');
      return `the alias is weighted between versions (${split}); clear the weights before deploying`;
    }
    return undefined;
  }

  /** Runs one lifecycle event and records it; resolves with how it ended. */
  async #event(
    run: Run,
    event: LifecycleEventRecord,
  ): Promise<{ status: 'Succeeded' } | { status: 'Failed'; code: DeploymentErrorCode; message: string }> {
    const { record, clock } = run;
    const plan = record.plan;
    if ((event.name === 'AllowTestTraffic' || event.name === 'AfterAllowTestTraffic') && !plan.testListener) {
      // CodeDeploy ignores test traffic when the group has no test listener.
      event.status = 'Skipped';
      this.#changed(record);
      return { status: 'Succeeded' };
    }
    if (event.status === 'InProgress') this.#note(run, 'info', 'lifecycle event started again after a restart', { event: event.name });
    event.status = 'InProgress';
    event.startTime ??= clock.now();
    this.#changed(record);
    let result: { status: 'Succeeded' } | { status: 'Failed'; code: DeploymentErrorCode; message: string };
    if (RESERVED_EVENTS.has(event.name)) {
      try {
        await this.#reserved(run, event.name);
        event.diagnostics = SUCCESS;
        result = { status: 'Succeeded' };
      } catch (err) {
        if (err instanceof Halted || run.abort.signal.aborted) throw new Halted();
        const message = `${event.name} failed: ${describeError(err)}`;
        const logTail = err instanceof ReplacementNotReady ? err.logTail : '';
        event.diagnostics = { errorCode: 'UnknownError', scriptName: '', message, logTail };
        result = { status: 'Failed', code: event.name === 'Install' ? 'HEALTH_CONSTRAINTS' : 'INTERNAL_ERROR', message };
      }
    } else {
      const outcome = await this.#hook(run, event.name);
      event.diagnostics = outcome.diagnostics;
      result =
        outcome.status === 'Succeeded'
          ? { status: 'Succeeded' }
          : {
              status: 'Failed',
              code: 'HOOK_EXECUTION_FAILURE',
              message: `The ${event.name} hook failed: ${outcome.diagnostics.message}`,
            };
    }
    if (run.abort.signal.aborted) throw new Halted();
    event.status = result.status;
    event.endTime = clock.now();
    this.#note(run, result.status === 'Succeeded' ? 'info' : 'warn', 'lifecycle event finished', {
      event: event.name,
      status: event.status,
      ...(result.status === 'Failed' && { reason: result.message }),
    });
    return result;
  }

  async #hook(run: Run, event: LifecycleEventName): Promise<HookOutcome> {
    const { record } = run;
    const plan = record.plan;
    const hook = plan.appSpec.hooks.find((h) => h.event === event);
    if (!hook) return { status: 'Succeeded', diagnostics: SUCCESS };
    const outcome = await this.#deps.hooks.run(
      {
        deploymentId: record.id,
        executionId: hookExecutionId(),
        applicationName: plan.applicationName,
        deploymentGroupName: plan.deploymentGroupName,
        event,
        target: hook.target,
        timeoutMs: (this.#deps.hooks.timeoutOf?.(hook.target) ?? plan.hookTimeoutMs) / plan.timeScale,
      },
      run.abort.signal,
    );
    if (run.abort.signal.aborted) throw new Halted();
    return outcome;
  }

  async #reserved(run: Run, event: LifecycleEventName): Promise<void> {
    const plan = run.record.plan;
    const { traffic } = this.#deps;
    switch (event) {
      case 'Install':
        await this.#launcher.prepare(plan.service, plan.targetVersion, run.abort.signal);
        // Ready: copies of production requests may now go to it (routing.mirror), a shadow phase.
        traffic.setMirroring(plan.service, plan.targetVersion);
        return;
      case 'AllowTestTraffic':
        traffic.setWeights(plan.service, { [plan.targetVersion]: 100 }, 'test');
        return;
      case 'AllowTraffic':
        // From here until the deployment ends, failures on the replacement may be retried on the original.
        traffic.setShifting(plan.service, { original: plan.currentVersion, replacement: plan.targetVersion });
        await this.#shift(run);
        return;
      default:
        throw new Error(`${event} is not a reserved event`);
    }
  }

  /** AllowTraffic: walks the schedule's steps, holding each for its time (or until continued). */
  async #shift(run: Run): Promise<void> {
    const { record } = run;
    const steps = stepsOf(record.plan.config.trafficRouting ?? { kind: 'allAtOnce' });
    for (let i = record.shiftStep; i < steps.length; i++) {
      const step = steps[i]!;
      const weight = record.promoted ? FULL_WEIGHT : step.weight;
      record.shiftStep = i;
      this.#setWeight(run, weight);
      if (weight === FULL_WEIGHT) return;
      record.waitingFor = step.holdMs === null ? 'CONTINUE_STEP' : undefined;
      await this.#hold(run, step.holdMs);
      record.waitingFor = undefined;
    }
  }

  /**
   * Waits `ms` (null: until woken) on the deployment's clock, keeping when the wait began in the record;
   * the first wait of a resumed run counts from the start its record kept, so a restart never lengthens it.
   */
  async #hold(run: Run, ms: number | null): Promise<'elapsed' | 'woken'> {
    const { record, clock } = run;
    const kept = run.resumed ? record.waitStartedAt : undefined;
    run.resumed = false;
    record.waitStartedAt = kept ?? clock.now();
    this.#changed(record);
    const left = ms === null ? null : Math.max(0, ms - (clock.now() - record.waitStartedAt));
    try {
      // A wait that ran out while switchyard was down is over now, not a timer later.
      if (left === 0 && kept !== undefined) return 'elapsed';
      return await run.wait(left);
    } finally {
      record.waitStartedAt = undefined;
    }
  }

  #setWeight(run: Run, weight: number): void {
    this.#atomically(() => this.#setWeightNow(run, weight));
  }

  #setWeightNow(run: Run, weight: number): void {
    const { record } = run;
    const plan = record.plan;
    // A resumed shift finds the step's weight already in force (restored with the traffic): nothing to tell.
    const unchanged = run.resumed && record.trafficWeight === weight;
    const target = weight / 100;
    const weights =
      weight === FULL_WEIGHT
        ? { [plan.targetVersion]: 100 }
        : { [plan.targetVersion]: target, [plan.currentVersion]: (FULL_WEIGHT - weight) / 100 };
    this.#deps.traffic.setWeights(plan.service, weights, 'production');
    record.trafficWeight = weight;
    if (unchanged) this.#changed(record);
    else this.#note(run, 'info', 'weight changed', { weight: target });
  }

  /** ECS with STOP_DEPLOYMENT: status Ready until ContinueDeployment, or Stopped when the wait runs out. */
  async #readyWait(run: Run, waitMs: number): Promise<void> {
    const { record } = run;
    const resumed = record.status === 'Ready';
    record.status = 'Ready';
    record.waitingFor = 'READY_WAIT';
    if (!resumed) this.#note(run, 'info', 'ready: waiting for ContinueDeployment', { waitMs });
    const ended = await this.#hold(run, waitMs);
    record.waitingFor = undefined;
    if (ended === 'elapsed') {
      // Production traffic never moved; the test listener and the replacement are put back as they were.
      this.#halt(run, 'Stopped', 'TIMEOUT', 'The ready wait ended without ContinueDeployment', 'restore');
      throw new Halted();
    }
    // Not written here: BeforeAllowTraffic starts in this same turn and writes both, so no kept record
    // shows the ready wait over with BeforeAllowTraffic not begun (which a restart would read as not waited).
    record.status = 'InProgress';
  }

  /** After success on ECS: keep the original routable for the termination wait, then retire it. */
  async #terminationWait(run: Run): Promise<void> {
    const { record } = run;
    const termination = record.plan.termination;
    if (record.plan.appSpec.platform !== 'ECS' || !termination?.terminate) return;
    if (termination.waitMs > 0) {
      const resumed = record.instanceTerminationWaitTimeStarted;
      record.instanceTerminationWaitTimeStarted = true;
      record.waitingFor = 'TERMINATION_WAIT';
      if (!resumed) {
        this.#note(run, 'info', 'termination wait: the original stays routable for a rollback', {
          waitMs: termination.waitMs,
        });
      }
      await this.#hold(run, termination.waitMs);
      record.waitingFor = undefined;
    }
  }

  #succeed(run: Run): void {
    this.#atomically(() => this.#succeedNow(run));
  }

  #succeedNow(run: Run): void {
    const { record, clock } = run;
    const plan = record.plan;
    this.#deps.traffic.setLive(plan.service, plan.targetVersion);
    this.#deps.alarms?.unwatch(record.id);
    this.#endShifting(record);
    record.status = 'Succeeded';
    record.completeTime = clock.now();
    record.wallTimes.complete = this.#deps.clock.now();
    this.#runs.delete(record.id);
    this.#note(run, 'info', 'deployment succeeded');
    if (plan.termination?.terminate !== false) void this.#launcher.retire(plan.service, plan.currentVersion);
  }

  #wantsRollback(plan: DeploymentPlan, event: 'DEPLOYMENT_FAILURE' | 'DEPLOYMENT_STOP_ON_ALARM'): boolean {
    return plan.autoRollback.enabled && plan.autoRollback.events.includes(event);
  }

  /**
   * Ends a deployment as Stopped or Failed. `traffic` true rolls back: traffic returns to the original
   * version in this same turn, before anything else happens, and a rollback deployment records it;
   * 'restore' returns traffic and retires the replacement without a rollback record; false leaves both.
   */
  #halt(
    run: Run,
    status: 'Stopped' | 'Failed',
    code: DeploymentErrorCode,
    message: string,
    traffic: boolean | 'restore',
  ): void {
    this.#atomically(() => this.#haltNow(run, status, code, message, traffic));
  }

  #atomically(fn: () => void): void {
    if (this.#deps.journal) this.#deps.journal.atomically(fn);
    else fn();
  }

  #haltNow(
    run: Run,
    status: 'Stopped' | 'Failed',
    code: DeploymentErrorCode,
    message: string,
    traffic: boolean | 'restore',
  ): void {
    const { record, clock } = run;
    const rollback = traffic === true;
    // Traffic first, in this same turn: a rollback is only as fast as this line.
    if (traffic !== false) this.#returnTraffic(record);
    this.#deps.alarms?.unwatch(record.id);
    this.#endShifting(record);
    run.abort.abort();
    this.#runs.delete(record.id);
    const now = clock.now();
    for (const event of record.lifecycleEvents) {
      if (event.status === 'InProgress') {
        event.status = 'Failed';
        event.endTime = now;
        event.diagnostics ??= { errorCode: 'UnknownError', scriptName: '', message, logTail: '' };
      } else if (event.status === 'Pending') {
        event.status = 'Skipped';
      }
    }
    record.status = status;
    record.waitingFor = undefined;
    record.waitStartedAt = undefined;
    record.completeTime = now;
    record.wallTimes.complete = this.#deps.clock.now();
    record.errorInformation = { code, message };
    if (rollback) this.#recordRollback(run, message);
    else if (traffic === 'restore') void this.#launcher.retire(record.plan.service, record.plan.targetVersion);
    this.#note(run, 'warn', status === 'Failed' ? 'deployment failed' : 'deployment stopped', {
      code,
      message,
      rollback,
      ...(record.rollbackInfo?.rollbackDeploymentId && { rollbackDeploymentId: record.rollbackInfo.rollbackDeploymentId }),
    });
  }

  #endShifting(record: DeploymentRecord): void {
    const { traffic } = this.#deps;
    const service = record.plan.service;
    if (traffic.isShifting(service)) traffic.setShifting(service, undefined);
    traffic.setMirroring(service, undefined);
  }

  /** Production and test listeners back on the original version. */
  #returnTraffic(record: DeploymentRecord): void {
    const plan = record.plan;
    const { traffic } = this.#deps;
    traffic.setWeights(plan.service, { [plan.currentVersion]: 100 }, 'production');
    if (plan.testListener) traffic.setWeights(plan.service, { [plan.currentVersion]: 100 }, 'test');
    record.trafficWeight = 0;
  }

  /** The rollback as CodeDeploy shows it: a new deployment of the original version, cross-linked. */
  #recordRollback(run: Run, reason: string): void {
    const failed = run.record;
    const plan = failed.plan;
    // The rollback is instant and runs at no time scale: its times are real ones, so it sorts among
    // deployments created later by when it really happened.
    const wall = this.#deps.clock.now();
    const now = wall;
    const rollback: DeploymentRecord = {
      id: deploymentId(),
      plan: {
        ...plan,
        currentVersion: plan.targetVersion,
        targetVersion: plan.currentVersion,
        creator: 'codeDeployRollback',
      },
      status: 'Succeeded',
      createTime: now,
      startTime: now,
      completeTime: now,
      lifecycleEvents: [
        { name: 'AllowTraffic', status: 'Succeeded', startTime: now, endTime: now, diagnostics: SUCCESS },
      ],
      trafficWeight: FULL_WEIGHT,
      shiftStep: 0,
      instanceTerminationWaitTimeStarted: false,
      rollbackInfo: { rollbackTriggeringDeploymentId: failed.id },
      wallTimes: { create: wall, start: wall, complete: wall },
      timeline: [
        {
          time: now,
          wallTime: wall,
          level: 'warn',
          message: 'traffic returned to the original version',
          detail: { version: plan.currentVersion, rollbackTriggeringDeploymentId: failed.id },
          status: 'Succeeded',
        },
      ],
    };
    failed.rollbackInfo = {
      rollbackDeploymentId: rollback.id,
      rollbackMessage: `Rolled back to version ${plan.currentVersion}: ${reason}`,
    };
    this.#records.set(rollback.id, rollback);
    this.#changed(rollback);
    void this.#launcher.retire(plan.service, plan.targetVersion);
  }
}
