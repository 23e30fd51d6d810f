/**
 * @module functions/node-runtime/handler-name
 * Splits a Node handler string the way Lambda's Node runtime does: a directory part, then the basename at
 * its first dot into a module name and a (possibly dotted) export path.
 */
import { RuntimeError } from './errors.js';

/** A parsed handler string: `src/fns/app.api.get` → dir `src/fns/`, module `app`, path `['api', 'get']`. */
export interface HandlerName {
  readonly dir: string;
  readonly module: string;
  readonly exportPath: readonly string[];
}

/** Parses `handler`; throws `Runtime.MalformedHandlerName` as the Node runtime does. */
export function parseHandlerName(handler: string): HandlerName {
  if (handler.includes('..')) {
    throw new RuntimeError(
      'Runtime.MalformedHandlerName',
      "'../' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
    );
  }
  const slash = handler.lastIndexOf('/');
  const dir = handler.slice(0, slash + 1);
  const base = handler.slice(slash + 1);
  const match = /^([^.]*)\.(.*)$/.exec(base);
  if (!match || !match[1] || !match[2]) throw new RuntimeError('Runtime.MalformedHandlerName', 'Bad handler');
  return { dir, module: match[1], exportPath: match[2].split('.') };
}
