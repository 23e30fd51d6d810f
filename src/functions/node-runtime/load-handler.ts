/**
 * @module functions/node-runtime/load-handler
 * Loads the handler module in the Node runtime's order: the bare path, `.js` as CommonJS unless the nearest
 * package.json says `"type": "module"`, then `.js` (ESM) / `.mjs` by import, `.cjs` by require, and last
 * the module name resolved from the task root (a handler in node_modules).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { RuntimeError } from './errors.js';
import { parseHandlerName } from './handler-name.js';

/** A handler as the user exported it. */
export type UserHandler = (
  event: unknown,
  context: unknown,
  callback: (err?: unknown, result?: unknown) => void,
) => unknown;

/** Loads `handler` (the `_HANDLER` string) from `taskRoot`; throws RuntimeErrors with Lambda's types. */
export async function loadHandler(taskRoot: string, handler: string): Promise<UserHandler> {
  const name = parseHandlerName(handler);
  const lambdaStylePath = resolve(taskRoot, name.dir, name.module);
  let loaded: unknown;
  try {
    loaded = await loadModule(taskRoot, lambdaStylePath, name.module, name.dir);
  } catch (err) {
    throw classify(err);
  }
  let value: unknown = loaded;
  for (const key of name.exportPath) {
    value =
      typeof value === 'object' || typeof value === 'function'
        ? (value as Record<string, unknown> | null)?.[key]
        : undefined;
  }
  if (value === undefined) throw new RuntimeError('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  if (typeof value !== 'function') throw new RuntimeError('Runtime.HandlerNotFound', `${handler} is not a function`);
  return value as UserHandler;
}

async function loadModule(taskRoot: string, path: string, module: string, dir: string): Promise<unknown> {
  const require = createRequire(join(taskRoot, 'noop.js'));
  if (existsSync(path)) return require(path);
  const isModule = nearestPackageType(dirname(path)) === 'module';
  if (!isModule && existsSync(`${path}.js`)) return require(`${path}.js`);
  if (isModule && existsSync(`${path}.js`)) return import(pathToFileURL(`${path}.js`).href);
  if (existsSync(`${path}.mjs`)) return import(pathToFileURL(`${path}.mjs`).href);
  if (existsSync(`${path}.cjs`)) return require(`${path}.cjs`);
  return require(require.resolve(module, { paths: [taskRoot, resolve(taskRoot, dir)] }));
}

/** The `type` of the nearest package.json; the walk stops at a node_modules folder or the root. */
function nearestPackageType(start: string): string | undefined {
  let dir = start;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const type = (JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown }).type;
        return typeof type === 'string' ? type : undefined;
      } catch {
        return undefined;
      }
    }
    const up = dirname(dir);
    if (up === dir || dir.endsWith('/node_modules')) return undefined;
    dir = up;
  }
}

/** Syntax errors and missing modules get the runtime's types; the user's own init errors keep theirs. */
function classify(err: unknown): unknown {
  if (err instanceof SyntaxError) return new RuntimeError('Runtime.UserCodeSyntaxError', String(err), { cause: err });
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    return new RuntimeError('Runtime.ImportModuleError', String(err), { cause: err });
  }
  return err;
}
