import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pino } from 'pino';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';

import { HooksConfig } from '../../src/config/hooks.js';
import { type Clock, ManualClock, systemClock } from '../../src/core/clock.js';
import { HookExecutor } from '../../src/hooks/runner.js';
import type { HookInvocation, HookOutcome } from '../../src/shifting/ports.js';
import { closedPort, startUpstream } from '../support/upstream.js';

const NODE = process.execPath;
const DEPLOYMENT = 'd-HOOKS0001';
const dir = mkdtempSync(join(tmpdir(), 'switchyard-hooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function invocation(target: string, overrides: Partial<HookInvocation> = {}): HookInvocation {
  return {
    deploymentId: DEPLOYMENT,
    executionId: `exec-${++seq}`,
    applicationName: 'shop',
    deploymentGroupName: 'shop-prod',
    event: 'AfterAllowTestTraffic',
    target,
    timeoutMs: 10_000,
    ...overrides,
  };
}

function executor(hooks: unknown, clock: Clock = systemClock, env?: Record<string, string>): HookExecutor {
  return new HookExecutor({
    hooks: HooksConfig.parse(hooks),
    clock,
    logger: pino({ level: 'silent' }),
    endpoint: 'http://127.0.0.1:9900',
    killGraceMs: 200,
    ...(env && { env }),
  });
}

const run = (runner: HookExecutor, inv: HookInvocation, signal = new AbortController().signal): Promise<HookOutcome> =>
  runner.run(inv, signal);

/** A node program as a command hook. */
const node = (script: string): string[] => [NODE, '-e', script];

/** Whether a process still runs; a zombie waiting for an orphan reaper counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('HTTP hooks', () => {
  it('POSTs exactly the two ids as JSON, then waits for the report (async)', async () => {
    let body = '';
    const hook = await startUpstream('hook', (req, res) => {
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => res.writeHead(202).end());
    });
    const runner = executor({ web: { url: `${hook.url}/hooks/after-test` } });
    const inv = invocation('web');
    let outcome: HookOutcome | undefined;
    const running = run(runner, inv).then((o) => (outcome = o));
    await expect.poll(() => body).not.toBe('');
    expect(body).toBe(`{"DeploymentId":"${DEPLOYMENT}","LifecycleEventHookExecutionId":"${inv.executionId}"}`);
    expect(hook.lastHeaders?.['content-type']).toBe('application/json');
    // Delivered is not done: an async hook's outcome is only what it reports. An observation window, not
    // a handshake: had delivery settled the run, `outcome` would be set within these 50 ms.
    await new Promise((r) => setTimeout(r, 50));
    expect(outcome).toBeUndefined();
    expect(runner.pending().map((e) => e.executionId)).toContain(inv.executionId);
    runner.report(DEPLOYMENT, inv.executionId, 'Succeeded');
    await running;
    expect(outcome).toEqual({
      status: 'Succeeded',
      diagnostics: { errorCode: 'Success', message: 'Succeeded', scriptName: 'web', logTail: '' },
    });
    const recorded = runner.executions(DEPLOYMENT).find((e) => e.executionId === inv.executionId);
    expect(recorded).toMatchObject({ kind: 'http', status: 'Succeeded', event: 'AfterAllowTestTraffic' });
    expect(recorded!.endTime).toBeGreaterThanOrEqual(recorded!.startTime);
  });

  it('takes an AppSpec target that is itself a URL as an async hook', async () => {
    const hook = await startUpstream('hook', (_req, res) => res.writeHead(200).end());
    const runner = executor({});
    const inv = invocation(`${hook.url}/direct`);
    const running = run(runner, inv);
    await expect.poll(() => hook.hits).toBe(1);
    runner.report(DEPLOYMENT, inv.executionId, 'Failed');
    expect((await running).diagnostics).toMatchObject({ errorCode: 'ScriptFailed', scriptName: inv.target });
  });

  it('fails closed, at once, when an async hook refuses the invocation', async () => {
    const hook = await startUpstream('hook', (_req, res) => res.writeHead(500).end('boom'));
    const outcome = await run(executor({ web: { url: hook.url } }), invocation('web'));
    expect(outcome.status).toBe('Failed');
    expect(outcome.diagnostics).toMatchObject({ errorCode: 'UnknownError', logTail: 'boom' });
    expect(outcome.diagnostics.message).toContain('refused the invocation with 500');
  });

  it('fails closed when the hook URL is unreachable', async () => {
    const port = await closedPort();
    const outcome = await run(executor({ web: { url: `http://127.0.0.1:${port}/h` } }), invocation('web'));
    expect(outcome.status).toBe('Failed');
    expect(outcome.diagnostics.errorCode).toBe('UnknownError');
    expect(outcome.diagnostics.message).toMatch(/could not deliver .*ECONNREFUSED/);
  });

  it('in sync mode takes a 2xx as Succeeded and anything else as Failed', async () => {
    const hook = await startUpstream('hook', (req, res) => {
      if (req.url === '/ok') res.writeHead(204).end();
      else res.writeHead(500).end('smoke test failed: 3 of 10');
    });
    const runner = executor({
      ok: { url: `${hook.url}/ok`, mode: 'sync' },
      bad: { url: `${hook.url}/bad`, mode: 'sync' },
    });
    expect(await run(runner, invocation('ok'))).toEqual({
      status: 'Succeeded',
      diagnostics: { errorCode: 'Success', message: 'Succeeded', scriptName: 'ok', logTail: '' },
    });
    const bad = await run(runner, invocation('bad'));
    expect(bad.status).toBe('Failed');
    expect(bad.diagnostics).toMatchObject({ errorCode: 'ScriptFailed', logTail: 'smoke test failed: 3 of 10' });
    expect(bad.diagnostics.message).toContain('answered 500');
  });

  it('times a hanging sync hook out on the clock and drops the request', async () => {
    let closed = false;
    const hook = await startUpstream('hook', (req) => req.socket.on('close', () => (closed = true)));
    const clock = new ManualClock();
    const running = run(
      executor({ slow: { url: hook.url, mode: 'sync' } }, clock),
      invocation('slow', { timeoutMs: 5_000 }),
    );
    await expect.poll(() => hook.hits).toBe(1);
    await clock.advance(5_000);
    expect((await running).diagnostics).toMatchObject({
      errorCode: 'ScriptTimedOut',
      message: expect.stringContaining('did not answer within 5s'),
    });
    await expect.poll(() => closed).toBe(true);
  });

  it('stops waiting when the deployment is stopped', async () => {
    const hook = await startUpstream('hook', (_req, res) => res.writeHead(202).end());
    const runner = executor({ web: { url: hook.url } });
    const controller = new AbortController();
    const inv = invocation('web');
    const running = run(runner, inv, controller.signal);
    await expect.poll(() => hook.hits).toBe(1);
    controller.abort();
    expect((await running).diagnostics).toMatchObject({ errorCode: 'UnknownError', message: 'deployment stopped' });
    expect(runner.pending()).toEqual([]);
  });
});

describe('command hooks', () => {
  it('succeeds on exit 0 and keeps the output tail', async () => {
    const runner = executor({ smoke: { command: node('console.log("checking"); console.error("all good")') } });
    const outcome = await run(runner, invocation('smoke'));
    expect(outcome).toEqual({
      status: 'Succeeded',
      diagnostics: { errorCode: 'Success', message: 'Succeeded', scriptName: 'smoke', logTail: 'checking\nall good' },
    });
    expect(runner.executions(DEPLOYMENT).at(-1)).toMatchObject({ kind: 'command', status: 'Succeeded' });
  });

  it('fails with ScriptFailed, the exit code and the last 20 lines', async () => {
    const script = 'for (let i = 1; i <= 30; i++) console.log("line " + i); process.exit(3)';
    const outcome = await run(executor({ smoke: { command: node(script) } }), invocation('smoke'));
    expect(outcome.status).toBe('Failed');
    expect(outcome.diagnostics.errorCode).toBe('ScriptFailed');
    expect(outcome.diagnostics.message).toBe('command exited with code 3');
    const lines = outcome.diagnostics.logTail.split('\n');
    expect(lines).toHaveLength(20);
    expect([lines[0], lines.at(-1)]).toEqual(['line 11', 'line 30']);
  });

  it('gets CodeDeploy’s variables, the callback endpoint, its own env and the parent’s', async () => {
    const names = [
      'DEPLOYMENT_ID',
      'APPLICATION_NAME',
      'DEPLOYMENT_GROUP_NAME',
      'LIFECYCLE_EVENT',
      'LIFECYCLE_EVENT_HOOK_EXECUTION_ID',
      'SWITCHYARD_ENDPOINT',
      'AWS_ENDPOINT_URL_CODEDEPLOY',
      'HOOK_OWN',
      'PATH',
    ];
    const script = `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, process.env[n]]))))`;
    const runner = executor({ env: { command: node(script), env: { HOOK_OWN: 'yes', DEPLOYMENT_ID: 'overridden?' } } });
    const inv = invocation('env');
    const outcome = await run(runner, inv);
    expect(outcome.status).toBe('Succeeded');
    const env = JSON.parse(outcome.diagnostics.logTail) as Record<string, string>;
    expect(env).toEqual({
      DEPLOYMENT_ID: DEPLOYMENT,
      APPLICATION_NAME: 'shop',
      DEPLOYMENT_GROUP_NAME: 'shop-prod',
      LIFECYCLE_EVENT: 'AfterAllowTestTraffic',
      LIFECYCLE_EVENT_HOOK_EXECUTION_ID: inv.executionId,
      SWITCHYARD_ENDPOINT: 'http://127.0.0.1:9900',
      AWS_ENDPOINT_URL_CODEDEPLOY: 'http://127.0.0.1:9900',
      HOOK_OWN: 'yes',
      PATH: process.env['PATH'],
    });
  });

  it('runs a single string through /bin/sh, in cwd', async () => {
    const runner = executor({ sh: { command: 'echo "$LIFECYCLE_EVENT in $(pwd)" && exit 0', cwd: dir } });
    const outcome = await run(runner, invocation('sh'));
    expect(outcome.diagnostics.logTail).toMatch(/^AfterAllowTestTraffic in .*switchyard-hooks-/);
  });

  it('reports a missing or non-executable command as such', async () => {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const runner = executor({
      missing: { command: [join(dir, 'no-such-hook')] },
      noexec: { command: [script] },
      typo: { command: 'no-such-command-for-switchyard-hooks' },
    });
    const missing = await run(runner, invocation('missing'));
    expect(missing.diagnostics).toMatchObject({
      errorCode: 'ScriptMissing',
      message: expect.stringContaining('no-such-hook'),
    });
    expect((await run(runner, invocation('noexec'))).diagnostics.errorCode).toBe('ScriptNotExecutable');
    expect((await run(runner, invocation('typo'))).diagnostics.errorCode).toBe('ScriptMissing');
  });

  it('times out on the clock: SIGTERM, then SIGKILL after the grace for a command that ignores it', async () => {
    const ready = join(dir, 'stubborn.pid');
    // "started" is printed before the pid file is written, so it is in the pipe by the time the test reads the file.
    const script = `process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("started"); require("fs").writeFileSync(${JSON.stringify(ready)}, String(process.pid)); setInterval(() => {}, 1000)`;
    const clock = new ManualClock();
    const running = run(
      executor({ slow: { command: node(script) } }, clock),
      invocation('slow', { timeoutMs: 60_000 }),
    );
    await expect.poll(() => existsSync(ready), { timeout: 5_000 }).toBe(true);
    const pid = Number(readFileSync(ready, 'utf8'));
    // It ignores SIGTERM: if the test fails before the SIGKILL it checks, nothing else would stop it.
    onTestFinished(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    // In the pipe is not yet read. The runner reads it in this process's next I/O poll: two turns of the
    // event loop (setImmediate runs right after a poll) take in what the child wrote before the pid file.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    await clock.advance(60_000);
    const outcome = await running;
    expect(outcome.diagnostics).toMatchObject({
      errorCode: 'ScriptTimedOut',
      logTail: expect.stringContaining('started'),
    });
    expect(outcome.diagnostics.message).toContain('did not exit within 1m');
    // An observation window, not a handshake: SIGTERM alone must leave it running for these 100 ms (the
    // SIGKILL comes only after the grace, on the manual clock).
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(true);
    await clock.advance(200);
    await expect.poll(() => alive(pid), { timeout: 5_000 }).toBe(false);
  });

  it('kills the whole process group of a shell command on abort', async () => {
    const ready = join(dir, 'grandchild.pid');
    const script = `require("fs").writeFileSync(${JSON.stringify(ready)}, String(process.pid)); setInterval(() => {}, 1000)`;
    // The trailing `; true` keeps sh from exec'ing node, so node is a grandchild of ours.
    const command = `'${NODE}' -e '${script}'; true`;
    const runner = executor({ sh: { command } });
    const controller = new AbortController();
    const running = run(runner, invocation('sh'), controller.signal);
    await expect.poll(() => existsSync(ready), { timeout: 5_000 }).toBe(true);
    const pid = Number(readFileSync(ready, 'utf8'));
    controller.abort();
    expect((await running).diagnostics).toMatchObject({ errorCode: 'UnknownError', message: 'deployment stopped' });
    await expect.poll(() => alive(pid), { timeout: 5_000 }).toBe(false);
  });

  it("hands the caller's credentials to a command hook, under the hook's own env", async () => {
    const script =
      'console.log([process.env.SWITCHYARD_TOKEN, process.env.AWS_REGION, process.env.AWS_ACCESS_KEY_ID].join(" ")); process.exit(1)';
    const runner = executor({ env: { command: node(script), env: { AWS_REGION: 'eu-west-1' } } }, systemClock, {
      SWITCHYARD_TOKEN: 'tok',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKID',
    });
    expect((await run(runner, invocation('env'))).diagnostics.logTail).toContain('tok eu-west-1 AKID');
  });

  it('takes a report made while the command runs: the first outcome wins', async () => {
    const ready = join(dir, 'reporter.pid');
    const script = `require("fs").writeFileSync(${JSON.stringify(ready)}, String(process.pid)); setInterval(() => {}, 1000)`;
    const clock = new ManualClock();
    const runner = executor({ cb: { command: node(script) } }, clock);
    const inv = invocation('cb');
    const running = run(runner, inv);
    await expect.poll(() => existsSync(ready), { timeout: 5_000 }).toBe(true);
    const pid = Number(readFileSync(ready, 'utf8'));
    runner.report(DEPLOYMENT, inv.executionId, 'Succeeded');
    expect((await running).status).toBe('Succeeded');
    // Given the grace to exit by itself, then terminated.
    expect(alive(pid)).toBe(true);
    await clock.advance(200);
    await expect.poll(() => alive(pid), { timeout: 5_000 }).toBe(false);
    expect(runner.executions(DEPLOYMENT).find((e) => e.executionId === inv.executionId)?.status).toBe('Succeeded');
  });
});
