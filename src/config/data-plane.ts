/**
 * @module config/data-plane
 * The config file of a remote data plane (`serve --data-plane`): only what is its own, its listeners
 * (with their limits) and how it finds its control planes. Services, versions and weights come from the
 * control plane's route tables.
 */
import { z } from 'zod';

import { Duration } from '../core/duration.js';
import { SwitchyardError } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { LOG_LEVELS } from '../core/logger.js';
import { isHttpUrl } from '../core/url.js';
import { readYaml } from '../core/yaml-source.js';
import { readConfigText, zodIssues } from './load.js';
import { ConfigSchema } from './schema.js';

/** A control plane's base URL, as the remote commands take `--endpoint`. */
const ControlUrl = z.string().refine(isHttpUrl, { message: 'must be an http(s) URL, e.g. http://10.0.0.5:9900' });

/** A remote data plane's config file. */
export const DataPlaneConfigSchema = z.strictObject({
  /** Its own listeners, as a control plane's config names them (limits and forwarded headers included). */
  listeners: ConfigSchema.shape.listeners,
  /** Control planes' base URLs, tried in turn; `--control` on the command line replaces them. */
  controlPlanes: z.array(ControlUrl).min(1, 'must name at least one control plane').optional(),
  /** Its name among its control plane's data planes (unique); `--name` replaces it; host:pid when absent. */
  name: z.string().min(1).max(128).optional(),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** How long in-flight requests may take to finish after SIGTERM before connections are cut. */
  drainTimeout: Duration.default(10_000),
});

/** A validated data plane config. */
export type DataPlaneConfig = z.infer<typeof DataPlaneConfigSchema>;

/** Validates data plane config text; throws CONFIG_INVALID listing every problem. */
export function parseDataPlaneConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): DataPlaneConfig {
  const source = readYaml(text, file, env);
  const issues = source.issues.length ? source.issues : [];
  const result = issues.length ? undefined : DataPlaneConfigSchema.safeParse(source.value);
  const all = result && !result.success ? zodIssues(result.error, source) : issues;
  if (all.length || !result?.success) {
    const noun = all.length === 1 ? 'problem' : 'problems';
    throw new SwitchyardError('CONFIG_INVALID', `${file}: ${all.length} ${noun} (a data plane config)`, {
      issues: all,
    });
  }
  return deepFreeze(result.data);
}

/** Reads and validates a data plane config file. */
export async function loadDataPlaneConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DataPlaneConfig> {
  return parseDataPlaneConfig(await readConfigText(file), file, env);
}
