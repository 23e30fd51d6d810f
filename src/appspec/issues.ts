/**
 * @module appspec/issues
 * Turns zod's issues about an AppSpec into file issues. The schemas saw canonical key names; the file
 * may spell them differently, so each path is translated back before it is located, and reported in the
 * canonical names. A missing value is reported at the key of the map that lacks it.
 */
import type { z } from 'zod';

import type { FileIssue, SourceLocation } from '../core/errors.js';
import { formatPath, type YamlSource } from '../core/yaml-source.js';
import { caseTwin, filePath } from './keys.js';
import { AT_KEY } from './schema.js';

/** Maps zod issues to file issues, in file order. */
export function appSpecIssues(error: z.ZodError, source: YamlSource): FileIssue[] {
  const out: FileIssue[] = [];
  for (const issue of error.issues) {
    const inFile = filePath(source.value, issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const twin = caseTwin(inFile.node, key);
        out.push({
          location: source.locateKey(inFile.path, key),
          path: formatPath([...issue.path, key]),
          message: twin ? `repeats ${twin} (keys are matched regardless of case)` : 'unknown key',
        });
      }
      continue;
    }
    const aboutKey = issue.code === 'custom' && issue.params?.at === AT_KEY.at;
    out.push({
      location: locate(source, inFile.path, !inFile.exists || aboutKey),
      path: formatPath(issue.path),
      message: issue.message,
    });
  }
  return out.sort(
    (a, b) =>
      (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0),
  );
}

/** Where `path` stands: at its key when asked and it has one, else at its value. */
function locate(source: YamlSource, path: (string | number)[], atKey: boolean): SourceLocation | undefined {
  const last = path[path.length - 1];
  if (atKey && typeof last === 'string') return source.locateKey(path.slice(0, -1), last);
  return source.locate(path);
}
