/**
 * The policy lab's reports on a real control API (port 0): the reports folder listed and one report as
 * its page's parts, an upload stored and read back (with report.md and report.html beside it), and the
 * refusals: an unknown name (404), an invalid report (400 naming its field), a name that would leave the
 * folder, a body nested too deep, one over the route's own 32 MiB; with control.auth, no token no report.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { labReportShelf } from '../../src/lab/report/shelf.js';
import { writeReport } from '../../src/lab/report/write.js';
import type { ExperimentReport } from '../../src/lab/results.js';
import { fullRuns, reportOf, simulatedReport } from '../support/lab-report.js';
import { startProxy, twoVersions } from '../support/switchyard.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const TOKEN = 'lab-reports-token-7d3e91c0a4b2';
const dir = tempDir('lab-reports-api');

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Starts switchyard with the shelf over `folder`; `control` adds to the control address. */
async function start(folder: string, control: Record<string, unknown> = {}): Promise<string> {
  const blue = await startUpstream('blue');
  const green = await startUpstream('green');
  const sy = await startProxy(
    { ...twoVersions(blue.url, green.url), control: { host: '127.0.0.1', port: 0, ...control } },
    { labReports: labReportShelf(folder) },
  );
  return sy.urls['control']!;
}

async function call(url: string, method: 'GET' | 'POST', body?: string, token?: string): Promise<Reply> {
  const res = await request(url, {
    method,
    headers: {
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(token && { authorization: `Bearer ${token}` }),
    },
    ...(body !== undefined && { body }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('/v1/lab/reports', () => {
  it('lists, shows, takes an upload and shows it, and refuses what it cannot serve', async () => {
    const folder = join(dir.path(), 'served');
    const written = reportOf(fullRuns());
    await writeReport(join(folder, 'policies'), written);
    const base = await start(folder);

    const listed = await call(`${base}/v1/lab/reports`, 'GET');
    expect(listed).toEqual({
      status: 200,
      body: {
        reports: [
          {
            name: 'policies',
            title: 'Policy lab: policies',
            experiment: 'policies',
            startedAt: written.startedAt,
            finishedAt: written.finishedAt,
            complete: true,
            modes: ['live', 'sim'],
            runs: written.runs.length,
            uploaded: false,
          },
        ],
      },
    });

    const shown = await call(`${base}/v1/lab/reports/policies`, 'GET');
    expect(shown.status).toBe(200);
    expect(shown.body['name']).toBe('policies');
    expect(shown.body['title']).toBe('Policy lab: policies');
    expect(shown.body['markup']).toContain('data-chart="scatter"');
    expect(shown.body['markup']).not.toMatch(/<script|\sstyle\s*=/);
    // The page's trimmed copy: one run drawn per mode × policy × scenario.
    expect((shown.body['report'] as ExperimentReport).runs).toHaveLength(4 * 4 * 2);
    expect((shown.body['view'] as { pareto: unknown[] }).pareto).toHaveLength(2);

    const simulated = await simulatedReport();
    const stored = await call(`${base}/v1/lab/reports`, 'POST', JSON.stringify(simulated));
    expect(stored).toEqual({ status: 201, body: { name: 'tiny-sim' } });
    for (const file of ['report.json', 'report.md', 'report.html', 'uploaded.json']) {
      expect(existsSync(join(folder, 'tiny-sim', file)), file).toBe(true);
    }
    const again = await call(`${base}/v1/lab/reports`, 'POST', JSON.stringify(simulated));
    expect(again).toEqual({ status: 201, body: { name: 'tiny-sim-2' } });
    const upload = await call(`${base}/v1/lab/reports/tiny-sim`, 'GET');
    expect(upload.status).toBe(200);
    expect(upload.body['title']).toBe('Policy lab: tiny sim');
    expect((upload.body['report'] as ExperimentReport).experiment).toEqual(
      JSON.parse(JSON.stringify(simulated.experiment)),
    );
    const after = await call(`${base}/v1/lab/reports`, 'GET');
    expect((after.body['reports'] as { name: string; uploaded: boolean }[]).map((r) => [r.name, r.uploaded])).toEqual([
      ['tiny-sim', true],
      ['tiny-sim-2', true],
      ['policies', false],
    ]);

    expect(await call(`${base}/v1/lab/reports/nobody`, 'GET')).toEqual({
      status: 404,
      body: { error: 'LAB_REPORT_NOT_FOUND', message: 'no lab report named "nobody"' },
    });
    const climbing = await call(`${base}/v1/lab/reports/..%2Fserved%2Fpolicies`, 'GET');
    expect(climbing.status).toBe(400);
    expect(climbing.body['error']).toBe('ARGUMENTS_INVALID');
  });

  it('refuses an invalid report naming its first bad field, a body nested too deep, and one over 32 MiB', async () => {
    const folder = join(dir.path(), 'refusals');
    const base = await start(folder);
    const broken = JSON.parse(JSON.stringify(reportOf(fullRuns(['sim'])))) as { runs: Record<string, unknown>[] };
    broken.runs[1]!['outcome'] = 'Exploded';
    const invalid = await call(`${base}/v1/lab/reports`, 'POST', JSON.stringify(broken));
    expect(invalid.status).toBe(400);
    expect(invalid.body['error']).toBe('LAB_REPORT_INVALID');
    expect(invalid.body['message']).toMatch(/^the uploaded report is not a policy-lab report: runs\[1\]\.outcome: /);
    expect(invalid.body['issues']).toEqual([expect.stringMatching(/^runs\[1\]\.outcome: /)]);

    const deep = await call(`${base}/v1/lab/reports`, 'POST', '['.repeat(100) + ']'.repeat(100));
    expect(deep.status).toBe(400);
    expect(deep.body['error']).toBe('ARGUMENTS_INVALID');

    // Over the usual 1 MiB but within the route's own limit: taken (long timelines, as a real report has).
    const long = await simulatedReport();
    const padded = {
      ...long,
      experiment: {
        ...long.experiment,
        scenarios: long.experiment.scenarios.map((s) => ({ ...s, description: 'd'.repeat(600_000) })),
      },
    };
    expect(await call(`${base}/v1/lab/reports`, 'POST', JSON.stringify(padded))).toEqual({
      status: 201,
      body: { name: 'tiny-sim' },
    });

    const tooLarge = await call(`${base}/v1/lab/reports`, 'POST', `"${'x'.repeat(32 * 1024 * 1024)}"`);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({
      error: 'BODY_TOO_LARGE',
      message: 'request body is too large: a lab report may be at most 32 MiB',
    });
  });

  it('wants the token with control.auth', async () => {
    const folder = join(dir.path(), 'guarded');
    await writeReport(join(folder, 'policies'), reportOf(fullRuns(['sim'])));
    const base = await start(folder, { auth: { token: TOKEN } });
    for (const [method, path, body] of [
      ['GET', '/v1/lab/reports', undefined],
      ['GET', '/v1/lab/reports/policies', undefined],
      ['POST', '/v1/lab/reports', JSON.stringify(await simulatedReport())],
    ] as const) {
      const refused = await call(`${base}${path}`, method, body);
      expect(refused.status, `${method} ${path}`).toBe(401);
      expect(refused.body['error']).toBe('UNAUTHORIZED');
    }
    const listed = await call(`${base}/v1/lab/reports`, 'GET', undefined, TOKEN);
    expect(listed.status).toBe(200);
    expect((listed.body['reports'] as unknown[]).length).toBe(1);
    expect((await call(`${base}/v1/lab/reports/policies`, 'GET', undefined, TOKEN)).status).toBe(200);
    expect(existsSync(join(folder, 'tiny-sim'))).toBe(false);
  });
});
