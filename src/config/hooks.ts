/**
 * @module config/hooks
 * The config file's top-level `hooks:` map (name → HTTP hook or command hook) and how an AppSpec hook
 * target resolves through it. CodeDeploy's AppSpec names a Lambda function; locally it names an entry
 * here, or is itself the URL to call.
 */
import { z } from 'zod';

import { Duration, formatDuration } from '../core/duration.js';
import { isHttpUrl } from '../core/url.js';

/** CodeDeploy's limit for one lifecycle event (reference §2.5), kept as the default for fidelity. */
export const DEFAULT_HOOK_TIMEOUT_MS = 3_600_000;

const HookTimeout = Duration;

/** An HTTP hook: `async` waits for PutLifecycleEventHookExecutionStatus, `sync` takes a 2xx as success. */
export interface HttpHookSpec {
  readonly kind: 'http';
  readonly url: string;
  readonly mode: 'async' | 'sync';
  readonly timeoutMs: number;
}

/** A command hook: a string runs through `/bin/sh -c`, an array is spawned as is. */
export interface CommandHookSpec {
  readonly kind: 'command';
  readonly command: string | readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly timeoutMs: number;
}

export type HookSpec = HttpHookSpec | CommandHookSpec;

/**
 * One entry of `hooks:`. Checked as one object rather than a union of two, so that a wrong or extra key
 * is reported at that key instead of as "Invalid input".
 */
export const HookConfig = z
  .strictObject({
    url: z.string().refine(isHttpUrl, { message: 'must be an http(s) URL' }).optional(),
    mode: z.enum(['async', 'sync']).optional(),
    command: z
      .union([z.string().min(1), z.array(z.string()).min(1, 'must name a program')], {
        error: 'must be a command line (string) or a program and its arguments (list of strings)',
      })
      .optional(),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().min(1).optional(),
    timeout: HookTimeout.optional(),
  })
  .superRefine((hook, ctx) => {
    if ((hook.url === undefined) === (hook.command === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a hook needs exactly one of url or command' });
      return;
    }
    const stray = hook.url !== undefined ? (['env', 'cwd'] as const) : (['mode'] as const);
    for (const key of stray) {
      if (hook[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is not an option of ${hook.url !== undefined ? 'an HTTP' : 'a command'} hook`,
        });
      }
    }
  })
  .transform((hook): HookSpec => {
    const timeoutMs = hook.timeout ?? DEFAULT_HOOK_TIMEOUT_MS;
    if (hook.url !== undefined) return { kind: 'http', url: hook.url, mode: hook.mode ?? 'async', timeoutMs };
    return { kind: 'command', command: hook.command!, env: hook.env ?? {}, cwd: hook.cwd, timeoutMs };
  });

/** The top-level `hooks:` map of the config file. */
export const HooksConfig = z.record(z.string().min(1, 'a hook name must not be empty'), HookConfig).default({});
export type HooksConfig = z.infer<typeof HooksConfig>;

/** What an AppSpec hook target turned into: a hook to run, or why there is none. */
export type ResolvedHook =
  { readonly ok: true; readonly spec: HookSpec } | { readonly ok: false; readonly message: string };

/** Resolves AppSpec hook targets through the `hooks:` map; a target that is an http(s) URL is used as is. */
export class HookRegistry {
  readonly #hooks: ReadonlyMap<string, HookSpec>;

  constructor(hooks: HooksConfig = {}) {
    this.#hooks = new Map(Object.entries(hooks));
  }

  /** Names in the map, sorted, for messages. */
  get names(): string[] {
    return [...this.#hooks.keys()].sort();
  }

  /**
   * The hook a target names: the map first (a Lambda function ARN, as SAM writes hooks, by its function
   * name), then the target as a URL (async HTTP, default timeout).
   */
  resolve(target: string): ResolvedHook {
    const spec = this.#hooks.get(target) ?? this.#hooks.get(lambdaFunctionName(target) ?? '');
    if (spec) return { ok: true, spec };
    if (isHttpUrl(target))
      return { ok: true, spec: { kind: 'http', url: target, mode: 'async', timeoutMs: DEFAULT_HOOK_TIMEOUT_MS } };
    const known = this.names.length ? `known hooks: ${this.names.join(', ')}` : 'the config defines no hooks';
    return {
      ok: false,
      message: `hook "${target}" is neither a name in the config's hooks: map (${known}) nor an http(s) URL`,
    };
  }

  /** The unscaled timeout of a target's hook in ms, for the engine to scale into HookInvocation.timeoutMs. */
  timeoutOf(target: string): number {
    const resolved = this.resolve(target);
    return resolved.ok ? resolved.spec.timeoutMs : DEFAULT_HOOK_TIMEOUT_MS;
  }
}

/** `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` (any AWS partition). */
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/;

/** The function name of a Lambda function ARN, or undefined when `target` is not one. */
export function lambdaFunctionName(target: string): string | undefined {
  return LAMBDA_ARN.exec(target)?.[1];
}

/** A timeout as people read it in diagnostics (`30s`, `1h`). */
export function describeTimeout(ms: number): string {
  return formatDuration(Math.round(ms));
}
