/**
 * The `switchyard` command as a user runs it: the built bin in a child process, its exit codes and what
 * it prints.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { ROOT, runCli } from '../support/cli.js';
import { startUpstream } from '../support/upstream.js';

/** The bin, compiled once for the whole run by the global setup. */
let BIN = '';

const run = (args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 10000) => runCli(args, env, timeoutMs);

let dir: string;

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
  BIN = inject('cliMain');
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const GOOD = `listeners:
  production: { host: 127.0.0.1, port: 0 }
control: { host: 127.0.0.1, port: 0 }
services:
  - name: web
    versions:
      "1": { targets: ["http://127.0.0.1:\${BLUE_PORT:-9001}"] }
    live: "1"
`;

const BAD = `listeners:
  production: { host: 127.0.0.1, port: 0 }
control: { host: 127.0.0.1, port: 0 }
services:
  - name: web
    versions:
      "1": { targets: [ftp://127.0.0.1:9001] }
      "2":
        targets:
          - http://127.0.0.1:9002
    live: "3"
    colour: blue
`;

// Each test runs its own child processes on its own files, so they can run side by side.
describe.concurrent('switchyard validate', () => {
  it('accepts a good file with exit code 0', async ({ expect }) => {
    const path = await file('good.yml', GOOD);
    const r = await run(['validate', path]);
    expect(r).toEqual({ code: 0, stdout: `${path}: valid config (1 service)\n`, stderr: '' });
  });

  it('takes the file as --config too, as serve does', async ({ expect }) => {
    const path = await file('good-flag.yml', GOOD);
    const r = await run(['validate', '--config', path]);
    expect(r).toEqual({ code: 0, stdout: `${path}: valid config (1 service)\n`, stderr: '' });
    expect((await run(['validate', '--config', path, path])).code).toBe(2);
  });

  it('warns, still exit 0, about a control API open beyond loopback without control.auth', async ({ expect }) => {
    const path = await file('exposed.yml', GOOD.replace('control: { host: 127.0.0.1', 'control: { host: 0.0.0.0'));
    const r = await run(['validate', path]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: control.host 0.0.0.0 is reachable beyond this machine and there is no control.auth/,
    );
  });

  it('accepts the shipped example', async ({ expect }) => {
    const r = await run(['validate', 'config/example.yml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('config/example.yml: valid config (2 services)\n');
  });

  it('validates the shipped AppSpecs offline', async ({ expect }) => {
    const ecs = await run(['validate', 'config/appspec/ecs.yml']);
    expect(ecs.code).toBe(0);
    expect(ecs.stdout).toMatch(/^config\/appspec\/ecs\.yml: valid ECS AppSpec \(task definition .+\)\n$/);
    const lambda = await run(['validate', 'config/appspec/lambda.json']);
    expect(lambda.code).toBe(0);
    expect(lambda.stdout).toMatch(/: valid Lambda AppSpec \(demo 1 → 2, \d+ hooks?\)\n$/);
  });

  it('exits 2 on a bad AppSpec with its problems at line and column', async ({ expect }) => {
    const path = await file(
      'appspec.yml',
      'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: { Name: demo, Alias: live, CurrentVersion: "1", TargetVersion: x }\n',
    );
    const r = await run(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}:5:`);
    expect(r.stderr).toMatch(/TargetVersion/);
  });

  it('deploy checks the AppSpec file before sending it: exit 2, problems at its own lines', async ({ expect }) => {
    const path = await file(
      'deploy-appspec.yml',
      'version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: { Name: demo, Alias: live, CurrentVersion: "1", TargetVersion: x }\n',
    );
    // No server at this endpoint: the file is refused before anything is sent.
    const r = await run([
      'deploy',
      '--app',
      'a',
      '--group',
      'g',
      '--appspec',
      path,
      '--endpoint',
      'http://127.0.0.1:9',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}:5:`);
    expect(r.stderr).not.toContain('cannot reach');
  });

  it('exits 2 on a bad file and prints one file:line:col path: message line per problem', async ({ expect }) => {
    const path = await file('bad.yml', BAD);
    const r = await run(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      `error: ${path}: 3 problems`,
      `  ${path}:7:24 services[0].versions.1.targets[0]: must be an http(s) URL`,
      `  ${path}:11:11 services[0].live: names no version of this service (versions: 1, 2)`,
      `  ${path}:12:5 services[0].colour: unknown key`,
      '',
    ]);
  });

  it('exits 2 on a YAML syntax error, with its line and column', async ({ expect }) => {
    const path = await file('syntax.yml', 'listeners:\n  production: { port: 0\nservices: []\n');
    const r = await run(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: .*: 1 problem\\n {2}${escapeRegExp(path)}:\\d+:\\d+: .+\\n$`));
  });

  it('substitutes the environment and reports an unset variable where it stands', async ({ expect }) => {
    const path = await file('env.yml', GOOD.replace('port: 0 }\ncontrol', `port: "\${PROD_PORT}" }\ncontrol`));
    const unset = await run(['validate', path]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      `  ${path}:2:40: environment variable PROD_PORT is not set and has no default (write \${PROD_PORT:-default})\n`,
    );
    const set = await run(['validate', path], { PROD_PORT: '18080' });
    expect(set.code).toBe(0);
  });

  it('exits 2 when the file is missing', async ({ expect }) => {
    const path = join(dir, 'missing.yml');
    const r = await run(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read ${path}`);
  });

  it('exits 2 without exactly one file', async ({ expect }) => {
    for (const args of [['validate'], ['validate', 'a.yml', 'b.yml'], ['validate', '--strict', 'a.yml']]) {
      const r = await run(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain('usage: switchyard');
    }
  });
});

describe.concurrent('switchyard commands and arguments', () => {
  it('exits 2 on an unknown command, printing the usage', async ({ expect }) => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain('usage: switchyard <command>');
  });

  it('exits 2 with no command and 0 for help', async ({ expect }) => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('usage: switchyard');
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('validate FILE');
  });

  it('exits 2 when serve has no --config or an unknown option', async ({ expect }) => {
    const missing = await run(['serve']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('serve needs --config FILE');
    const unknown = await run(['serve', '--config', 'config/example.yml', '--port', '1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: switchyard');
  });
});

describe('switchyard serve', () => {
  it('exits 2 on a bad config and starts nothing', async () => {
    const path = await file('bad-serve.yml', BAD);
    const r = await run(['serve', '--config', path], {}, 10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`  ${path}:7:24 services[0].versions.1.targets[0]: must be an http(s) URL\n`);
    // Nothing was logged as serving: the failure came before any listener.
    expect(r.stdout).not.toContain('serving');
  });

  it('serves from a good config and exits 0 on SIGTERM', async () => {
    const blue = await startUpstream('blue');
    const path = await file('serve.yml', GOOD);
    const child = spawn(process.execPath, [BIN, 'serve', '--config', path], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], BLUE_PORT: String(blue.port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const urls = await serving(child);
      const res = await request(`${urls['production']}/hi`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-switchyard-version']).toBe('1');
      expect(await res.body.text()).toBe('blue');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

/** Waits for the "serving" log line and returns the URLs it names. */
function serving(child: ChildProcess): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}${err}`)), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('switchyard is serving')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { urls: Record<string, string> }).urls);
        return;
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${out}${err}`));
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
