/**
 * @module core/function-invoker
 * What the Lambda API (on the control port) asks of the function versions switchyard runs: one
 * invocation of one version, answered as Lambda's Invoke answers it. The functions adapter implements
 * it; the API knows nothing of processes or pools.
 */

/** One synchronous invocation of a function version. */
export interface FunctionInvocationRequest {
  /** The function: a service of the config. */
  readonly service: string;
  /** The version that runs it (already chosen: never an alias). */
  readonly version: string;
  readonly payload: Buffer;
  /** The ARN the caller used: unqualified, `:version` or `:alias` (what the runtime's context shows). */
  readonly invokedFunctionArn: string;
  /** `X-Amz-Client-Context`, decoded from base64. */
  readonly clientContext?: string;
  /** Lambda's request id (the function's `context.awsRequestId`, the answer's `x-amzn-RequestId`); new when absent. */
  readonly requestId?: string;
  /** When true, the result carries the last 4 KB of the invocation's log (for `X-Amz-Log-Type: Tail`). */
  readonly tailLog: boolean;
}

/**
 * How it ended. `function-error` is Lambda's `X-Amz-Function-Error: Unhandled`: a thrown error, a timeout
 * (`Sandbox.Timedout`), a crash or an init failure, with the error document as the payload. Refusals
 * before the function runs are thrown as SwitchyardError: FUNCTION_THROTTLED beyond `concurrency`,
 * BODY_TOO_LARGE over the 6 MB payload limit, VERSION_NOT_FOUND / VERSION_NOT_READY.
 */
export type FunctionInvocationResult =
  | { readonly kind: 'response'; readonly payload: Buffer; readonly logTail?: string }
  | { readonly kind: 'function-error'; readonly payload: Buffer; readonly logTail?: string };

/** Runs invocations of the config's function versions. */
export interface FunctionInvoker {
  /** Runs one invocation on a warm environment of the version (or a new one: a cold start). */
  invoke(request: FunctionInvocationRequest): Promise<FunctionInvocationResult>;
}
