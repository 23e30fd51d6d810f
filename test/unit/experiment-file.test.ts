/**
 * The policy lab's experiment file: the shipped example parses into the policies and scenarios it
 * names, and every kind of problem is reported at its line and column, all at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { formatIssue, isSwitchyardError } from '../../src/core/errors.js';
import { parseExperiment } from '../../src/lab/experiment.js';
import { plannedRuns } from '../../src/lab/run-experiment.js';

const EXAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'config', 'experiments', 'policies.yml'), 'utf8');

/** The problems of `text`, as `switchyard` prints them. */
function problems(text: string): string[] {
  try {
    parseExperiment(text, 'x.yml', {});
  } catch (err) {
    if (!isSwitchyardError(err, 'EXPERIMENT_INVALID')) throw err;
    return err.issues.map(formatIssue);
  }
  throw new Error('accepted');
}

const BASE = `load: { rate: 100 }
versions: { synthetic: { original: {}, replacement: {} } }
alarms: { errors: { kind: error-rate, threshold: 0.05 } }
`;

describe('experiment file', () => {
  it('reads the shipped example: its policies resolved to shifts, its scenarios and defaults', () => {
    const e = parseExperiment(EXAMPLE, 'config/experiments/policies.yml', {});
    expect(e.name).toBe('policies');
    expect(e.policies.map((p) => [p.name, p.shift.kind, p.alarms, p.retryOnOriginal])).toEqual([
      ['all-at-once', 'allAtOnce', ['errors'], false],
      ['canary-10', 'canary', ['errors'], false],
      ['linear-10', 'linear', ['errors'], false],
      ['canary-10-retry', 'canary', ['errors'], true],
    ]);
    expect(e.scenarios.map((s) => s.name)).toEqual(['healthy', 'errors-10pct', 'late-errors', 'cold-green']);
    expect(e.scenarios[1]!.replacement?.errors).toEqual({ percent: 10, status: 500 });
    expect(e.scenarios[2]!.faults?.schedule).toEqual({ afterMs: 20_000 });
    expect(e.bake).toBe(60_000);
    expect(e.load).toMatchObject({ rate: 1000, connections: 256, users: 2000, before: 1000, after: 0, sticky: false });
  });

  it('plans policy × scenario × repeat runs, each seeded from the file, the same seed for both modes', () => {
    const e = parseExperiment(EXAMPLE, 'x.yml', {});
    const runs = plannedRuns(e, 3);
    expect(runs).toHaveLength(4 * 4 * 3);
    expect(new Set(runs.map((r) => r.seed)).size).toBe(runs.length);
    expect(plannedRuns(e, 3).map((r) => r.seed)).toEqual(runs.map((r) => r.seed));
  });

  it('reports every problem at once, each at its line and column', () => {
    const text = `load: { rate: -1 }
versions: {}
bake: 30s
alarms: { errors: { kind: error-rate, threshold: 2 } }
policies:
  - { name: a, config: CodeDeployDefault.Nope, alarms: [missing] }
  - { name: a, config: { steps: [{ weight: 10 }, { weight: 100 }] } }
scenarios: []
extra: 1
`;
    expect(problems(text)).toEqual([
      'x.yml:1:15 load.rate: must be more than 0',
      'x.yml:2:11 versions: must give either synthetic versions or a config file',
      'x.yml:3:7 bake: must be whole minutes (0m, 1m, 5m, …)',
      'x.yml:4:50 alarms.errors.threshold: must be 0 to 1',
      'x.yml:8:12 scenarios: needs at least one scenario',
      'x.yml:9:1 extra: unknown key',
    ]);
    expect(
      problems(`${BASE}policies:
  - { name: a, config: CodeDeployDefault.Nope, alarms: [missing] }
  - { name: a, config: { steps: [{ weight: 10 }, { weight: 100 }] } }
scenarios: [{ name: s }]
`),
    ).toEqual([
      'x.yml:5:24 policies[0].config: "CodeDeployDefault.Nope" is not a predefined Lambda or ECS configuration (CodeDeployDefault.…)',
      'x.yml:5:57 policies[0].alarms[0]: no alarm "missing" in alarms',
      'x.yml:6:13 policies[1].name: "a" is named twice',
      'x.yml:6:34 policies[1].config.steps[0]: needs a pause: nobody continues a lab run by hand',
    ]);
    // The names are checked once the schema has passed, as the config's are.
    expect(
      problems(`${BASE}policies: [{ name: a, config: CodeDeployDefault.Nope }]
scenarios: [{ name: s, replacement: { latency: { p50: 5ms } } }]
`),
    ).toEqual(['x.yml:5:48 scenarios[0].replacement.latency: a drawn latency needs both p50 and p99']);
  });

  it('takes the user’s own versions from a config file, relative to the experiment, live only', () => {
    const e = parseExperiment(
      `load: { rate: 10 }
versions: { config: ../app.yml, service: web, original: blue, replacement: green }
policies: [{ name: p, config: CodeDeployDefault.ECSAllAtOnce }]
scenarios: [{ name: s, faults: { abort: { percent: 5 } } }]
`,
      '/srv/lab/x.yml',
      {},
    );
    expect(e.versions).toEqual({
      kind: 'config',
      config: '/srv/app.yml',
      service: 'web',
      original: 'blue',
      replacement: 'green',
    });
    expect(e.policies[0]!.alarms).toEqual([]);
    expect(
      problems(`load: { rate: 10 }
versions: { config: app.yml, original: blue }
policies: [{ name: p, config: CodeDeployDefault.ECSAllAtOnce }]
scenarios: [{ name: s, replacement: {} }]
`),
    ).toEqual([
      'x.yml:2:11 versions.service: is required with a config file',
      'x.yml:2:11 versions.replacement: is required with a config file',
    ]);
    expect(
      problems(`load: { rate: 10 }
versions: { config: app.yml, service: web, original: blue, replacement: green }
policies: [{ name: p, config: CodeDeployDefault.ECSAllAtOnce }]
scenarios: [{ name: s, replacement: {} }]
`),
    ).toEqual(['x.yml:4:37 scenarios[0].replacement: applies only with synthetic versions']);
  });
});
