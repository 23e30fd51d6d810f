/**
 * @module api/lambda/shapes
 * What GetFunction, GetFunctionConfiguration, ListVersionsByFunction and ListFunctions answer: Lambda's
 * FunctionConfiguration for one function version as the config declares it, and the paging these lists
 * share (an opaque Marker, MaxItems).
 */
import { pathToFileURL } from 'node:url';

import { functionArn, type FunctionVersion, type LambdaFunction } from './catalog.js';
import { LambdaRefusal } from './errors.js';

/** Lambda's FunctionConfiguration, the members switchyard has something true to say for. */
export interface FunctionConfiguration {
  readonly FunctionName: string;
  readonly FunctionArn: string;
  readonly Runtime: string;
  readonly Handler: string;
  readonly Description: string;
  readonly Timeout: number;
  readonly MemorySize: number;
  readonly Version: string;
  readonly Environment: { readonly Variables: Readonly<Record<string, string>> };
  readonly State: 'Active';
  readonly LastUpdateStatus: 'Successful';
  readonly PackageType: 'Zip';
  readonly Architectures: readonly string[];
}

/** GetFunction's answer. */
export interface GetFunctionAnswer {
  readonly Configuration: FunctionConfiguration;
  readonly Code: { readonly RepositoryType: string; readonly Location: string };
}

/** Lambda's runtime identifier for how switchyard runs the version. */
function runtimeOf(version: FunctionVersion): string {
  // A handler runs on switchyard's Node bootstrap (Node 20, like nodejs20.x); a bootstrap is a custom runtime.
  return version.spec.runtime === 'nodejs' ? 'nodejs20.x' : 'provided.al2023';
}

/**
 * The configuration of `version` of `fn`, as `Version` (`$LATEST` or the label); `arnQualifier` is how
 * the caller named it (none for an unqualified call: the unqualified ARN, as Lambda answers).
 */
export function configurationOf(
  fn: LambdaFunction,
  version: FunctionVersion,
  shownVersion: string,
  arnQualifier: string | undefined,
): FunctionConfiguration {
  const { spec } = version;
  return {
    FunctionName: fn.name,
    FunctionArn: functionArn(fn.name, arnQualifier),
    Runtime: runtimeOf(version),
    Handler: spec.handler,
    Description: '',
    // Lambda counts whole seconds; the config takes at least 1 s.
    Timeout: Math.ceil(spec.timeoutMs / 1000),
    MemorySize: spec.memorySizeMb,
    Version: shownVersion,
    Environment: { Variables: spec.env },
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
  };
}

/** Where the code is: the version's folder on this machine, as a file URL (Lambda gives a download link). */
export function codeOf(version: FunctionVersion): GetFunctionAnswer['Code'] {
  return { RepositoryType: 'Local', Location: pathToFileURL(version.spec.root).href };
}

/** The most items a page holds, and how many when MaxItems is not given (Lambda's page size for these lists). */
export const MAX_ITEMS = 10_000;
export const DEFAULT_PAGE = 50;

/** One page of `items` from `marker` (opaque: base64url of the index), with the NextMarker when more follow. */
export function page<T>(
  items: readonly T[],
  marker: string | undefined,
  maxItems: string | undefined,
): { readonly items: readonly T[]; readonly nextMarker: string | undefined } {
  let size = DEFAULT_PAGE;
  if (maxItems !== undefined) {
    size = /^\d{1,6}$/.test(maxItems) ? Number(maxItems) : Number.NaN;
    if (!(size >= 1 && size <= MAX_ITEMS)) {
      throw new LambdaRefusal(
        'InvalidParameterValueException',
        `1 validation error detected: Value '${maxItems.slice(0, 20)}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and ${MAX_ITEMS}`,
      );
    }
  }
  let start = 0;
  if (marker !== undefined) {
    const text = Buffer.from(marker, 'base64url').toString('utf8');
    start = /^\d{1,9}$/.test(text) && Buffer.from(text).toString('base64url') === marker ? Number(text) : -1;
    if (start < 0 || start > items.length) throw new LambdaRefusal('InvalidParameterValueException', 'Invalid Marker');
  }
  const end = Math.min(items.length, start + size);
  return {
    items: items.slice(start, end),
    nextMarker: end < items.length ? Buffer.from(String(end)).toString('base64url') : undefined,
  };
}
