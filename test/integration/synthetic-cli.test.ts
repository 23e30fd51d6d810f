/**
 * A config with synthetic versions as a user runs it: `switchyard validate` accepts it, and
 * `switchyard serve` serves the live one (its target shown by `GET /v1/services`) and closes it on SIGTERM.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { request } from 'undici';
import { describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { serveChild } from '../support/serve.js';
import { tempDir } from '../support/temp-dir.js';

const temp = tempDir('switchyard-synthetic-cli');

const CONFIG = `listeners:
  production: { host: 127.0.0.1, port: 0 }
control: { host: 127.0.0.1, port: 0 }
store: memory
services:
  - name: web
    versions:
      "1":
        synthetic: { latency: { fixed: 1ms }, bodyBytes: 5 }
        instances: 2
      "2":
        synthetic:
          latency: { p50: 5ms, p99: 50ms }
          errors: { percent: 10, status: 503 }
          warmup: { requests: 100, factor: 3 }
          capacity: { inFlight: 20, queue: 10, queueTimeout: 1s }
          seed: 42
    live: "1"
`;

describe('synthetic versions from the command line', () => {
  it('validates, serves the live version and shows its targets', async () => {
    const file = join(temp.path(), 'synthetic.yml');
    await writeFile(file, CONFIG);
    expect(await runCli(['validate', file])).toEqual({
      code: 0,
      stdout: `${file}: valid config (1 service)\n`,
      stderr: '',
    });

    const served = await serveChild(file);
    const res = await request(`${served.urls['control']}/v1/services`);
    const body = (await res.body.json()) as { services: { versions: { label: string; targets: string[] }[] }[] };
    const versions = Object.fromEntries(body.services[0]!.versions.map((v) => [v.label, v.targets]));
    expect(versions['1']).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    expect(versions['2']).toEqual([]);
    const answer = await request(`${served.urls['production']}/`);
    expect([answer.statusCode, await answer.body.text()]).toEqual([200, 'xxxxx']);

    served.child.kill('SIGTERM');
    expect(await served.exit).toEqual({ code: 0, signal: null });
  });
});
