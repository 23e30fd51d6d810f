/**
 * @module core/yaml-source
 * YAML with positions: parses a file so that schema problems found later can be reported at the line and
 * column where they stand, and substitutes `${VAR}` / `${VAR:-default}` in values without moving them.
 * Shared by the config loader and (later) the AppSpec parser.
 */
import {
  type CST,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  Parser,
  type Scalar,
  visit,
} from 'yaml';

import { describeError } from './describe-error.js';
import type { FileIssue, SourceLocation } from './errors.js';

/** A parsed YAML (or JSON) document that can say where a schema path stands in its file. */
export interface YamlSource {
  readonly file: string;
  readonly value: unknown;
  /** Problems found while reading: syntax errors and unset environment variables. */
  readonly issues: readonly FileIssue[];
  /** The location of the node at `path`, or of its nearest existing ancestor. */
  locate(path: readonly PropertyKey[]): SourceLocation | undefined;
  /** The location of the key `key` inside the map at `path`. */
  locateKey(path: readonly PropertyKey[], key: string): SourceLocation | undefined;
}

const WHOLE_VAR = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;
const VAR_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
/** What ends a line; a default value never runs past one. */
const LINE_END = /[\n\r\u2028\u2029]/g;

/** The deepest nesting of maps and lists a document may have (the document itself is level 0). */
export const MAX_YAML_DEPTH = 64;

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * The offset of the first map or list in `text` nested deeper than `limit`, or undefined. Read from the
 * parser's syntax tree, which is built and walked here without recursion: composing a document recurses
 * once per level, and a few thousand levels (`[[[[…`) overflow the stack, at a depth where V8 may abort
 * the whole process rather than throw (when it compiles a regex there).
 */
export function nestedTooDeepAt(text: string, limit: number = MAX_YAML_DEPTH): number | undefined {
  for (const token of new Parser().parse(text)) {
    const stack: [CST.Token | null | undefined, number][] = [[token, 0]];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const [node, outer] = next;
      if (node === undefined || node === null) continue;
      const depth = COLLECTIONS.has(node.type) ? outer + 1 : outer;
      if (depth > limit) return node.offset;
      if (node.type === 'document') stack.push([node.value, depth]);
      else if (node.type === 'block-map' || node.type === 'block-seq' || node.type === 'flow-collection') {
        for (const item of node.items) stack.push(['key' in item ? item.key : undefined, depth], [item.value, depth]);
      }
    }
  }
  return undefined;
}

/** Line and column (1-based) of `offset` in `text`. */
function positionOf(text: string, file: string, offset: number): SourceLocation {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { file, line: before.split('\n').length, column: offset - lineStart + 1 };
}

/** Formats a schema path as `services[0].versions.v2.targets[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Parses YAML text; `env` (default: none) feeds `${VAR}` substitution when given. */
export function readYaml(text: string, file: string, env?: NodeJS.ProcessEnv): YamlSource {
  const lineCounter = new LineCounter();
  const tooDeep = nestedTooDeepAt(text);
  // logLevel 'error': problems are reported as issues, never as process warnings on stderr. A document
  // nested too deep is not composed at all: an empty one stands in for it.
  const doc = parseDocument(tooDeep === undefined ? text : '', {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    logLevel: 'error',
  });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const issues: FileIssue[] = [];
  if (tooDeep !== undefined) {
    issues.push({
      location: positionOf(text, file, tooDeep),
      path: '',
      message: `maps and lists are nested deeper than ${MAX_YAML_DEPTH} levels`,
    });
  }
  // Only the first syntax error: the ones after it are mostly the parser losing its footing.
  const syntax = doc.errors[0];
  if (syntax) issues.push({ location: at(syntax.pos[0]), path: '', message: firstLine(syntax.message) });
  if (env && issues.length === 0)
    substituteEnv(doc, env, (node, message) => {
      issues.push({ location: node.range ? at(node.range[0]) : undefined, path: '', message });
    });
  if (issues.length === 0) issues.push(...danglingAliases(doc, at));
  let value: unknown;
  if (issues.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias bomb (aliases expanding to too many nodes) is refused here rather than expanded.
      issues.push({
        location: { file, line: 1, column: 1 },
        path: '',
        message: firstLine(describeError(err)),
      });
    }
  }

  const nodeAt = (path: readonly PropertyKey[]): Node | undefined => {
    let node: unknown = doc.contents;
    let found = isNode(node) ? node : undefined;
    for (const part of path) {
      node = child(doc, node, part);
      if (!isNode(node)) break;
      found = node;
    }
    return found;
  };
  // A document without content (an empty file) still has a place to point at: its start.
  const start: SourceLocation = { file, line: 1, column: 1 };

  return {
    file,
    value,
    issues,
    locate(path) {
      const node = nodeAt(path);
      return node?.range ? at(node.range[0]) : start;
    },
    locateKey(path, key) {
      const map = resolved(doc, nodeFor(doc, path));
      if (isMap(map)) {
        for (const item of map.items) {
          if (isPair(item) && isScalar(item.key) && String(item.key.value) === key && item.key.range) {
            return at(item.key.range[0]);
          }
        }
      }
      return this.locate(path);
    },
  };
}

/** An issue for each alias that names no anchor set before it. */
function danglingAliases(doc: Document, at: (offset: number) => SourceLocation): FileIssue[] {
  const issues: FileIssue[] = [];
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) === undefined) {
        issues.push({
          location: node.range ? at(node.range[0]) : undefined,
          path: '',
          message: `alias *${node.source} names no anchor set before it`,
        });
      }
    },
  });
  return issues;
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}

function resolved(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/**
 * The child of a YAML node under a schema path part. Keys are compared as text: the schema sees `1:` as
 * the key "1", while the YAML node holds the number 1.
 */
function child(doc: Document, parent: unknown, part: PropertyKey): unknown {
  const node = resolved(doc, parent);
  if (isSeq(node)) return typeof part === 'number' ? node.items[part] : undefined;
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(part)) return item.value;
    }
  }
  return undefined;
}

/** The node at exactly `path`, or undefined when some part of it is missing. */
function nodeFor(doc: Document, path: readonly PropertyKey[]): unknown {
  let node: unknown = doc.contents;
  for (const part of path) node = child(doc, node, part);
  return node;
}

function substituteEnv(doc: Document, env: NodeJS.ProcessEnv, report: (node: Scalar, message: string) => void): void {
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      let missing: string | undefined;
      const replaced = substituteVars(node.value, (name, fallback) => {
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        missing ??= name;
        return '';
      });
      if (missing) {
        const state = env[missing] === '' ? 'is empty' : 'is not set';
        report(node, `environment variable ${missing} ${state} and has no default (write \${${missing}:-default})`);
        return;
      }
      // A value that is one whole `${PORT:-8080}` reads as what it stands for (here a number), as if
      // written in place; quotes around it (needed inside `{ }`) only protect the YAML syntax.
      if (WHOLE_VAR.test(node.value) && nestedTooDeepAt(replaced) === undefined) {
        const typed = parseDocument(replaced).contents;
        // Unless that loses digits: 20-digit or zero-led numbers (tokens, account ids) stay the text given.
        const lossy = isScalar(typed) && typeof typed.value === 'number' && String(typed.value) !== replaced.trim();
        if (isScalar(typed) && typeof typed.value !== 'string' && !isSeq(typed) && !lossy) {
          node.value = typed.value;
          return;
        }
      }
      node.value = replaced;
    },
  });
}

/**
 * Replaces each `${NAME}` and `${NAME:-default}` in `text` (a default ends at the first `}` on its line)
 * by what `value` gives for it. A scan in one pass: a regex with a lazy default (`:-(.*?)\}`) runs to the
 * end of the line again from every `${NAME:-` that is never closed, so a long line of them took minutes.
 */
export function substituteVars(text: string, value: (name: string, fallback: string | undefined) => string): string {
  let out = '';
  let copied = 0;
  // The first `}` and the first line end at or after where the last default began: the scan only moves
  // forward, so each is searched for once per stretch of text, not once per `${`.
  let close = -1;
  let lineEnd = -1;
  let at = text.indexOf('${');
  while (at !== -1) {
    VAR_NAME.lastIndex = at + 2;
    const name = VAR_NAME.exec(text)?.[0];
    let end = -1;
    let fallback: string | undefined;
    if (name !== undefined) {
      const after = at + 2 + name.length;
      if (text[after] === '}') end = after;
      else if (text.startsWith(':-', after)) {
        if (close < after) close = text.indexOf('}', after);
        // No `}` from here on: no other `${...}` can be closed either.
        if (close === -1) break;
        if (lineEnd < after) {
          LINE_END.lastIndex = after;
          lineEnd = LINE_END.exec(text)?.index ?? text.length;
        }
        if (close < lineEnd) {
          end = close;
          fallback = text.slice(after + 2, close);
        }
      }
    }
    if (end === -1) {
      at = text.indexOf('${', at + 1);
      continue;
    }
    out += text.slice(copied, at) + value(name!, fallback);
    copied = end + 1;
    at = text.indexOf('${', copied);
  }
  return out + text.slice(copied);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
