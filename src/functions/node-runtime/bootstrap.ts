/**
 * @module functions/node-runtime/bootstrap
 * switchyard's Node runtime, run as the function's own process: loads `_HANDLER` from `LAMBDA_TASK_ROOT`,
 * then polls the Runtime API for events forever, posting each result or error. Time here is the process's
 * own clock (Date.now), as the deadline header is wall-clock epoch milliseconds.
 */
import { Agent, request } from 'undici';

import { callHandler, type InvocationInfo } from './call-handler.js';
import { formatRecord, patchConsole } from './console-patch.js';
import { type ErrorDocument, toErrorDocument } from './errors.js';
import { loadHandler, type UserHandler } from './load-handler.js';

const BASE = `http://${process.env['AWS_LAMBDA_RUNTIME_API'] ?? '127.0.0.1:9001'}/2018-06-01`;
// No timeouts: `next` blocks for as long as no invocation comes, and must never give up.
const agent = new Agent({ connections: 1, headersTimeout: 0, bodyTimeout: 0 });
let currentRequestId: string | undefined;

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await request(`${BASE}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  await res.body.dump();
}

function logError(label: string, doc: ErrorDocument): void {
  process.stderr.write(`${formatRecord(new Date(), currentRequestId, 'ERROR', `${label} \t${JSON.stringify(doc)}`)}\n`);
}

async function postInitError(err: unknown): Promise<never> {
  const doc = toErrorDocument(err);
  logError('Init Error', doc);
  try {
    await post('/runtime/init/error', JSON.stringify(doc), { 'lambda-runtime-function-error-type': doc.errorType });
  } finally {
    // Whether or not the Runtime API took it: a failed post must not come back here as another crash.
    process.exit(1);
  }
}

/** A failure outside the handler's own promise: posted for the invocation (or Init), then the process ends. */
function installCrashHandlers(): void {
  const fail = (errorType: string | undefined, exitCode: number) => async (err: unknown) => {
    const doc = toErrorDocument(err);
    const shaped = errorType ? { ...doc, errorType } : doc;
    if (currentRequestId === undefined) return postInitError(err);
    logError('Uncaught Exception', shaped);
    await post(`/runtime/invocation/${encodeURIComponent(currentRequestId)}/error`, JSON.stringify(shaped)).catch(
      () => {},
    );
    process.exit(exitCode);
  };
  process.on('uncaughtException', (err) => void fail(undefined, 129)(err));
  process.on('unhandledRejection', (err) => void fail('Runtime.UnhandledPromiseRejection', 128)(err));
}

async function next(): Promise<{ info: InvocationInfo; event: unknown }> {
  const res = await request(`${BASE}/runtime/invocation/next`, { dispatcher: agent });
  const text = await res.body.text();
  const h = (name: string) => {
    const v = res.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if (res.statusCode !== 200) throw new Error(`next answered ${res.statusCode}: ${text}`);
  const traceId = h('lambda-runtime-trace-id');
  if (traceId === undefined) delete process.env['_X_AMZN_TRACE_ID'];
  else process.env['_X_AMZN_TRACE_ID'] = traceId;
  const info: InvocationInfo = {
    requestId: h('lambda-runtime-aws-request-id') ?? '',
    deadlineMs: Number(h('lambda-runtime-deadline-ms')),
    invokedFunctionArn: h('lambda-runtime-invoked-function-arn') ?? '',
    clientContext: h('lambda-runtime-client-context'),
    cognitoIdentity: h('lambda-runtime-cognito-identity'),
  };
  return { info, event: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function serve(handler: UserHandler): Promise<never> {
  for (;;) {
    currentRequestId = undefined;
    const { info, event } = await next();
    currentRequestId = info.requestId;
    const path = `/runtime/invocation/${encodeURIComponent(info.requestId)}`;
    const result = await callHandler(handler, event, info);
    if (result.ok) {
      await post(`${path}/response`, JSON.stringify(result.value ?? null));
    } else {
      const doc = toErrorDocument(result.error);
      logError('Invoke Error', doc);
      await post(`${path}/error`, JSON.stringify(doc));
    }
  }
}

async function main(): Promise<void> {
  installCrashHandlers();
  patchConsole(() => currentRequestId);
  let handler: UserHandler;
  try {
    handler = await loadHandler(
      process.env['LAMBDA_TASK_ROOT'] ?? process.cwd(),
      process.env['_HANDLER'] ?? 'index.handler',
    );
  } catch (err) {
    return postInitError(err);
  }
  await serve(handler);
}

// The Runtime API gone (switchyard stopped or killed): nothing can be asked or answered any more, so the
// runtime ends rather than retry forever, as Lambda's own runtime clients do.
await main().catch((err: unknown) => {
  process.stderr.write(`the Runtime API at ${BASE} cannot be reached: ${String(err)}\n`);
  process.exit(1);
});
