/**
 * @module api/lambda/catalog
 * The functions the Lambda API knows, read from the config: a function is a service with at least one
 * `lambda` version, its versions are those labels, and `$LATEST` is the last of them in the service's
 * `versions` (the newest code; for numeric labels, the highest). The service's `alias` is the function's
 * one alias. Also how a `FunctionName` (name, `name:qualifier`, full or partial ARN) and a `Qualifier`
 * are read, and the ARNs answers carry.
 */
import { DEFAULT_ALIAS, type FunctionSpec } from '../../config/functions.js';
import type { ServiceConfig } from '../../config/services.js';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../core/aws-identity.js';
import { LambdaRefusal } from './errors.js';

/** Lambda's name for the unpublished, newest code of a function. */
export const LATEST = '$LATEST';

/** One function version: its label and its settings. */
export interface FunctionVersion {
  readonly label: string;
  readonly spec: FunctionSpec;
}

/** A function: a service with function versions. */
export interface LambdaFunction {
  readonly name: string;
  readonly alias: string;
  /** Its function versions, in the order of the service's `versions`. */
  readonly versions: readonly FunctionVersion[];
  /** The version `$LATEST` runs: the last of {@link versions}. */
  readonly latest: FunctionVersion;
}

/** What a qualifier names: `$LATEST`, one version, or the alias. */
export type Target =
  | { readonly kind: 'latest'; readonly version: FunctionVersion }
  | { readonly kind: 'version'; readonly version: FunctionVersion }
  | { readonly kind: 'alias' };

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`, with switchyard's made-up region and account. */
export function functionArn(name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}

/** Lambda's 404 for a function, version or alias that does not exist, naming what was asked for. */
export function functionNotFound(name: string, qualifier?: string): LambdaRefusal {
  return new LambdaRefusal('ResourceNotFoundException', `Function not found: ${functionArn(name, qualifier)}`);
}

const NAME = /^[A-Za-z0-9._-]{1,140}$/;
// Lambda's qualifiers, and the dots and colons a version label may also have.
const QUALIFIER = /^[A-Za-z0-9$._:-]{1,128}$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z0-9-]{1,32}$/;
/** Lambda's own bound on a FunctionName as sent (an ARN with its qualifier). */
const MAX_FUNCTION_NAME = 256;

/** Lambda's refusal of a malformed FunctionName. */
function badName(raw: string): LambdaRefusal {
  const shown = raw.length > 100 ? `${raw.slice(0, 100)}…` : raw;
  return new LambdaRefusal(
    'InvalidParameterValueException',
    `1 validation error detected: Value '${shown}' at 'functionName' failed to satisfy constraint: Member must be a function name, a name with a qualifier (name:qualifier), or a function ARN, at most ${MAX_FUNCTION_NAME} characters`,
  );
}

/** Reads a FunctionName as Lambda does: `name`, `name:q`, `account:function:name[:q]`, `arn:…:function:name[:q]`. */
export function parseFunctionName(raw: string): { readonly name: string; readonly qualifier: string | undefined } {
  if (raw.length === 0 || raw.length > MAX_FUNCTION_NAME) throw badName(raw);
  const parts = raw.split(':');
  const at = parts.indexOf('function');
  let rest: string[];
  if (at < 0) rest = parts;
  else {
    // What comes before `function:` must be an ARN's head, or a partial ARN's optional region and account.
    const head = parts.slice(0, at);
    const arnHead =
      head.length === 5 &&
      head[0] === 'arn' &&
      /^aws[a-zA-Z-]*$/.test(head[1]!) &&
      head[2] === 'lambda' &&
      REGION.test(head[3]!) &&
      ACCOUNT.test(head[4]!);
    const partial =
      (head.length === 1 && ACCOUNT.test(head[0]!)) ||
      (head.length === 2 && REGION.test(head[0]!) && ACCOUNT.test(head[1]!));
    if (!arnHead && !partial) throw badName(raw);
    rest = parts.slice(at + 1);
  }
  // A label with a colon in it can be named by the Qualifier parameter only.
  const [name, qualifier, ...extra] = rest;
  if (name === undefined || !NAME.test(name) || extra.length > 0) throw badName(raw);
  if (qualifier !== undefined && !QUALIFIER.test(qualifier)) throw badName(raw);
  return { name, qualifier };
}

/** The qualifier to use: the name's own, or the `Qualifier` parameter; both only when they agree. */
export function qualifierOf(fromName: string | undefined, fromQuery: string | undefined): string | undefined {
  if (fromQuery !== undefined && !QUALIFIER.test(fromQuery)) {
    const shown = fromQuery.length > 100 ? `${fromQuery.slice(0, 100)}…` : fromQuery;
    throw new LambdaRefusal(
      'InvalidParameterValueException',
      `1 validation error detected: Value '${shown}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$._:-]+)`,
    );
  }
  if (fromName !== undefined && fromQuery !== undefined && fromName !== fromQuery) {
    throw new LambdaRefusal(
      'InvalidParameterValueException',
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  return fromName ?? fromQuery;
}

/** The config's functions, by name. */
export class FunctionCatalog {
  readonly #functions = new Map<string, LambdaFunction>();

  /** Reads the functions of `services` (a service without a `lambda` version is no function). */
  constructor(services: readonly ServiceConfig[]) {
    for (const service of services) {
      const versions: FunctionVersion[] = [];
      for (const [label, version] of Object.entries(service.versions)) {
        if (version.kind === 'lambda') versions.push({ label, spec: version.lambda });
      }
      const latest = versions.at(-1);
      if (latest === undefined) continue;
      this.#functions.set(service.name, {
        name: service.name,
        alias: service.alias ?? DEFAULT_ALIAS,
        versions,
        latest,
      });
    }
  }

  /** Every function, in config order. */
  list(): readonly LambdaFunction[] {
    return [...this.#functions.values()];
  }

  /** The function `name`, or undefined. */
  find(name: string): LambdaFunction | undefined {
    return this.#functions.get(name);
  }

  /** The function `name`, or Lambda's 404 naming what was asked for. */
  get(name: string, qualifier?: string): LambdaFunction {
    const fn = this.#functions.get(name);
    if (fn === undefined) throw functionNotFound(name, qualifier);
    return fn;
  }

  /** What `qualifier` names on `fn` (none: `$LATEST`), or Lambda's 404. */
  target(fn: LambdaFunction, qualifier: string | undefined): Target {
    if (qualifier === undefined || qualifier === LATEST) return { kind: 'latest', version: fn.latest };
    if (qualifier === fn.alias) return { kind: 'alias' };
    const version = fn.versions.find((v) => v.label === qualifier);
    if (version === undefined) throw functionNotFound(fn.name, qualifier);
    return { kind: 'version', version };
  }

  /** The function version `label` of `fn`, or undefined (a label of an HTTP version, or none). */
  version(fn: LambdaFunction, label: string): FunctionVersion | undefined {
    return fn.versions.find((v) => v.label === label);
  }
}
