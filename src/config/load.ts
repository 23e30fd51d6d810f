/**
 * @module config/load
 * Reads, substitutes, validates and freezes a config file. Every problem is reported at once, each with
 * file, line, column and schema path; nothing starts from a file with a problem.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import type { z } from 'zod';

import { describeError } from '../core/describe-error.js';
import { type FileIssue, SwitchyardError } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { formatPath, readYaml, type YamlSource } from '../core/yaml-source.js';
import { type Config, ConfigSchema } from './schema.js';

/** A problem a check after the schema found, at its path in the file. */
export interface ConfigProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * A check of a parsed config that the schema cannot make by itself (it needs a layer above config, such
 * as the CodeDeploy registry); it runs once the schema has passed.
 */
export type ConfigCheck = (config: Config) => readonly ConfigProblem[];

/** Validates config text, then runs `checks`; throws CONFIG_INVALID listing every problem. */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  checks: readonly ConfigCheck[] = [],
): Config {
  const source = readYaml(text, file, env);
  if (source.issues.length) throw invalid(file, source.issues);
  const result = ConfigSchema.safeParse(source.value);
  if (!result.success) throw invalid(file, zodIssues(result.error, source));
  const problems = checks.flatMap((check) => check(result.data));
  if (problems.length) throw invalid(file, sortByPlace(problems.map((p) => locateProblem(p, source))));
  return deepFreeze(withWorkingDirs(result.data, dirname(resolve(file))));
}

function locateProblem(problem: ConfigProblem, source: YamlSource): FileIssue {
  return { location: source.locate(problem.path), path: formatPath(problem.path), message: problem.message };
}

function sortByPlace(issues: FileIssue[]): FileIssue[] {
  return issues.sort(
    (a, b) =>
      (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0),
  );
}

/**
 * Commands (versions and hooks) run in the config file's folder, or in their `cwd` taken relative to it,
 * and a relative store file lies there too, so a config means the same whichever folder switchyard is
 * started from.
 */
function withWorkingDirs(config: Config, baseDir: string): Config {
  const cwdOf = (cwd: string | undefined) => resolve(baseDir, cwd ?? '.');
  return {
    ...config,
    store:
      config.store !== 'memory' && 'sqlite' in config.store
        ? { sqlite: resolve(baseDir, config.store.sqlite) }
        : config.store,
    services: config.services.map((service) => ({
      ...service,
      versions: Object.fromEntries(
        Object.entries(service.versions).map(([label, v]) => [
          label,
          v.kind === 'command'
            ? { ...v, cwd: cwdOf(v.cwd) }
            : v.kind === 'lambda'
              ? {
                  ...v,
                  lambda: {
                    ...v.lambda,
                    root: resolve(baseDir, v.lambda.root),
                    ...(v.lambda.bootstrap !== undefined && { bootstrap: resolve(baseDir, v.lambda.bootstrap) }),
                  },
                }
              : v,
        ]),
      ),
    })),
    hooks: Object.fromEntries(
      Object.entries(config.hooks).map(([name, hook]) => [
        name,
        hook.kind === 'command' ? { ...hook, cwd: cwdOf(hook.cwd) } : hook,
      ]),
    ),
  };
}

/** Reads and validates a config file, running `checks` after the schema. */
export async function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  checks: readonly ConfigCheck[] = [],
): Promise<Config> {
  return parseConfig(await readConfigText(file), file, env, checks);
}

/** A config file's text; CONFIG_NOT_FOUND with the reason when it cannot be read. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new SwitchyardError('CONFIG_NOT_FOUND', `cannot read config file ${file}: ${describeError(cause)}`, {
      cause,
    });
  }
}

/** Maps zod issues to file issues, pointing each at the node (or unknown key) it is about. */
export function zodIssues(error: z.ZodError, source: YamlSource): FileIssue[] {
  const out: FileIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          location: source.locateKey(path, key),
          path: formatPath([...path, key]),
          message: 'unknown key',
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key' && path.length > 0) {
      // A bad record key (a version label): point at the key and say what is wrong with it.
      const key = String(path[path.length - 1]);
      out.push({
        location: source.locateKey(path.slice(0, -1), key),
        path: formatPath(path),
        message: issue.issues[0] ? issueMessage(issue.issues[0]) : issue.message,
      });
      continue;
    }
    out.push({ location: source.locate(path), path: formatPath(path), message: issueMessage(issue) });
  }
  return sortByPlace(out);
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return 'is required';
  return issue.message;
}

function invalid(file: string, issues: readonly FileIssue[]): SwitchyardError {
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return new SwitchyardError('CONFIG_INVALID', `${file}: ${issues.length} ${noun}`, { issues });
}
