/**
 * `switchyard demo` as a user runs it: two built-in versions behind the proxy from config/demo.yml, on
 * ports moved by environment variables, a canary from version 1 to version 2 with its progress, then
 * where to send requests; it stops cleanly on Ctrl-C, also in the middle of the canary.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';

import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

let cli: string;
beforeAll(async () => {
  cli = inject('cliMain');
}, 120_000);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** `n` distinct ports free right now: all bound at once on port 0, then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    servers.push(server);
    ports.push((server.address() as { port: number }).port);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface Demo {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly ports: { prod: number; test: number; control: number; blue: number; green: number };
}

/** `switchyard demo` in a child process, its five ports moved by the environment as a user would. */
function spawnDemo(ports: Demo['ports'], timeScale = 900): ChildProcess {
  return spawn(process.execPath, [cli, 'demo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // The demo's own 45 plays its 15-minute canary in 20 s; tests play it in one.
      DEMO_TIME_SCALE: String(timeScale),
      DEMO_PORT: String(ports.prod),
      DEMO_TEST_PORT: String(ports.test),
      DEMO_CONTROL_PORT: String(ports.control),
      DEMO_BLUE_PORT: String(ports.blue),
      DEMO_GREEN_PORT: String(ports.green),
    },
  });
}

/** Starts the demo and resolves once its output matches `ready`. */
async function startDemo(ready = /stop\s+Ctrl-C/, timeScale?: number): Promise<Demo> {
  const [prod, test, control, blue, green] = (await freePorts(5)) as [number, number, number, number, number];
  const child = spawnDemo({ prod, test, control, blue, green }, timeScale);
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ready.test(output)) resolve();
    };
    child.stdout!.on('data', check);
    void exit.then(({ code }) => reject(new Error(`demo exited with ${code} before it was ready:\n${output}`)));
  });
  return { child, output: () => output, exit, ports: { prod, test, control, blue, green } };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(url, { headers });
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

describe('switchyard demo', () => {
  it('runs a canary from version 1 to version 2, then serves version 2 and tells the user how', async () => {
    const demo = await startDemo();
    const prod = `http://127.0.0.1:${demo.ports.prod}`;
    const control = `http://127.0.0.1:${demo.ports.control}`;
    const out = demo.output();
    expect(out).toContain(`blue (version 1) at http://127.0.0.1:${demo.ports.blue}`);
    expect(out).toContain(`green (version 2) at http://127.0.0.1:${demo.ports.green}`);
    expect(out).toContain('{"1":100,"2":0}');
    expect(out).toContain('CodeDeployDefault.ECSCanary10Percent15Minutes');
    expect(out).toMatch(/d-\w{9} InProgress {2}event AllowTraffic {2}weight 10% on version 2/);
    expect(out).toMatch(/d-\w{9} Succeeded {2}event AfterAllowTraffic {2}weight 100% on version 2/);
    // The trickle saw both versions and nothing else: no error, no 5xx while traffic moved.
    const served = /served during the deployment: (.*)/.exec(out)?.[1] ?? '';
    expect(served).toMatch(/^version 1 × \d+, version 2 × \d+$/);
    expect(out).toContain(`curl -s ${prod}/`);
    expect(out).toContain(`${control}/v1/services/demo/weight`);
    // The dashboard it points at is there: the page, and the demo's deployment in its history's source.
    expect(out).toContain(`dashboard       ${control}/ `);
    const page = await request(`${control}/`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(await page.body.text()).toContain('/ui/app.js');
    const listed = await request(`${control}/v1/deployments?application=demo`);
    expect(((await listed.body.json()) as { deployments: { status: string }[] }).deployments).toEqual([
      expect.objectContaining({ status: 'Succeeded' }),
    ]);

    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push(await get(`${prod}/`));
    expect(new Set(answers)).toEqual(new Set(['hello from green (version 2)\n']));
    // The printed commands work: pin a version, the test listener, a shift through the control port.
    expect(await get(`${prod}/`, { 'x-switchyard-version': '1' })).toBe('hello from blue (version 1)\n');
    expect(await get(`http://127.0.0.1:${demo.ports.test}/`)).toBe('hello from green (version 2)\n');
    // The function it points at answers through the production listener, from its handler.
    expect(out).toContain(`a function      curl -s '${prod}/orders?name=you'`);
    expect(JSON.parse(await get(`${prod}/orders?name=you`))).toEqual({ message: 'hello, you', version: '1' });
    const json = JSON.parse(await get(`${prod}/path?q=1`, { accept: 'application/json' })) as object;
    expect(json).toMatchObject({ method: 'GET', path: '/path?q=1' });
    const shift = await request(`${control}/v1/services/demo/weight`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '1', percent: 10 }),
    });
    expect(shift.statusCode).toBe(200);
    await shift.body.dump();
    const shifted: string[] = [];
    for (let i = 0; i < 10; i++) shifted.push(await get(`${prod}/`));
    expect(shifted.filter((a) => a.startsWith('hello from blue'))).toHaveLength(1);

    const signalled = Date.now();
    demo.child.kill('SIGINT');
    expect(await demo.exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(3_000);
    // Everything it started is gone with it.
    for (const port of Object.values(demo.ports)) {
      await expect(request(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
  });

  it('stops cleanly on Ctrl-C in the middle of the canary', async () => {
    // At real time the canary holds 10% for 15 minutes.
    const demo = await startDemo(/weight 10% on version 2/, 1);
    // The split itself, from the control API: the demo's own trickle shares the round robin, so ten
    // requests of the test's need not be exactly one in ten.
    const view = JSON.parse(await get(`http://127.0.0.1:${demo.ports.control}/v1/services/demo`)) as {
      weights: { production: Record<string, number> };
    };
    expect(view.weights.production).toEqual({ '1': 90, '2': 10 });
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push(await get(`http://127.0.0.1:${demo.ports.prod}/`));
    expect(answers.every((a) => /^hello from (blue|green)/.test(a))).toBe(true);
    const signalled = Date.now();
    demo.child.kill('SIGINT');
    expect(await demo.exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(3_000);
    expect(demo.output()).not.toMatch(/error/i);
  });

  it('stops with exit code 1 and a clear message when a port is taken', async () => {
    const [taken] = (await freePorts(1)) as [number];
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', () => resolve()));
    try {
      const [prod, test, control, green] = (await freePorts(4)) as [number, number, number, number];
      const child = spawnDemo({ prod, test, control, blue: taken, green });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toMatch(/demo upstream cannot start/);
      expect(stderr).toMatch(/EADDRINUSE/);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
