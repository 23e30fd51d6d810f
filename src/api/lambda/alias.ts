/**
 * @module api/lambda/alias
 * A function's alias IS its service's production split: `FunctionVersion` is the live version and
 * `RoutingConfig.AdditionalVersionWeights` the other versions with production weight, as fractions. So a
 * CodeDeploy deployment that shifts the service moves the alias as AWS shows it, and UpdateAlias moves
 * the service's traffic. Alias-qualified invocations pick by the same smooth weighted round robin as the
 * proxy: exactly the share, not at random.
 */
import { createHash } from 'node:crypto';

import { z } from 'zod';

import { SmoothWeightedPicker } from '../../core/smooth-split.js';
import type { ServiceView } from '../../shifting/ports.js';
import { parseBody } from '../errors.js';
import { functionArn, functionNotFound, type LambdaFunction, LATEST } from './catalog.js';
import { LambdaRefusal } from './errors.js';

/** Lambda's AliasConfiguration. */
export interface AliasConfiguration {
  readonly AliasArn: string;
  readonly Name: string;
  readonly FunctionVersion: string;
  readonly Description: string;
  readonly RoutingConfig?: { readonly AdditionalVersionWeights: Readonly<Record<string, number>> };
  readonly RevisionId: string;
}

/** The production weights in basis points, by label, of the versions that have any. */
function basisPoints(view: ServiceView): [string, number][] {
  return Object.entries(view.weights.production)
    .map(([label, percent]): [string, number] => [label, Math.round(percent * 100)])
    .filter(([, bp]) => bp > 0);
}

/**
 * A revision id (UUID-shaped) that is a digest of the split: every change of the alias gives a new one,
 * whoever made it (UpdateAlias, a deployment's step, `PUT /v1/services/…/weight`), with nothing to keep.
 */
function revisionOf(view: ServiceView): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([view.live, basisPoints(view).sort(([a], [b]) => (a < b ? -1 : 1))]))
    .digest('hex');
  return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
}

/** The alias of `fn` as the split `view` is now; `description` as last set through UpdateAlias. */
export function aliasOf(fn: LambdaFunction, view: ServiceView, description = ''): AliasConfiguration {
  const additional: Record<string, number> = {};
  for (const [label, bp] of basisPoints(view)) if (label !== view.live) additional[label] = bp / 10_000;
  return {
    AliasArn: functionArn(fn.name, fn.alias),
    Name: fn.alias,
    FunctionVersion: view.live,
    Description: description,
    ...(Object.keys(additional).length > 0 && { RoutingConfig: { AdditionalVersionWeights: additional } }),
    RevisionId: revisionOf(view),
  };
}

/** Picks the version each alias-qualified invocation runs, per function, by the alias's weights now. */
export class AliasPicker {
  readonly #pickers = new Map<string, { key: string; labels: string[]; picker: SmoothWeightedPicker }>();

  /** The version the next invocation of `fn`'s alias runs, the split being `view`. */
  pick(fn: LambdaFunction, view: ServiceView): string {
    const weights = basisPoints(view);
    const key = JSON.stringify(weights);
    let entry = this.#pickers.get(fn.name);
    if (entry?.key !== key) {
      // Rebuilt when the weights change (a deployment's step): the new share holds from here on.
      entry = { key, labels: weights.map(([l]) => l), picker: new SmoothWeightedPicker(weights.map(([, w]) => w)) };
      this.#pickers.set(fn.name, entry);
    }
    return entry.labels[entry.picker.pick()] ?? view.live;
  }
}

/** UpdateAlias's body (members the API does not model are ignored, as AWS ignores them). */
export const UpdateAliasBody = z.object({
  FunctionVersion: z.string().min(1).max(1024).optional(),
  Description: z.string().max(256).optional(),
  RoutingConfig: z
    .object({ AdditionalVersionWeights: z.record(z.string().min(1).max(1024), z.number()).optional() })
    .optional(),
  RevisionId: z.string().max(1024).optional(),
});
export type UpdateAliasBody = z.infer<typeof UpdateAliasBody>;

/** The split an UpdateAlias asks for: the primary version and the others' weights in basis points. */
export interface AliasChange {
  readonly live: string;
  /** Production weights in basis points (summing to 10000), by label. */
  readonly production: Readonly<Record<string, number>>;
}

const invalid = (message: string) => new LambdaRefusal('InvalidParameterValueException', message);

/** The additional weights the alias keeps: the caller's (checked by Lambda's rules), or the current ones. */
function additionalWeights(
  fn: LambdaFunction,
  body: UpdateAliasBody,
  current: AliasConfiguration,
  live: string,
): Record<string, number> {
  const given = body.RoutingConfig?.AdditionalVersionWeights;
  if (given === undefined) {
    // No RoutingConfig: the routing stays as it is, as on Lambda.
    const kept = { ...current.RoutingConfig?.AdditionalVersionWeights };
    if (live in kept)
      throw invalid(
        `Invalid function version ${live}: it already receives traffic from the alias's routing configuration; give a RoutingConfig with the update.`,
      );
    return kept;
  }
  const entries = Object.entries(given);
  if (entries.length > 1) {
    throw invalid(
      `1 validation error detected: Value at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map must have at most 1 entry (an alias routes to at most two versions), got ${entries.length}`,
    );
  }
  for (const [label, weight] of entries) {
    if (!Number.isFinite(weight) || weight < 0 || weight > 1) {
      throw invalid(
        `1 validation error detected: Value '${weight}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Member must have value between 0.0 and 1.0`,
      );
    }
    if (label === LATEST) throw invalid('$LATEST is not supported for an alias pointing to more than 1 version');
    if (fn.versions.every((v) => v.label !== label)) throw functionNotFound(fn.name, label);
    if (label === live) {
      throw invalid(
        `Invalid function version ${label}. Function version ${label} is already included in routing configuration.`,
      );
    }
  }
  return given;
}

/**
 * Reads an UpdateAlias body against the alias as it is now, by Lambda's rules: the primary version and the
 * additional one are function versions of `fn` (a 404 naming them otherwise), at most one additional
 * version, its weight within [0, 1], not the primary itself; a RevisionId that is not the current one is a
 * 412. Weights are kept to a basis point (0.0001), the split's own precision.
 */
export function aliasChange(fn: LambdaFunction, raw: unknown, current: AliasConfiguration): AliasChange {
  const body = parseBody(UpdateAliasBody, raw);
  const live = body.FunctionVersion ?? current.FunctionVersion;
  if (live === LATEST) {
    throw invalid(
      `The alias of ${fn.name} is its service's production split, which names versions: give a version (the newest is ${fn.latest.label}), not $LATEST.`,
    );
  }
  if (body.FunctionVersion !== undefined && fn.versions.every((v) => v.label !== live)) {
    throw functionNotFound(fn.name, live);
  }
  const additional = additionalWeights(fn, body, current, live);
  if (body.RevisionId !== undefined && body.RevisionId !== current.RevisionId) {
    throw new LambdaRefusal(
      'PreconditionFailedException',
      'The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id',
    );
  }
  const production: Record<string, number> = {};
  let rest = 10_000;
  for (const [label, weight] of Object.entries(additional)) {
    const bp = Math.round(weight * 10_000);
    if (bp > 0) production[label] = bp;
    rest -= bp;
  }
  if (rest < 0) throw invalid('The weights of the additional versions add up to more than 1.0');
  production[live] = rest;
  return { live, production };
}
