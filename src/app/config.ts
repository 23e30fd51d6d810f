/**
 * @module app/config
 * The config file as `serve` and `validate` read it: the schema (config/load), then the checks that
 * need layers above config, so a declared group the CodeDeploy API would refuse is reported at its line
 * before anything starts.
 */
import { type ConfigCheck, loadConfig as loadWith, parseConfig as parseWith } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { declarationProblems } from '../shifting/declarations.js';

/** The checks run after the schema: declared applications, groups and configurations. */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [declarationProblems];

/** Validates config text and its declarations; throws CONFIG_INVALID listing every problem. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  return parseWith(text, file, env, CONFIG_CHECKS);
}

/** Reads a config file and validates it and its declarations. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  return loadWith(file, env, CONFIG_CHECKS);
}
