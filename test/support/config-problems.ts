/** What parseConfig refuses in a config text, as the CLI prints it, for tests of config checks. */
import { parseConfig } from '../../src/app/config.js';
import { formatIssue, isSwitchyardError } from '../../src/core/errors.js';

/** Every problem parseConfig finds in `text` (read as x.yml), each at FILE:LINE:COL; throws if it accepts it. */
export function configProblems(text: string): string[] {
  try {
    parseConfig(text, 'x.yml', {});
  } catch (err) {
    if (isSwitchyardError(err)) return err.issues.map(formatIssue);
    throw err;
  }
  throw new Error('expected the config to be rejected');
}
