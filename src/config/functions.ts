/**
 * @module config/functions
 * A version that is a Lambda-like function (`lambda:` under a version): its code (a Node `handler`
 * switchyard's own bootstrap loads, or a custom runtime's `bootstrap`), and the settings Lambda gives a
 * function version (timeout, memory size, variables) plus how many execution environments it may keep.
 */
import { posix } from 'node:path';

import { z } from 'zod';

import { Duration } from '../core/duration.js';
import { numberAsText } from './fields.js';

/** How a request on a listener becomes an event: API Gateway HTTP API 2.0, REST API 1.0, or a function URL (2.0's shape). */
export const EVENT_FORMATS = ['http-api-v2', 'rest-v1', 'function-url'] as const;
export const EventFormat = z.enum(EVENT_FORMATS, { error: `must be one of ${EVENT_FORMATS.join(', ')}` });
export type EventFormat = z.infer<typeof EventFormat>;
/** A service's event format when it names none. */
export const DEFAULT_EVENT_FORMAT: EventFormat = 'http-api-v2';
/** A service's Lambda alias when it names none. */
export const DEFAULT_ALIAS = 'live';

/** Lambda's own bounds (seconds and MB), so a config that works here also fits Lambda. */
const MAX_TIMEOUT_MS = 900_000;
const HANDLER = /^[^\s]+\.[A-Za-z_$][\w$]*$/;

export const LambdaConfig = z
  .strictObject({
    /** `dir/module.export`: with no `root`, `dir` is the task root and `module.export` Lambda's handler. */
    handler: z
      .string()
      .regex(HANDLER, { message: 'must be <module path>.<exported function>, e.g. index.handler' })
      .optional(),
    /** A custom runtime's executable (relative to the config file): it is the runtime, as on `provided.al2023`. */
    bootstrap: z.string().min(1).optional(),
    /** The code's folder (LAMBDA_TASK_ROOT), relative to the config file; by default the handler's or bootstrap's folder. */
    root: z.string().min(1).optional(),
    timeout: Duration.pipe(
      z
        .number()
        .min(1_000, { error: 'must be at least 1s (Lambda counts whole seconds)' })
        .max(MAX_TIMEOUT_MS, { error: 'must be at most 15m, as on Lambda' }),
    ).default(3_000),
    memorySize: z
      .number({ error: 'must be a number of MB' })
      .int({ error: 'must be a whole number of MB' })
      .min(128, { error: 'must be 128-10240 (MB), as on Lambda' })
      .max(10_240, { error: 'must be 128-10240 (MB), as on Lambda' })
      .default(128),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.preprocess(numberAsText, z.string())).default({}),
    /** Execution environments kept at most (each runs one invocation at a time); beyond them, 429. */
    concurrency: z.number().int().min(1).max(1_000).default(10),
    /** An environment idle this long is stopped (Lambda keeps them minutes, unannounced). */
    idleTimeout: Duration.pipe(z.number().positive({ error: 'must be longer than 0' })).default(300_000),
  })
  .superRefine((fn, ctx) => {
    if (fn.handler === undefined && fn.bootstrap === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a function needs a handler, or a bootstrap (a custom runtime)' });
    }
  })
  .transform((fn): FunctionSpec => {
    const runtime = fn.bootstrap === undefined ? 'nodejs' : 'provided';
    let handler = fn.handler ?? '';
    let root = fn.root;
    if (root === undefined) {
      if (fn.bootstrap !== undefined) root = posix.dirname(fn.bootstrap);
      else {
        // `fn-v1/index.handler`: the folder is the code, `index.handler` the handler Lambda would be given.
        const slash = handler.lastIndexOf('/');
        root = slash >= 0 ? handler.slice(0, slash) : '.';
        handler = handler.slice(slash + 1);
      }
    }
    return {
      runtime,
      handler,
      root,
      ...(fn.bootstrap !== undefined && { bootstrap: fn.bootstrap }),
      timeoutMs: fn.timeout,
      memorySizeMb: fn.memorySize,
      env: fn.env,
      concurrency: fn.concurrency,
      idleMs: fn.idleTimeout,
    };
  });

/** A function version as switchyard runs it; `root` and `bootstrap` are absolute once the config is loaded. */
export interface FunctionSpec {
  readonly runtime: 'nodejs' | 'provided';
  /** What `_HANDLER` says (may be empty for a custom runtime). */
  readonly handler: string;
  readonly root: string;
  readonly bootstrap?: string;
  readonly timeoutMs: number;
  readonly memorySizeMb: number;
  readonly env: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly idleMs: number;
}
