/**
 * `switchyard validate` on hostile files, as a user runs it (the built bin in a child process): exit 0
 * with a one-line verdict, or exit 2 with `error: FILE: N problems` and each problem at FILE:LINE:COL,
 * never exit 1 with a stack trace. Slower per case than the in-process fuzzers (config.test.ts,
 * appspec.test.ts), so it runs one case for every 30 of theirs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { runCli } from '../support/cli.js';
import { CASE_BUDGET_MS, fuzz, FUZZ_RUNS, fuzzTimeout, hostileFile, STACK_TRACE } from '../support/fuzz.js';
import { APPSPECS, CONFIGS } from './files.js';

const RUNS = Math.max(5, Math.ceil(FUZZ_RUNS / 30));

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-fuzz-validate-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('fuzz: switchyard validate', () => {
  it(
    'validate-cli: every hostile file gets exit 0, or exit 2 with each problem at a line and column',
    async () => {
      let n = 0;
      await fuzz(
        'validate-cli',
        hostileFile([...CONFIGS, ...APPSPECS], (text) => parse(text) as unknown),
        async ({ text }) => {
          const file = join(dir, `case-${n++}.yml`);
          await writeFile(file, text);
          const run = await runCli(['validate', file], {}, CASE_BUDGET_MS);
          const what = `exit ${run.code}\n${run.stderr.slice(0, 1_000)}`;
          expect([0, 2], what).toContain(run.code);
          expect(STACK_TRACE.test(run.stderr), what).toBe(false);
          if (run.code === 0) {
            expect(run.stdout, what).toMatch(/: valid (config|ECS AppSpec|Lambda AppSpec)/);
          } else {
            expect(run.stderr.startsWith(`error: ${file}: `), what).toBe(true);
            expect(run.stderr, what).toContain(`  ${file}:`);
            expect(run.stderr, what).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
          }
        },
        { runs: RUNS, label: ({ kind }) => kind.split(/[:+]/)[0]! },
      );
    },
    fuzzTimeout(RUNS * 4),
  );
});
