/**
 * @module functions/node-runtime/call-handler
 * Calls a user handler the way Lambda's Node runtime does: a promise it returns settles the invocation; a
 * callback settles it too, once the event loop drains unless `callbackWaitsForEmptyEventLoop` is false.
 */
import { RuntimeError } from './errors.js';
import type { UserHandler } from './load-handler.js';

/** What `next` said about one invocation. */
export interface InvocationInfo {
  readonly requestId: string;
  readonly deadlineMs: number;
  readonly invokedFunctionArn: string;
  readonly clientContext: string | undefined;
  readonly cognitoIdentity: string | undefined;
}

/** The end of one handler call. */
export type HandlerResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** The context object of §3.4, with the legacy `succeed`/`fail`/`done` bound to `complete`. */
export function makeContext(
  info: InvocationInfo,
  env: NodeJS.ProcessEnv,
  complete: (err?: unknown, result?: unknown) => void,
) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env['AWS_LAMBDA_FUNCTION_NAME'],
    functionVersion: env['AWS_LAMBDA_FUNCTION_VERSION'],
    memoryLimitInMB: env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],
    logGroupName: env['AWS_LAMBDA_LOG_GROUP_NAME'],
    logStreamName: env['AWS_LAMBDA_LOG_STREAM_NAME'],
    invokedFunctionArn: info.invokedFunctionArn,
    awsRequestId: info.requestId,
    identity: parseJson(info.cognitoIdentity, 'CognitoIdentity'),
    clientContext: parseJson(info.clientContext, 'ClientContext'),
    getRemainingTimeInMillis: () => info.deadlineMs - Date.now(),
    succeed: (result?: unknown) => complete(null, result),
    fail: (err?: unknown) => complete(err ?? 'handled'),
    done: (err?: unknown, result?: unknown) => complete(err, result),
  };
}

function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`Cannot parse ${what} as json: ${String(err)}`);
  }
}

/** Runs `handler` for one event; resolves with its result or error, never rejects. */
export function callHandler(handler: UserHandler, event: unknown, info: InvocationInfo): Promise<HandlerResult> {
  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    let returnedPromise = false;
    let waiting: { value: unknown } | undefined;
    const finish = (result: HandlerResult) => {
      if (settled) return;
      settled = true;
      process.off('beforeExit', onDrain);
      resolve(result);
    };
    const callback = (err?: unknown, result?: unknown) => {
      if (answered) return;
      answered = true;
      if (err !== undefined && err !== null) return finish({ ok: false, error: err });
      if (context.callbackWaitsForEmptyEventLoop) waiting = { value: result };
      else finish({ ok: true, value: result });
    };
    // The loop drained: a waiting callback result goes out now; a handler that never answered is judged.
    const onDrain = () => {
      if (waiting) return finish({ ok: true, value: waiting.value });
      if (!returnedPromise) return finish({ ok: true, value: null });
      finish({
        ok: false,
        error: new RuntimeError(
          'Runtime.NodeJsExit',
          'Error: Runtime exited without providing a reason. The handler detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled.',
        ),
      });
    };
    process.on('beforeExit', onDrain);
    const context = makeContext(info, process.env, callback);
    try {
      const returned = handler(event, context, callback);
      if (isThenable(returned)) {
        returnedPromise = true;
        returned.then(
          (value) => finish({ ok: true, value }),
          (error: unknown) => finish({ ok: false, error }),
        );
      }
    } catch (error) {
      finish({ ok: false, error });
    }
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
