/**
 * @module shifting/lifecycle-walk
 * Walks a deployment through its platform's lifecycle in CodeDeploy's order: runs each event's hook,
 * carries out the reserved events (Install, AllowTestTraffic, AllowTraffic: the shift over the schedule's
 * steps), waits in Ready when the plan says so, and hands the end to the endings. Every wait comes from
 * the deployment's clock, and traffic moves only through the traffic port.
 */
import { type DeploymentErrorCode, type LifecycleEventName, RESERVED_EVENTS } from '../codedeploy/lifecycle.js';
import { describeError } from '../core/describe-error.js';
import { hookExecutionId } from '../core/ids.js';
import { FULL_WEIGHT } from '../core/route-table.js';
import { clearToMove } from './data-plane-gate.js';
import { halt, succeed, terminationWait, wantsRollback } from './endings.js';
import { type EngineContext, SUCCESS } from './engine-context.js';
import { type DeploymentPlan, type HookOutcome, type LifecycleEventRecord, ReplacementNotReady } from './ports.js';
import { trafficMoved } from './recovery-decision.js';
import { Halted, type Run } from './run.js';
import { stepsOf } from './schedule.js';

/** How one lifecycle event ended. */
type EventResult = { status: 'Succeeded' } | { status: 'Failed'; code: DeploymentErrorCode; message: string };

/** Runs deployments' lifecycles, from the start or from where a restart found them. */
export class LifecycleWalk {
  constructor(readonly ctx: EngineContext) {}

  /** Starts a created deployment and walks it to its end. */
  async start(run: Run): Promise<void> {
    const { ctx } = this;
    const { record, clock } = run;
    const plan = record.plan;
    // Stopped before it began: nothing to do.
    if (run.abort.signal.aborted) return;
    record.status = 'InProgress';
    record.startTime = clock.now();
    record.wallTimes.start = ctx.deps.clock.now();
    ctx.note(run, 'info', 'deployment started');
    this.#watchAlarms(run);
    const misconfigured = this.#lambdaAliasProblem(plan);
    if (misconfigured) {
      halt(ctx, run, 'Failed', 'INVALID_LAMBDA_CONFIGURATION', misconfigured, false);
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
  async resume(run: Run): Promise<void> {
    const { record } = run;
    const plan = record.plan;
    if (run.abort.signal.aborted) return;
    this.#watchAlarms(run);
    await this.#guarded(run, async () => {
      const installed =
        plan.appSpec.platform === 'Lambda' ||
        record.lifecycleEvents.some((e) => e.name === 'Install' && e.status === 'Succeeded');
      // A replacement that cannot run again has nothing to serve the traffic it was given: that goes back
      // to the original whatever the group's rollback settings, rather than to a version with no targets.
      if (
        installed &&
        !(await this.#replacementReady(run, trafficMoved(record) || wantsRollback(plan, 'DEPLOYMENT_FAILURE')))
      )
        return;
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
      halt(
        this.ctx,
        run,
        'Failed',
        'INTERNAL_ERROR',
        describeError(err),
        wantsRollback(run.record.plan, 'DEPLOYMENT_FAILURE'),
      );
    }
  }

  /** The lifecycle from the first event not yet finished, then the termination wait and success. */
  async #proceed(run: Run): Promise<void> {
    const { record } = run;
    const plan = record.plan;
    for (const event of record.lifecycleEvents) {
      if (event.status !== 'Pending' && event.status !== 'InProgress') continue;
      if (
        plan.appSpec.platform === 'ECS' &&
        event.name === 'BeforeAllowTraffic' &&
        plan.readyWait &&
        event.status === 'Pending'
      ) {
        await this.#readyWait(run, plan.readyWait.waitMs);
      }
      const outcome = await this.#event(run, event);
      if (outcome.status === 'Failed') {
        // A failed BeforeInstall changed nothing yet, so CodeDeploy never rolls it back.
        const rollback = event.name !== 'BeforeInstall' && wantsRollback(plan, 'DEPLOYMENT_FAILURE');
        halt(this.ctx, run, 'Failed', outcome.code, outcome.message, rollback);
        return;
      }
    }
    await terminationWait(this.ctx, run);
    succeed(this.ctx, run);
  }

  /** Alarms are watched from the start to the end of the deployment, termination wait included. */
  #watchAlarms(run: Run): void {
    const { ctx } = this;
    const { record } = run;
    const plan = record.plan;
    if (!plan.alarms || plan.alarms.names.length === 0 || !ctx.deps.alarms) return;
    ctx.deps.alarms.watch(
      {
        deploymentId: record.id,
        service: plan.service,
        original: plan.currentVersion,
        replacement: plan.targetVersion,
        alarms: plan.alarms.names,
        ignorePollAlarmFailure: plan.alarms.ignorePollAlarmFailure,
      },
      (alarm, reason) => {
        if (ctx.runs.get(record.id) !== run) return;
        const message = `Alarm "${alarm}" went into ALARM: ${reason}`;
        halt(ctx, run, 'Stopped', 'ALARM_ACTIVE', message, wantsRollback(plan, 'DEPLOYMENT_STOP_ON_ALARM'));
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
      await this.ctx.launcher.prepare(plan.service, plan.targetVersion, run.abort.signal);
      this.ctx.deps.traffic.setMirroring(plan.service, plan.targetVersion);
      return true;
    } catch (err) {
      if (run.abort.signal.aborted) throw new Halted();
      halt(
        this.ctx,
        run,
        'Failed',
        'HEALTH_CONSTRAINTS',
        `version ${plan.targetVersion} is not ready: ${describeError(err)}`,
        rollback,
      );
      return false;
    }
  }

  /**
   * CodeDeploy refuses to shift a Lambda alias that does not point wholly at CurrentVersion (a deployment
   * stopped without rollback leaves it weighted); the same holds here for the service's production split.
   */
  #lambdaAliasProblem(plan: DeploymentPlan): string | undefined {
    if (plan.appSpec.platform !== 'Lambda') return undefined;
    const service = this.ctx.deps.traffic.service(plan.service);
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
  async #event(run: Run, event: LifecycleEventRecord): Promise<EventResult> {
    const { ctx } = this;
    const { record, clock } = run;
    if ((event.name === 'AllowTestTraffic' || event.name === 'AfterAllowTestTraffic') && !record.plan.testListener) {
      // CodeDeploy ignores test traffic when the group has no test listener.
      event.status = 'Skipped';
      ctx.changed(record);
      return { status: 'Succeeded' };
    }
    if (event.status === 'InProgress')
      ctx.note(run, 'info', 'lifecycle event started again after a restart', { event: event.name });
    event.status = 'InProgress';
    event.startTime ??= clock.now();
    ctx.changed(record);
    const result = RESERVED_EVENTS.has(event.name)
      ? await this.#reservedEvent(run, event)
      : await this.#hookEvent(run, event);
    if (run.abort.signal.aborted) throw new Halted();
    event.status = result.status;
    event.endTime = clock.now();
    ctx.note(run, result.status === 'Succeeded' ? 'info' : 'warn', 'lifecycle event finished', {
      event: event.name,
      status: event.status,
      ...(result.status === 'Failed' && { reason: result.message }),
    });
    return result;
  }

  /** Carries out a reserved event; its failure (other than a halt) fails the event, with diagnostics. */
  async #reservedEvent(run: Run, event: LifecycleEventRecord): Promise<EventResult> {
    try {
      await this.#reserved(run, event.name);
      event.diagnostics = SUCCESS;
      return { status: 'Succeeded' };
    } catch (err) {
      if (err instanceof Halted || run.abort.signal.aborted) throw new Halted();
      const message = `${event.name} failed: ${describeError(err)}`;
      const logTail = err instanceof ReplacementNotReady ? err.logTail : '';
      event.diagnostics = { errorCode: 'UnknownError', scriptName: '', message, logTail };
      return { status: 'Failed', code: event.name === 'Install' ? 'HEALTH_CONSTRAINTS' : 'INTERNAL_ERROR', message };
    }
  }

  /** Runs an event's hook (none named: it succeeds); a failed hook fails the event. */
  async #hookEvent(run: Run, event: LifecycleEventRecord): Promise<EventResult> {
    const outcome = await this.#hook(run, event.name);
    event.diagnostics = outcome.diagnostics;
    return outcome.status === 'Succeeded'
      ? { status: 'Succeeded' }
      : {
          status: 'Failed',
          code: 'HOOK_EXECUTION_FAILURE',
          message: `The ${event.name} hook failed: ${outcome.diagnostics.message}`,
        };
  }

  async #hook(run: Run, event: LifecycleEventName): Promise<HookOutcome> {
    const { hooks } = this.ctx.deps;
    const { record } = run;
    const plan = record.plan;
    const hook = plan.appSpec.hooks.find((h) => h.event === event);
    if (!hook) return { status: 'Succeeded', diagnostics: SUCCESS };
    const outcome = await hooks.run(
      {
        deploymentId: record.id,
        executionId: hookExecutionId(),
        applicationName: plan.applicationName,
        deploymentGroupName: plan.deploymentGroupName,
        event,
        target: hook.target,
        timeoutMs: (hooks.timeoutOf?.(hook.target) ?? plan.hookTimeoutMs) / plan.timeScale,
      },
      run.abort.signal,
    );
    if (run.abort.signal.aborted) throw new Halted();
    return outcome;
  }

  async #reserved(run: Run, event: LifecycleEventName): Promise<void> {
    const plan = run.record.plan;
    const { traffic } = this.ctx.deps;
    switch (event) {
      case 'Install':
        await this.ctx.launcher.prepare(plan.service, plan.targetVersion, run.abort.signal);
        // Ready: copies of production requests may now go to it (routing.mirror), a shadow phase.
        traffic.setMirroring(plan.service, plan.targetVersion);
        return;
      case 'AllowTestTraffic':
        await this.#clearToMove(run, 'AllowTestTraffic');
        traffic.setWeights(plan.service, { [plan.targetVersion]: 100 }, 'test');
        await this.#moved(run);
        return;
      case 'AllowTraffic': {
        // From here until the deployment ends, failures on the replacement may be retried on the original,
        // and scheduled faults count from the event's start (kept, so a resumed shift keeps its schedule).
        const at = run.record.lifecycleEvents.find((e) => e.name === 'AllowTraffic')?.startTime ?? run.clock.now();
        traffic.setShifting(plan.service, {
          original: plan.currentVersion,
          replacement: plan.targetVersion,
          start: { clock: run.clock, at, timeScale: plan.timeScale },
        });
        await this.#shift(run);
        return;
      }
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
      // Checked again after the pause: a promote meanwhile moves straight to all traffic.
      await this.#clearToMove(run, `AllowTraffic step ${i + 1}`);
      const weight = record.promoted ? FULL_WEIGHT : step.weight;
      record.shiftStep = i;
      this.#setWeight(run, weight);
      // A step is held from when every data plane routes by it, and the next event waits for all traffic.
      await this.#moved(run);
      if (weight === FULL_WEIGHT) return;
      record.waitingFor = step.holdMs === null ? 'CONTINUE_STEP' : undefined;
      await run.hold(step.holdMs, (r) => this.ctx.changed(r));
      record.waitingFor = undefined;
    }
  }

  /** Waits, before a traffic move, while a remote data plane has been out of reach beyond its grace. */
  #clearToMove(run: Run, move: string): Promise<void> {
    const { ctx } = this;
    return clearToMove(ctx.deps.dataPlanes, { run, clock: ctx.deps.clock, note: (...a) => ctx.note(...a) }, move);
  }

  /** Waits until every data plane routes by the change just made; a deployment stopped meanwhile goes no further. */
  async #moved(run: Run): Promise<void> {
    await this.ctx.deps.traffic.applied();
    if (run.abort.signal.aborted) throw new Halted();
  }

  #setWeight(run: Run, weight: number): void {
    this.ctx.atomically(() => this.#setWeightNow(run, weight));
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
    this.ctx.deps.traffic.setWeights(plan.service, weights, 'production');
    record.trafficWeight = weight;
    if (unchanged) this.ctx.changed(record);
    else this.ctx.note(run, 'info', 'weight changed', { weight: target });
  }

  /** ECS with STOP_DEPLOYMENT: status Ready until ContinueDeployment, or Stopped when the wait runs out. */
  async #readyWait(run: Run, waitMs: number): Promise<void> {
    const { record } = run;
    const resumed = record.status === 'Ready';
    record.status = 'Ready';
    record.waitingFor = 'READY_WAIT';
    if (!resumed) this.ctx.note(run, 'info', 'ready: waiting for ContinueDeployment', { waitMs });
    const ended = await run.hold(waitMs, (r) => this.ctx.changed(r));
    record.waitingFor = undefined;
    if (ended === 'elapsed') {
      // Production traffic never moved; the test listener and the replacement are put back as they were.
      halt(this.ctx, run, 'Stopped', 'TIMEOUT', 'The ready wait ended without ContinueDeployment', 'restore');
      throw new Halted();
    }
    // Not written here: BeforeAllowTraffic starts in this same turn and writes both, so no kept record
    // shows the ready wait over with BeforeAllowTraffic not begun (which a restart would read as not waited).
    record.status = 'InProgress';
  }
}
