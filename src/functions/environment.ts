/**
 * @module functions/environment
 * One execution environment of a function version: one runtime process at a time, one invocation at a
 * time. The process starts on the first invocation (a cold start, its Init measured) and is reset (killed,
 * started afresh on the next invocation) after a timeout, a crash or an init error, as Lambda resets it.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Clock } from '../core/clock.js';
import { SwitchyardError } from '../core/errors.js';
import type { ProcessLedger } from '../core/process-ledger.js';
import { endLine, exitReason, reportLine, startLine, timeoutMessage } from './platform-lines.js';
import { MAX_PAYLOAD_BYTES, type RuntimeInvocation, type RuntimeReport } from './runtime-api.js';
import { type InitEnd, runtimeCommand, type RuntimeExit, RuntimeProcess } from './runtime-process.js';

/** What one environment runs: a version's code and settings. */
export interface FunctionVersionSpec {
  readonly functionName: string;
  /** The executed version: `$LATEST`, `1`, … (never an alias). */
  readonly version: string;
  /** `nodejs`: switchyard's Node bootstrap loads `handler`; `provided`: the code's own `bootstrap`. */
  readonly runtime: 'nodejs' | 'provided';
  readonly handler: string;
  /** The folder holding the code (LAMBDA_TASK_ROOT). */
  readonly taskRoot: string;
  /** A custom runtime's executable; `<taskRoot>/bootstrap` by default, as on Lambda. */
  readonly bootstrap?: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  readonly region: string;
  readonly accountId: string;
  /** The version's own variables; reserved ones are not overridable. */
  readonly env: Readonly<Record<string, string>>;
}

/** One line of output, tagged with the invocation it belongs to (none during Init). */
export interface FunctionLogLine {
  readonly requestId: string | undefined;
  readonly stream: 'stdout' | 'stderr' | 'platform';
  readonly line: string;
}

/** What the environment needs besides the spec. */
export interface EnvironmentOptions {
  readonly clock: Clock;
  readonly onLog?: (line: FunctionLogLine) => void;
  /** Init longer than this fails the invocation (Lambda's cap is 10 s). */
  readonly initTimeoutMs?: number;
  /** Writes the runtime's process group down, so a later start stops it if switchyard was killed. */
  readonly ledger?: ProcessLedger;
  /** The built Node bootstrap; by default the one shipped beside this module. */
  readonly nodeBootstrap?: string;
}

/** Per-invocation settings, as the runtime is handed them (all optional: the deadline is now + the timeout by default). */
export type InvokeOptions = Partial<Omit<RuntimeInvocation, 'payload' | 'cognitoIdentity'>>;

/** How an invocation ended. */
export type InvokeOutcome =
  | { readonly kind: 'response'; readonly body: Buffer; readonly contentType: string | undefined }
  | {
      readonly kind: 'error';
      /** `init` when the runtime posted an init error. */
      readonly phase: 'init' | 'invoke';
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace: readonly string[];
      /** The posted error document, verbatim: Invoke returns it as the payload. */
      readonly body: Buffer;
    }
  | { readonly kind: 'timeout'; readonly errorMessage: string }
  | {
      readonly kind: 'crash';
      readonly exitCode: number | null;
      readonly signal: string | null;
      readonly errorMessage: string;
    };

/** Figures of the last invocation, for callers that keep statistics. */
export interface InvokeFigures {
  readonly requestId: string;
  readonly durationMs: number;
  /** Set when this invocation started the process (a cold start). */
  readonly initDurationMs: number | undefined;
}

const DEFAULT_INIT_TIMEOUT_MS = 10_000;

/** Where the built Node bootstrap lives: beside this module, under node-runtime/. */
export function shippedNodeBootstrap(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'node-runtime', 'bootstrap.js');
}

/** One execution environment; {@link ExecutionEnvironment.close} kills its process group. */
export class ExecutionEnvironment {
  private proc: RuntimeProcess | undefined;
  private busy = false;
  private closed = false;
  private currentRequestId: string | undefined;
  private last: InvokeFigures | undefined;

  /** Nothing starts until the first invocation. */
  constructor(
    private readonly spec: FunctionVersionSpec,
    private readonly options: EnvironmentOptions,
  ) {}

  /** The running process's id, if one runs. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** True while an invocation runs. */
  get isBusy(): boolean {
    return this.busy;
  }

  /** True when a process is up and past Init (the next invocation is warm). */
  get isWarm(): boolean {
    return this.proc !== undefined;
  }

  /** Figures of the last finished invocation. */
  get lastFigures(): InvokeFigures | undefined {
    return this.last;
  }

  /** Runs one invocation, starting the process first if none runs. */
  async invoke(event: Buffer | string, options: InvokeOptions = {}): Promise<InvokeOutcome> {
    if (this.closed) throw new SwitchyardError('VERSION_NOT_READY', 'the execution environment is closed');
    if (this.busy) throw new SwitchyardError('VERSION_NOT_READY', 'the execution environment is busy');
    const payload = typeof event === 'string' ? Buffer.from(event) : event;
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new SwitchyardError('BODY_TOO_LARGE', `the event is ${payload.length} bytes, over ${MAX_PAYLOAD_BYTES}`);
    }
    this.busy = true;
    const requestId = options.requestId ?? randomUUID();
    try {
      const init = await this.ensureStarted();
      if (init.kind !== 'ready') return await this.failInit(requestId, init);
      return await this.run(requestId, payload, options, init.ms);
    } finally {
      // Kept until the next invocation: output and the runtime's HTTP calls travel apart, so a line written
      // before the response may be read after it, and still belongs to this invocation.
      this.busy = false;
    }
  }

  /**
   * Starts the process and runs its Init without an invocation (as provisioned concurrency does): the
   * Init time, or the failure as the first invocation would have been answered.
   */
  async warm(): Promise<
    { readonly kind: 'ready'; readonly initMs: number } | { readonly kind: 'failed'; readonly outcome: InvokeOutcome }
  > {
    if (this.closed) throw new SwitchyardError('VERSION_NOT_READY', 'the execution environment is closed');
    if (this.busy) throw new SwitchyardError('VERSION_NOT_READY', 'the execution environment is busy');
    this.busy = true;
    try {
      const init = await this.ensureStarted();
      if (init.kind === 'ready') return { kind: 'ready', initMs: init.ms ?? 0 };
      return { kind: 'failed', outcome: await this.failInit(randomUUID(), init) };
    } finally {
      this.busy = false;
    }
  }

  /** Kills the process group (if any) and closes its Runtime API; later invocations are refused. */
  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
  }

  private async ensureStarted(): Promise<
    | { kind: 'ready'; ms: number | undefined }
    | (InitEnd & { ms: number })
    | { kind: 'exit' | 'init-timeout'; ms: number; exit?: RuntimeExit }
  > {
    // A runtime that exited between invocations (it posted an error, then ended) is replaced, not invoked.
    if (this.proc?.hasExited) await this.reset();
    if (this.proc) return { kind: 'ready', ms: undefined };
    this.currentRequestId = undefined;
    const { clock } = this.options;
    const started = clock.now();
    const command = runtimeCommand(
      this.spec.runtime,
      this.spec.taskRoot,
      this.nodeBootstrap(),
      this.environment(),
      this.spec.bootstrap,
    );
    const what = `function ${this.spec.functionName} version ${this.spec.version}`;
    const ledger = this.options.ledger ? { ledger: this.options.ledger, what } : undefined;
    this.proc = await RuntimeProcess.start(command, (stream, line) => this.log(stream, line), ledger);
    let cancel = () => {};
    const timedOut = new Promise<'timeout'>((resolve) => {
      cancel = clock.setTimer(this.options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS, () => resolve('timeout'));
    });
    const end = await Promise.race([this.proc.initEnd, this.proc.exited, timedOut]);
    cancel();
    const ms = clock.now() - started;
    if (end === 'timeout') return { kind: 'init-timeout', ms };
    if ('exitCode' in end) return { kind: 'exit', ms, exit: end };
    return { ...end, ms };
  }

  private async run(requestId: string, payload: Buffer, options: InvokeOptions, initMs: number | undefined) {
    const proc = this.proc as RuntimeProcess;
    const { clock } = this.options;
    this.currentRequestId = requestId;
    this.platform(startLine(requestId, this.spec.version));
    const started = clock.now();
    const deadlineMs = options.deadlineMs ?? started + this.spec.timeoutSeconds * 1000;
    let cancel = () => {};
    const timedOut = new Promise<'timeout'>((resolve) => {
      cancel = clock.setTimer(Math.max(0, deadlineMs - started), () => resolve('timeout'));
    });
    const reported = proc.api.api.deliver({
      requestId,
      payload,
      deadlineMs,
      invokedFunctionArn: options.invokedFunctionArn ?? this.arn(),
      ...(options.traceId === undefined ? {} : { traceId: options.traceId }),
      ...(options.clientContext === undefined ? {} : { clientContext: options.clientContext }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    });
    const end = await Promise.race([reported, proc.exited, timedOut]);
    cancel();
    const outcome = await this.settle(requestId, end);
    const durationMs = clock.now() - started;
    this.platform(endLine(requestId));
    const figures = { requestId, durationMs, memorySizeMb: this.spec.memorySizeMb };
    this.platform(reportLine(initMs === undefined ? figures : { ...figures, initDurationMs: initMs }));
    this.last = { requestId, durationMs, initDurationMs: initMs };
    return outcome;
  }

  private async settle(requestId: string, end: RuntimeReport | RuntimeExit | 'timeout'): Promise<InvokeOutcome> {
    if (end === 'timeout') {
      const message = timeoutMessage(this.spec.timeoutSeconds);
      this.platform(`${new Date(this.options.clock.now()).toISOString()} ${requestId} ${message}`);
      await this.reset();
      return { kind: 'timeout', errorMessage: message };
    }
    if ('exitCode' in end) {
      await this.reset();
      return crashOutcome(requestId, end);
    }
    if (end.kind === 'response') return { kind: 'response', body: end.body, contentType: end.contentType };
    return { kind: 'error', phase: 'invoke', ...parseErrorDocument(end.body, end.errorTypeHeader), body: end.body };
  }

  private async failInit(
    requestId: string,
    init: (InitEnd & { ms: number }) | { kind: 'exit' | 'init-timeout'; ms: number; exit?: RuntimeExit },
  ): Promise<InvokeOutcome> {
    this.currentRequestId = requestId;
    const exit = await this.reset();
    if (init.kind === 'init-error') {
      return { kind: 'error', phase: 'init', ...parseErrorDocument(init.body, init.errorTypeHeader), body: init.body };
    }
    if (init.kind === 'init-timeout') {
      const errorMessage = `RequestId: ${requestId} Error: Init timed out after ${(init.ms / 1000).toFixed(2)} seconds`;
      const body = Buffer.from(JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage }));
      return { kind: 'error', phase: 'init', errorType: 'Sandbox.Timedout', errorMessage, trace: [], body };
    }
    return crashOutcome(requestId, ('exit' in init ? init.exit : undefined) ?? exit);
  }

  /** Kills the process (if any); the next invocation starts a fresh one. */
  private async reset(): Promise<RuntimeExit> {
    const proc = this.proc;
    this.proc = undefined;
    return proc ? proc.kill() : { exitCode: null, signal: null };
  }

  private environment(): Record<string, string> {
    const s = this.spec;
    return {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      ...s.env,
      _HANDLER: s.handler,
      AWS_REGION: s.region,
      AWS_DEFAULT_REGION: s.region,
      ...(s.runtime === 'nodejs'
        ? { AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x` }
        : {}),
      AWS_LAMBDA_FUNCTION_NAME: s.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(s.memorySizeMb),
      AWS_LAMBDA_FUNCTION_VERSION: s.version,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${s.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(new Date(this.options.clock.now()), s.version),
      LAMBDA_TASK_ROOT: s.taskRoot,
      LAMBDA_RUNTIME_DIR: dirname(this.nodeBootstrap()),
      TZ: 'UTC',
    };
  }

  private nodeBootstrap(): string {
    return this.options.nodeBootstrap ?? shippedNodeBootstrap();
  }

  private arn(): string {
    const s = this.spec;
    return `arn:aws:lambda:${s.region}:${s.accountId}:function:${s.functionName}`;
  }

  private log(stream: 'stdout' | 'stderr', line: string): void {
    this.options.onLog?.({ requestId: recordRequestId(line) ?? this.currentRequestId, stream, line });
  }

  private platform(line: string): void {
    this.options.onLog?.({ requestId: this.currentRequestId, stream: 'platform', line });
  }
}

/** The request id a Node runtime record names (`<time>\t<id>\t<LEVEL>\t…`), which no race can mislabel. */
function recordRequestId(line: string): string | undefined {
  const id = /^\d{4}-\d\d-\d\dT[\d:.]+Z\t([^\t]+)\t(?:INFO|WARN|ERROR|DEBUG|TRACE|FATAL)\t/.exec(line)?.[1];
  return id === 'undefined' ? undefined : id;
}

/** The `Runtime.ExitError` outcome for a process that exited while Init or an invocation was under way. */
function crashOutcome(requestId: string, exit: RuntimeExit): InvokeOutcome {
  const errorMessage = `RequestId: ${requestId} Error: ${exitReason(exit.exitCode, exit.signal)}`;
  return { kind: 'crash', exitCode: exit.exitCode, signal: exit.signal, errorMessage };
}

/** `2019/06/07/[$LATEST]<32 hex>`, Lambda's stream name shape. */
function logStreamName(now: Date, version: string): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomUUID().replaceAll('-', '')}`;
}

/** Reads an error document (`trace` from the Node runtime, `stackTrace` from others); tolerates non-JSON. */
export function parseErrorDocument(
  body: Buffer,
  errorTypeHeader: string | undefined,
): { errorType: string; errorMessage: string; trace: readonly string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    doc = undefined;
  }
  const record = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  const lines = Array.isArray(record['trace'])
    ? record['trace']
    : Array.isArray(record['stackTrace'])
      ? record['stackTrace']
      : [];
  return {
    errorType: typeof record['errorType'] === 'string' ? record['errorType'] : (errorTypeHeader ?? 'Runtime.Unknown'),
    errorMessage: typeof record['errorMessage'] === 'string' ? record['errorMessage'] : body.toString('utf8'),
    trace: lines.map((l) => String(l)),
  };
}
