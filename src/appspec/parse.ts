/**
 * @module appspec/parse
 * Reads an ECS or Lambda AppSpec (YAML or JSON) into an `AppSpec`, offline and without side effects.
 * Every problem is reported at once, each with file, line, column and schema path; environment
 * variables are not substituted, as CodeDeploy does not substitute them either.
 */
import { type FileIssue, SwitchyardError } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { readYaml } from '../core/yaml-source.js';
import { appSpecIssues } from './issues.js';
import { isMap } from './keys.js';
import { type AppSpec, documentError, documentSchema, platformOf } from './schema.js';

export type { AppSpec, EcsAppSpec, LambdaAppSpec } from './schema.js';

export const EC2_UNSUPPORTED =
  'EC2/On-Premises AppSpec files are not supported: switchyard shifts traffic for ECS and Lambda deployments';

const EC2_KEYS = ['os', 'files', 'permissions', 'file_exists_behavior'];

/** Validates AppSpec text; throws APPSPEC_INVALID listing every problem. */
export function parseAppSpec(text: string, file: string): AppSpec {
  const source = readYaml(text, file);
  if (source.issues.length) throw invalid(file, source.issues);
  // One clear message rather than a dozen unknown keys for a file meant for another platform.
  const ec2 = ec2Key(source.value);
  if (ec2 !== undefined) {
    throw invalid(file, [{ location: source.locateKey([], ec2), path: '', message: EC2_UNSUPPORTED }]);
  }
  const result = documentSchema(platformOf(source.value)).safeParse(source.value, { error: documentError });
  if (!result.success) throw invalid(file, appSpecIssues(result.error, source));
  return deepFreeze(result.data);
}

/** The top-level key that shows `doc` to be an EC2/On-Premises AppSpec, if one does. */
function ec2Key(doc: unknown): string | undefined {
  if (!isMap(doc)) return undefined;
  return Object.keys(doc).find((key) => {
    const lower = key.toLowerCase();
    if (EC2_KEYS.includes(lower)) return true;
    // EC2 hooks are a map of event to a list of scripts `{ location, timeout, runas }`.
    const hooks = doc[key];
    return (
      lower === 'hooks' &&
      isMap(hooks) &&
      Object.values(hooks).some(
        (scripts) => Array.isArray(scripts) && scripts.some((script) => isMap(script) && 'location' in script),
      )
    );
  });
}

function invalid(file: string, issues: readonly FileIssue[]): SwitchyardError {
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return new SwitchyardError('APPSPEC_INVALID', `${file}: ${issues.length} ${noun}`, { issues });
}
