/**
 * @module hooks/http-hook
 * HTTP hooks: POST CodeDeploy's invocation payload and nothing else. In `async` mode (CodeDeploy's own
 * behaviour) the answer only says whether the invocation was delivered and the outcome arrives later
 * through PutLifecycleEventHookExecutionStatus; in `sync` mode the answer is the outcome.
 */
import { type Dispatcher, request } from 'undici';

import type { HttpHookSpec } from '../config/hooks.js';
import { describeError } from '../core/describe-error.js';
import { TailBuffer } from '../core/tail-buffer.js';
import { failed, type HookAttempt, type HookEnd } from './output.js';

/** The ids CodeDeploy sends a hook. */
export interface HookPayload {
  readonly deploymentId: string;
  readonly executionId: string;
}

export interface HttpHookOptions {
  /** undici dispatcher to send with (e.g. one trusting a private CA); the global one when absent. */
  readonly dispatcher?: Dispatcher | undefined;
  /** Called when an async invocation was accepted, for logging. */
  readonly onDelivered?: ((statusCode: number) => void) | undefined;
}

/** The exact body CodeDeploy sends: these two members, in this order. */
export function hookPayloadBody(payload: HookPayload): string {
  return JSON.stringify({ DeploymentId: payload.deploymentId, LifecycleEventHookExecutionId: payload.executionId });
}

/** Sends the invocation; `done` is called with an end unless an async hook was delivered (or it was stopped). */
export function startHttpHook(
  spec: HttpHookSpec,
  payload: HookPayload,
  done: (end: HookEnd) => void,
  options: HttpHookOptions = {},
): HookAttempt {
  const controller = new AbortController();
  void send(spec, hookPayloadBody(payload), controller.signal, options).then((end) => {
    if (end && !controller.signal.aborted) done(end);
  });
  return {
    stop: () => controller.abort(),
    tail: () => '',
  };
}

async function send(
  spec: HttpHookSpec,
  body: string,
  signal: AbortSignal,
  options: HttpHookOptions,
): Promise<HookEnd | undefined> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(spec.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal,
      // The hook's own timeout, on the runner's clock, bounds the wait; undici's would cut a long sync hook.
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
  } catch (err) {
    if (signal.aborted) return undefined;
    // Fail closed: a hook that cannot be reached must not let the deployment through.
    return failed('UnknownError', `could not deliver the hook invocation to ${spec.url}: ${describeError(err)}`);
  }
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  if (ok && spec.mode === 'async') {
    options.onDelivered?.(res.statusCode);
    await res.body.dump().catch(() => undefined);
    return undefined;
  }
  const tail = new TailBuffer();
  try {
    for await (const chunk of res.body) tail.push(chunk as Buffer);
  } catch (err) {
    if (signal.aborted) return undefined;
    return failed(
      'UnknownError',
      `hook ${spec.url} answered ${res.statusCode} but its body failed: ${describeError(err)}`,
      tail.tail(),
    );
  }
  if (ok) return { status: 'Succeeded', errorCode: 'Success', message: 'Succeeded', logTail: tail.tail() };
  return spec.mode === 'sync'
    ? failed('ScriptFailed', `hook ${spec.url} answered ${res.statusCode}`, tail.tail())
    : failed('UnknownError', `hook ${spec.url} refused the invocation with ${res.statusCode}`, tail.tail());
}
