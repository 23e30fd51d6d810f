/**
 * `switchyard validate` on files nested deep enough to overflow the YAML parser's stack (found by
 * test/fuzz/validate-cli): a fresh process aborted there with "RegExpCompiler Allocation failed" instead
 * of reporting a problem.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-validate-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('validate: documents nested too deep', () => {
  it.each([
    ['flow maps', '{'.repeat(1_000)],
    ['flow lists', `services: ${'['.repeat(5_000)}${']'.repeat(5_000)}`],
    ['block lists on one line', `${'- '.repeat(3_000)}x`],
  ])('%s: exit 2 with the place where nesting passes 64 levels', async (_what, text) => {
    const file = join(dir, 'deep.yml');
    await writeFile(file, text);
    const run = await runCli(['validate', file]);
    expect(run.code, run.stderr.slice(0, 500)).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(`^error: ${file}: 1 problem\\n  ${file}:1:\\d+: maps and lists are nested deeper than 64 levels\\n$`),
    );
  });
});
