/**
 * `switchyard experiment run`, as a user runs it: a small experiment live and simulated end to end
 * (the table printed, the three report files written, report.json's contract fields consistent), a bad
 * file (exit 2, line and column), a mode the experiment cannot run, and Ctrl-C keeping the runs done.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, inject, it } from 'vitest';

import type { ExperimentReport, RunResult } from '../../src/lab/results.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir('switchyard-lab-cli');

/** Two policies and two scenarios, small: 200 req/s, deployments 600 times faster than real time. */
const SMALL = `name: small
seed: 5
timeScale: 600
bake: 5m
load: { rate: 200, connections: 16, users: 50, before: 300ms, after: 100ms }
versions:
  synthetic:
    original: { latency: { fixed: 1ms } }
    replacement: { latency: { fixed: 1ms } }
alarms:
  errors: { kind: error-rate, threshold: 0.05, minRequests: 10 }
policies:
  - { name: at-once, config: CodeDeployDefault.ECSAllAtOnce }
  - { name: canary, config: { type: TimeBasedCanary, percent: 20, interval: 2m } }
scenarios:
  - name: healthy
  - name: failing
    replacement: { latency: { fixed: 1ms }, errors: { percent: 40 } }
`;

const CONTRACT = [
  'mode',
  'policy',
  'scenario',
  'repeat',
  'outcome',
  'requests',
  'failed',
  'servedByReplacement',
  'failedOnReplacement',
  'usersAffected',
  'detectionMs',
  'timeToFullTrafficMs',
  'durationMs',
  'latency',
  'timeline',
];

async function experimentFile(name: string, text: string): Promise<string> {
  const file = join(dir.path(), name);
  await writeFile(file, text);
  return file;
}

describe('switchyard experiment run', () => {
  it('runs every policy × scenario live and simulated, prints the table and writes the three reports', async () => {
    const file = await experimentFile('small.yml', SMALL);
    const out = join(dir.path(), 'small-report');
    const run = await runCli(['experiment', 'run', file, '--out', out], {}, 90_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/mode\s+scenario\s+policy\s+outcomes\s+failed/);
    expect(run.stdout).toContain(`report: ${out}/report.html`);
    expect(run.stdout).toMatch(/live against simulated: \d+ of 4 agree/);
    expect(run.stderr).toMatch(/run 8 of 8 · live canary × failing #1 → RolledBack/);
    for (const name of ['report.json', 'report.md', 'report.html']) expect(existsSync(join(out, name))).toBe(true);

    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ExperimentReport;
    expect(report.complete).toBe(true);
    expect(report.modes).toEqual(['live', 'sim']);
    expect(report.runs).toHaveLength(8);
    for (const r of report.runs) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(CONTRACT));
      expect(r.failed).toBeLessThanOrEqual(r.requests);
      expect(r.failedOnReplacement).toBeLessThanOrEqual(r.servedByReplacement);
      expect(r.usersAffected).toBeLessThanOrEqual(Math.min(r.failed, 50));
      // An alarm fired exactly when the deployment rolled back, and detection is known exactly then.
      expect(r.outcome === 'RolledBack', JSON.stringify(r.alarm)).toBe(r.alarm !== undefined);
      expect(r.detectionMs === null).toBe(r.alarm === undefined);
      expect(r.outcome).toBe(r.scenario === 'healthy' ? 'Succeeded' : 'RolledBack');
      const counted = r.timeline.reduce((n, p) => n + p.original.requests + p.replacement.requests, 0);
      expect(counted).toBe(r.requests);
      expect(r.latency.p99).toBeGreaterThanOrEqual(r.latency.p50);
    }
    const healthy = (mode: string, policy: string) =>
      report.runs.find((r: RunResult) => r.mode === mode && r.policy === policy && r.scenario === 'healthy')!;
    for (const mode of ['live', 'sim']) {
      expect(healthy(mode, 'at-once').timeToFullTrafficMs).toBeLessThan(1_000 * 600 * 0.05);
      // The canary holds 20% for 2 minutes of deployment time: 100% comes then, within 5%.
      expect(Math.abs(healthy(mode, 'canary').timeToFullTrafficMs! - 120_000)).toBeLessThanOrEqual(6_000);
      expect(healthy(mode, 'canary').failed).toBe(0);
    }
    expect(report.summary).toHaveLength(8);
    expect(report.agreement).toHaveLength(4);
    expect(report.verdicts.length).toBe(4);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/(src|href)="https?:/);
  }, 120_000);

  it('refuses a bad experiment file with exit 2 and every problem at its line and column', async () => {
    const file = await experimentFile(
      'bad.yml',
      SMALL.replace('rate: 200', 'rate: fast').replace('bake: 5m', 'bake: 90s'),
    );
    const run = await runCli(['experiment', 'run', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: 2 problems`);
    expect(run.stderr).toContain(`${file}:4:7 bake: must be whole minutes`);
    expect(run.stderr).toContain(`${file}:5:15 load.rate: `);
    expect(run.stdout).toBe('');
    // validate knows an experiment file and says the same, without running anything.
    const checked = await runCli(['validate', file]);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain(`${file}:4:7 bake: must be whole minutes`);
    const good = await runCli(['validate', await experimentFile('good.yml', SMALL)]);
    expect(good.stdout).toContain('valid experiment (2 policies × 2 scenarios × 1: 4 runs per mode)');
  });

  it('refuses to simulate a config file’s own versions when asked to, and says why', async () => {
    const file = await experimentFile(
      'own.yml',
      SMALL.replace(
        /versions:\n {2}synthetic:\n.*\n.*\n/,
        'versions: { config: app.yml, service: web, original: a, replacement: b }\n',
      ).replace(/\n {4}replacement: \{ latency.*\n/, '\n    faults: { abort: { percent: 40 } }\n'),
    );
    const run = await runCli(['experiment', 'run', file, '--mode', 'sim']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('cannot simulate this experiment: versions from the config file');
    const bad = await runCli(['experiment', 'run', file, '--mode', 'fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--mode must be live, sim or both');
  });

  it('stops on Ctrl-C after the run in progress and keeps the report of the runs done (exit 130)', async () => {
    const file = await experimentFile('long.yml', SMALL.replace('seed: 5', 'seed: 5\nrepeat: 20'));
    const out = join(dir.path(), 'long-report');
    const child = spawn(
      process.execPath,
      [inject('cliMain'), 'experiment', 'run', file, '--mode', 'live', '--out', out],
      {
        cwd: ROOT,
        env: { PATH: process.env['PATH'] },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const first = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('run 2 of 80')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await first;
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref())]);
    if (code === 'hung') child.kill('SIGKILL');
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopping: the run in progress ends');
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ExperimentReport;
    expect(report.complete).toBe(false);
    expect(report.runs.length).toBeGreaterThanOrEqual(2);
    expect(report.runs.length).toBeLessThan(80);
    expect(stdout).toContain('report:');
  }, 90_000);
});
