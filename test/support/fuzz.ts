/**
 * What the fuzz tests (test/fuzz) share: how many cases a property runs and from which seed, the runner
 * that bounds each case's time and writes a results line for the bench, and the generators of hostile
 * documents: valid examples mutated (keys dropped, renamed, retyped, nested deep; odd numbers, odd
 * Unicode, very long strings), then serialised as YAML or JSON and mutated again as text (truncated,
 * junk inserted, a line repeated so that a key is duplicated, alias bombs).
 *
 * FUZZ_RUNS sets the cases per property (default {@link DEFAULT_RUNS}); FUZZ_SEED replaces each
 * property's fixed seed; a failure prints the seed and path, which FUZZ_SEED and FUZZ_PATH replay (with
 * `-t <target>` to run that property alone). FUZZ_REPORT names a file to which each property appends one
 * JSON line: target, cases run, whether it failed, time (the bench's fuzz scenario reads it).
 */
import { appendFileSync } from 'node:fs';

import fc from 'fast-check';
import { stringify } from 'yaml';

/** Cases per property when FUZZ_RUNS is not set: enough to catch the common, quick enough for `npm test`. */
export const DEFAULT_RUNS = 300;

/** The longest one case may take (a parse, or a request and its follow-up checks) before it counts as a hang. */
export const CASE_BUDGET_MS = 5_000;

function positiveInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

/** Cases per property. */
export const FUZZ_RUNS = positiveInt('FUZZ_RUNS') ?? DEFAULT_RUNS;

/** A test timeout that leaves every case its budget on a slow machine, and never less than a minute. */
export function fuzzTimeout(runs: number = FUZZ_RUNS): number {
  return 60_000 + runs * 250;
}

/** A fixed seed per target, so that CI runs the same cases every time (FUZZ_SEED overrides it). */
function seedFor(target: string): number {
  const given = process.env['FUZZ_SEED'];
  if (given !== undefined && given !== '') return Number(given) | 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** One property's line in the FUZZ_REPORT file. */
export interface FuzzResult {
  readonly target: string;
  /** Cases run (up to the first failure). */
  readonly cases: number;
  readonly failures: number;
  readonly ms: number;
  readonly seed: number;
  /** Cases by kind (which operation, which route, which mutation), when the property labels them. */
  readonly labels: Readonly<Record<string, number>>;
  /** fast-check's report of the failure, with its seed and path. */
  readonly failure?: string;
}

/** Options of {@link fuzz}. */
export interface FuzzOptions<T> {
  readonly runs?: number;
  /** A kind for each case, counted in the report. */
  readonly label?: (value: T) => string;
}

/**
 * Runs `check` on `runs` generated values; each case must resolve within {@link CASE_BUDGET_MS}. Fails
 * with fast-check's report (counterexample, seed, path) when a case throws or overruns.
 */
export async function fuzz<T>(
  target: string,
  arb: fc.Arbitrary<T>,
  check: (value: T) => Promise<void> | void,
  options: FuzzOptions<T> = {},
): Promise<void> {
  const labels: Record<string, number> = {};
  const property = fc.asyncProperty(arb, async (value) => {
    if (options.label) {
      const label = options.label(value);
      labels[label] = (labels[label] ?? 0) + 1;
    }
    const started = performance.now();
    await check(value);
    // fast-check's own timeout cannot interrupt synchronous work (a parse); this catches it afterwards.
    const ms = performance.now() - started;
    if (ms > CASE_BUDGET_MS) throw new Error(`the case took ${ms.toFixed(0)} ms, over its ${CASE_BUDGET_MS} ms budget`);
  });
  const seed = seedFor(target);
  const path = process.env['FUZZ_PATH'] || undefined;
  const started = performance.now();
  const details = await fc.check(property, {
    numRuns: options.runs ?? FUZZ_RUNS,
    seed,
    timeout: CASE_BUDGET_MS,
    ...(path !== undefined && { path }),
  });
  const failure = details.failed ? failureReport(target, details) : undefined;
  const result: FuzzResult = {
    target,
    cases: details.numRuns,
    failures: details.failed ? 1 : 0,
    ms: Math.round(performance.now() - started),
    seed,
    labels,
    ...(failure !== undefined && { failure }),
  };
  const report = process.env['FUZZ_REPORT'];
  if (report) appendFileSync(report, `${JSON.stringify(result)}\n`);
  if (failure !== undefined) throw new Error(failure);
}

/** A value as short JSON: long strings cut (a counterexample may hold 100,000 characters). */
function abbreviate(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'string' && v.length > 400 ? `${v.slice(0, 200)}…(${v.length} chars)` : v,
    );
    return text.length > 3_000 ? `${text.slice(0, 3_000)}…` : text;
  } catch {
    return String(value).slice(0, 3_000);
  }
}

/** fast-check's failure, shortened, with how to replay it. */
function failureReport<T>(target: string, details: fc.RunDetails<T>): string {
  const error = String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance);
  return [
    `${target}: property failed after ${details.numRuns} case(s), shrunk ${details.numShrinks} time(s)`,
    `Counterexample: ${abbreviate(details.counterexample)}`,
    `Error: ${error.length > 3_000 ? `${error.slice(0, 3_000)}…` : error}`,
    `Replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath} npx vitest run test/fuzz -t ${target}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Odd values

/** Strings that have broken parsers, validators, loggers or terminals somewhere. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'x\uDC00y',
  '\u202Eevil.yml',
  '\u05D0\u05D1\u200F',
  '😀',
  '👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301\u0301',
  '\uFEFF',
  '\r\n',
  '\t',
  '\u2028',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '9007199254740993',
  '0x1F',
  '010',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '${A}',
  '${A:-',
  '${A:-x}',
  '$${A}',
  '*a',
  '&a',
  '!!binary aGk=',
  '!!js/function',
  '%YAML 1.1',
  '---',
  '...',
  '"',
  "'",
  '\\',
  '\\u0000',
  '{',
  '[',
  '#',
  ': ',
  '- ',
  '~',
  'null',
  'true',
  'yes',
  'on',
  '0.0',
  '<<',
  '../../etc/passwd',
  'http://',
  'http://127.0.0.1:0',
  'arn:aws:lambda:us-east-1:1:function:',
  'd-AAAAAAAAA',
  'CodeDeployDefault.ECSAllAtOnce',
  'ECS',
  'Lambda',
  'Server',
  'AppSpecContent',
];

/** Numbers at the edges: huge, negative zero, past 2^53, tiny, fractional where integers are meant. */
export const ODD_NUMBERS: readonly number[] = [
  1e308,
  -1e308,
  -0,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  -(2 ** 53) - 1,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_VALUE,
  4_294_967_296,
  65_536,
  -1,
  0,
  0.5,
  99.999,
  100.0000001,
  1e-7,
  // YAML writes these as .nan and .inf; JSON as null.
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

/** Units that very long strings are made of (each is a problem when repeated 100,000 times). */
const LONG_UNITS = ['x', 'é', '😀', '\uD800', '${A:-', '${A}', '[', '{', 'a: ', '- ', '\\', '"', ' '];

/** A string of 1,000 to 100,000 repeats of an awkward unit. */
export const longString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...LONG_UNITS), fc.constantFrom(1_000, 10_000, 100_000))
  .map(([unit, n]) => unit.repeat(n));

/** A hostile string: from the list above, long, or random (any code unit, lone surrogates included). */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...ODD_STRINGS), weight: 6 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: longString, weight: 1 },
);

/** Any value a hostile document may hold where something else was expected. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: oddString, weight: 4 },
  { arbitrary: fc.constantFrom(...ODD_NUMBERS), weight: 3 },
  { arbitrary: fc.constantFrom(null, true, false, [], {}, [[]], { '': null }), weight: 2 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
);

// ---------------------------------------------------------------------------------------------------
// Mutating a document

type Json = unknown;

/** One change to a document, at the node a walk of `steps` from the root reaches. */
export interface Mutation {
  /** `leaf` retypes a leaf (a number, a string) however deep it lies: where the edge cases of values are. */
  readonly kind: 'drop' | 'retype' | 'leaf' | 'nest' | 'rename' | 'add' | 'duplicate' | 'case';
  /** Child picks, each taken modulo the number of children; the walk stops early at a leaf. */
  readonly steps: readonly number[];
  readonly value: Json;
  /** What a `leaf` mutation puts in place of a number: numbers at the edges find more than other types. */
  readonly number: number;
  readonly key: string;
  readonly depth: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('drop', 'retype', 'leaf', 'leaf', 'nest', 'rename', 'add', 'duplicate', 'case'),
  steps: fc.array(fc.nat(), { maxLength: 7 }),
  value: oddValue,
  number: fc.constantFrom(...ODD_NUMBERS),
  key: oddString,
  depth: fc.constantFrom(1, 2, 10, 63, 64, 65, 200, 5_000),
});

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

function nested(value: Json, depth: number, asArray: boolean): Json {
  let out = value;
  for (let i = 0; i < depth; i++) out = asArray ? [out] : { a: out };
  return out;
}

/** Applies `m` to `doc` in place (doc is a fresh copy) and returns the new root. */
function applyMutation(doc: Json, m: Mutation): Json {
  // Walk down to a container holding the node to change.
  let parent: Record<string, unknown> | unknown[] | undefined;
  let key: string | number | undefined;
  let node: Json = doc;
  // A leaf mutation walks on (reusing its picks) until it reaches a leaf.
  const walk =
    m.kind === 'leaf' ? Array.from({ length: 32 }, (_, i) => m.steps[i % (m.steps.length || 1)] ?? 0) : m.steps;
  for (const step of walk) {
    if (!isContainer(node)) break;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[step % keys.length]!;
    node = (node as Record<string | number, unknown>)[key];
  }
  const set = (value: Json) => {
    if (parent === undefined || key === undefined) return value;
    (parent as Record<string | number, unknown>)[key] = value;
    return doc;
  };
  switch (m.kind) {
    case 'drop':
      if (parent === undefined || key === undefined) return undefined;
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else Reflect.deleteProperty(parent, key);
      return doc;
    case 'retype':
      return set(m.value);
    case 'leaf':
      return set(typeof node === 'number' ? m.number : m.value);
    case 'nest':
      return set(nested(node, m.depth, m.depth % 2 === 0));
    case 'rename':
      if (parent === undefined || key === undefined || Array.isArray(parent)) return set(m.value);
      Reflect.deleteProperty(parent, key);
      parent[m.key] = node;
      return doc;
    case 'add':
      if (Array.isArray(node)) node.push(m.value);
      else if (isContainer(node)) (node as Record<string, unknown>)[m.key] = m.value;
      else return set(m.value);
      return doc;
    case 'duplicate':
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(node));
      else if (Array.isArray(node)) node.push(...(structuredClone(node) as unknown[]));
      return doc;
    case 'case':
      // The same key in another case: AppSpec keys match regardless of case, config keys do not.
      if (parent === undefined || typeof key !== 'string' || Array.isArray(parent)) return doc;
      parent[key === key.toUpperCase() ? key.toLowerCase() : key.toUpperCase()] = structuredClone(node);
      return doc;
  }
}

/** `base` changed by one to four mutations (a fresh copy each time). */
export function mutated(base: Json): fc.Arbitrary<{ doc: Json; mutations: readonly Mutation[] }> {
  return fc.array(mutation, { minLength: 1, maxLength: 4 }).map((mutations) => {
    let doc = structuredClone(base);
    for (const m of mutations) {
      try {
        doc = applyMutation(doc, m);
      } catch {
        // A copy of a node nested too deep to clone: this mutation is left out.
      }
    }
    return { doc, mutations };
  });
}

// ---------------------------------------------------------------------------------------------------
// Text

/** A change made to a document's text after it was written. */
export interface TextMutation {
  readonly kind: 'truncate' | 'insert' | 'replace' | 'repeat-line' | 'drop-line' | 'bom' | 'tabs' | 'crlf';
  /** Where, as a fraction of the text's length. */
  readonly at: number;
  readonly text: string;
}

const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  kind: fc.constantFrom(
    'truncate',
    'insert',
    'replace',
    'repeat-line',
    'repeat-line',
    'drop-line',
    'bom',
    'tabs',
    'crlf',
  ),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  text: fc.oneof(fc.constantFrom(...ODD_STRINGS), fc.string({ unit: 'binary', maxLength: 8 })),
});

/** Applies `m` to `text`. */
export function mutateText(text: string, m: TextMutation): string {
  const at = Math.floor(m.at * text.length);
  const lines = text.split('\n');
  const line = Math.floor(m.at * lines.length);
  switch (m.kind) {
    case 'truncate':
      return text.slice(0, at);
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'replace':
      return text.slice(0, at) + m.text + text.slice(at + m.text.length);
    case 'repeat-line':
      // Most often a key written twice in the same map.
      return [...lines.slice(0, line + 1), lines[line] ?? '', ...lines.slice(line + 1)].join('\n');
    case 'drop-line':
      return [...lines.slice(0, line), ...lines.slice(line + 1)].join('\n');
    case 'bom':
      return `\uFEFF${text}`;
    case 'tabs':
      return text.replace(/^( {2})+/gm, (s) => '\t'.repeat(s.length / 2));
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
  }
}

/**
 * YAML alias bombs ("billion laughs"): each level a list of `width` aliases of the level before, so the
 * last one stands for width^levels nodes; put under `key` at the top of a document.
 */
export const aliasBomb: fc.Arbitrary<{ levels: number; width: number; key: string }> = fc.record({
  levels: fc.integer({ min: 2, max: 14 }),
  width: fc.integer({ min: 2, max: 12 }),
  key: fc.constantFrom('services', 'Resources', 'Hooks', 'hooks', 'x', 'version', 'applications'),
});

/** The text of an alias bomb. */
export function aliasBombText({ levels, width, key }: { levels: number; width: number; key: string }): string {
  const lines = ['l0: &l0 [lol, lol, lol]'];
  for (let i = 1; i <= levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(width)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  lines.push(`${key}: *l${levels}`);
  return `${lines.join('\n')}\n`;
}

/** Ways a document is written out. */
export type Writer = 'yaml' | 'json' | 'json-pretty' | 'yaml-flow';

/** Writes `doc` as text, as a person (or a tool) might have. */
export function write(doc: Json, writer: Writer): string {
  switch (writer) {
    case 'json':
      return JSON.stringify(doc) ?? '';
    case 'json-pretty':
      return JSON.stringify(doc, null, 2) ?? '';
    case 'yaml':
      return stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 }) ?? '';
    case 'yaml-flow':
      return stringify(doc, { aliasDuplicateObjects: false, collectionStyle: 'flow', lineWidth: 0 }) ?? '';
  }
}

/** Block YAML indents each level further: past this size a deep document is written as JSON instead. */
const MAX_WRITTEN_CHARS = 2_000_000;

/** A hostile file made from valid `texts` (parsed, mutated, written again) or the texts themselves mutated. */
export function hostileFile(
  texts: readonly string[],
  parse: (text: string) => Json,
): fc.Arbitrary<{ kind: string; text: string }> {
  const docs = texts.map(parse);
  const fromDoc = fc
    .tuple(
      fc.nat({ max: docs.length - 1 }).chain((i) => mutated(docs[i])),
      fc.constantFrom<Writer>('yaml', 'yaml', 'json', 'json-pretty', 'yaml-flow'),
      fc.option(textMutation, { freq: 3 }),
    )
    .map(([{ doc }, writer, m]) => {
      let text: string;
      try {
        text = write(doc, writer);
        if (text.length > MAX_WRITTEN_CHARS) text = write(doc, 'json');
      } catch {
        // The YAML writer refuses some values (lone surrogates in keys, for one) and both recurse: a
        // document nested too deep for them is sent as deep JSON written by hand.
        try {
          text = write(doc, 'json');
        } catch {
          text = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
        }
      }
      return { kind: `doc:${writer}${m ? `+${m.kind}` : ''}`, text: m ? mutateText(text, m) : text };
    });
  const fromText = fc
    .tuple(fc.constantFrom(...texts), fc.array(textMutation, { minLength: 1, maxLength: 3 }))
    .map(([text, ms]) => ({ kind: `text:${ms.map((m) => m.kind).join('+')}`, text: ms.reduce(mutateText, text) }));
  const bomb = fc
    .tuple(fc.constantFrom(...texts), aliasBomb)
    .map(([text, b]) => ({ kind: 'alias-bomb', text: `${aliasBombText(b)}${text}` }));
  const junk = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    longString,
    fc.constantFrom('', '---', '--- !!binary', '&a [*a]', 'a: *nowhere', '[', '{', '? [a]\n: 1', '"unterminated', '%'),
  );
  return fc.oneof(
    { arbitrary: fromDoc, weight: 6 },
    { arbitrary: fromText, weight: 3 },
    { arbitrary: bomb, weight: 1 },
    { arbitrary: junk.map((text) => ({ kind: 'junk', text })), weight: 1 },
  );
}

/** Text that shows a stack trace or a source path: never to be shown to a client or a user as an answer. */
export const STACK_TRACE = /\n\s+at \S|node:internal|node_modules\/|\/src\/\S+\.[jt]s\b/;
