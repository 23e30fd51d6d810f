/**
 * @module api/lambda/operations
 * Lambda's read operations on functions (GetFunction, GetFunctionConfiguration, ListVersionsByFunction,
 * ListFunctions) and its alias operations (GetAlias, ListAliases, UpdateAlias), over the catalog and the
 * services' traffic. Invoke has its own module.
 */
import { SwitchyardError } from '../../core/errors.js';
import { aliasChange, type AliasConfiguration, aliasOf } from './alias.js';
import { functionArn, type LambdaFunction, LATEST } from './catalog.js';
import type { LambdaContext } from './context.js';
import { LambdaRefusal } from './errors.js';
import { codeOf, configurationOf, type FunctionConfiguration, type GetFunctionAnswer, page } from './shapes.js';

/** A call's function and qualifier, and its query parameters. */
export interface Call {
  readonly name: string;
  readonly qualifier: string | undefined;
  readonly query: Readonly<Record<string, string>>;
}

/** The configuration a qualifier names: `$LATEST` (or none), a version, or the alias's primary version. */
function configurationFor(
  ctx: LambdaContext,
  fn: LambdaFunction,
  qualifier: string | undefined,
): FunctionConfiguration {
  const target = ctx.catalog.target(fn, qualifier);
  if (target.kind === 'latest') return configurationOf(fn, target.version, LATEST, qualifier);
  if (target.kind === 'version') return configurationOf(fn, target.version, target.version.label, qualifier);
  const live = ctx.traffic.service(fn.name).live;
  const version = ctx.catalog.version(fn, live);
  // The alias's primary version is served over HTTP: no function configuration to show.
  if (version === undefined)
    throw new LambdaRefusal('ResourceNotFoundException', `Function not found: ${functionArn(fn.name, live)}`);
  return configurationOf(fn, version, live, qualifier);
}

/** GetFunction. */
export function getFunction(ctx: LambdaContext, call: Call): GetFunctionAnswer {
  const fn = ctx.catalog.get(call.name, call.qualifier);
  const configuration = configurationFor(ctx, fn, call.qualifier);
  const version = ctx.catalog.version(fn, configuration.Version === LATEST ? fn.latest.label : configuration.Version);
  return { Configuration: configuration, Code: codeOf(version ?? fn.latest) };
}

/** GetFunctionConfiguration. */
export function getFunctionConfiguration(ctx: LambdaContext, call: Call): FunctionConfiguration {
  return configurationFor(ctx, ctx.catalog.get(call.name, call.qualifier), call.qualifier);
}

/** ListVersionsByFunction: `$LATEST`, then each function version in config order. */
export function listVersions(ctx: LambdaContext, call: Call): object {
  const fn = ctx.catalog.get(call.name);
  const all = [
    configurationOf(fn, fn.latest, LATEST, LATEST),
    ...fn.versions.map((v) => configurationOf(fn, v, v.label, v.label)),
  ];
  const { items, nextMarker } = page(all, call.query['Marker'], call.query['MaxItems']);
  return { Versions: items, ...(nextMarker !== undefined && { NextMarker: nextMarker }) };
}

/** ListFunctions: each function's `$LATEST`, or with `FunctionVersion=ALL` every version too. */
export function listFunctions(ctx: LambdaContext, query: Readonly<Record<string, string>>): object {
  const every = query['FunctionVersion'];
  if (every !== undefined && every !== 'ALL') {
    throw new LambdaRefusal(
      'InvalidParameterValueException',
      `1 validation error detected: Value '${every.slice(0, 20)}' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]`,
    );
  }
  const all = ctx.catalog
    .list()
    .flatMap((fn) => [
      configurationOf(fn, fn.latest, LATEST, undefined),
      ...(every === 'ALL' ? fn.versions.map((v) => configurationOf(fn, v, v.label, v.label)) : []),
    ]);
  const { items, nextMarker } = page(all, query['Marker'], query['MaxItems']);
  return { Functions: items, ...(nextMarker !== undefined && { NextMarker: nextMarker }) };
}

/** The alias `aliasName` of the call's function, as it is now, or Lambda's 404. */
function aliasNamed(ctx: LambdaContext, fn: LambdaFunction, aliasName: string): AliasConfiguration {
  if (aliasName !== fn.alias) {
    throw new LambdaRefusal('ResourceNotFoundException', `Alias not found: ${functionArn(fn.name, aliasName)}`);
  }
  return aliasOf(fn, ctx.traffic.service(fn.name), ctx.descriptions.get(fn.name));
}

/** GetAlias. */
export function getAlias(ctx: LambdaContext, call: Call, aliasName: string): AliasConfiguration {
  return aliasNamed(ctx, ctx.catalog.get(call.name), aliasName);
}

/** ListAliases: the function's one alias (none when `FunctionVersion` names another primary version). */
export function listAliases(ctx: LambdaContext, call: Call): object {
  const fn = ctx.catalog.get(call.name);
  const alias = aliasNamed(ctx, fn, fn.alias);
  const wanted = call.query['FunctionVersion'];
  const all = wanted === undefined || wanted === alias.FunctionVersion ? [alias] : [];
  const { items, nextMarker } = page(all, call.query['Marker'], call.query['MaxItems']);
  return { Aliases: items, ...(nextMarker !== undefined && { NextMarker: nextMarker }) };
}

/**
 * UpdateAlias: moves the service's production split, in one step (a new primary version also takes the
 * test listener, as making a version live does). Refused while a deployment shifts the service: its next
 * step would overwrite the change, or the change undo it.
 */
export function updateAlias(ctx: LambdaContext, call: Call, aliasName: string, body: unknown): AliasConfiguration {
  const fn = ctx.catalog.get(call.name);
  const current = aliasNamed(ctx, fn, aliasName);
  const active = ctx.deployments?.activeOn(fn.name);
  if (active) {
    throw new SwitchyardError(
      'DEPLOYMENT_ACTIVE',
      `The operation cannot be performed at this time. Deployment ${active.id} is shifting ${fn.name}'s traffic (its alias ${fn.alias}); stop it, or let it finish, before updating the alias.`,
    );
  }
  const change = aliasChange(fn, body, current);
  const view = ctx.traffic.service(fn.name);
  const basisPoints = (weights: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(weights).map(([label, percent]) => [label, Math.round(percent * 100)]));
  const test = change.live === view.live ? basisPoints(view.weights.test) : { [change.live]: 10_000 };
  ctx.traffic.restore(fn.name, { live: change.live, weights: { production: change.production, test } });
  const description = (body as { Description?: unknown } | undefined)?.Description;
  if (typeof description === 'string') ctx.descriptions.set(fn.name, description);
  const updated = aliasOf(fn, ctx.traffic.service(fn.name), ctx.descriptions.get(fn.name));
  ctx.log.info(
    { service: fn.name, alias: fn.alias, weights: ctx.traffic.service(fn.name).weights.production },
    'alias updated',
  );
  return updated;
}
