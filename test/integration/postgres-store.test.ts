/**
 * The PostgreSQL store against a real server (a throwaway one, see ../support/postgres.ts) and real
 * processes: what a leader wrote survives its SIGKILL once durable() said so, and a transaction is there
 * whole or not at all; a second store on the same database stands by (refusing writes, naming the leader)
 * and leads as soon as the leader's process dies; a leader whose session the server ends is fenced off
 * (onLost, nothing more committed); a database a newer switchyard wrote is refused; and `switchyard serve`
 * on `store: { postgres }` keeps a deployment's history across a SIGKILL, a second `serve` standing by.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { CreateDeploymentCommand, GetDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import pg from 'pg';
import { request } from 'undici';
import { describe, expect, inject, it, onTestFinished } from 'vitest';

import { parseConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/core/clock.js';
import { isSwitchyardError, type SwitchyardError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { connect, SERVER_KEEPALIVE } from '../../src/store/postgres-session.js';
import { PostgresStore, SCHEMA_VERSION } from '../../src/store/postgres-store.js';
import { ECS_APPSPEC } from '../support/appspecs.js';
import { sdkClient, until } from '../support/codedeploy.js';
import { POSTGRES_SKIP, postgresServer } from '../support/postgres.js';
import { alive } from '../support/processes.js';
import { serveChild } from '../support/serve.js';
import { tempDir } from '../support/temp-dir.js';
import { startUpstream } from '../support/upstream.js';

const WRITER = join(import.meta.dirname, '..', 'support', 'postgres-writer.mjs');
const postgres = postgresServer();
const temp = tempDir('switchyard-pg-it');

/** Opens a store on `url` as `name`, closed when the test ends. */
async function openStore(
  url: string,
  name: string,
  watch: { pingEveryMs?: number; answerWithinMs?: number } = {},
): Promise<PostgresStore> {
  const log = createLogger({ level: 'silent' });
  const store = await PostgresStore.open(url, {
    log,
    clock: systemClock,
    name,
    controlUrl: `http://${name}.test:1`,
    ...watch,
  });
  onTestFinished(async () => {
    store.close();
    await store.closed();
  });
  return store;
}

/** A writer process leading `url` (see postgres-writer.mjs); resolves once it leads. */
async function startWriter(url: string, name: string, mode: 'write' | 'idle') {
  const storeModule = join(dirname(inject('cliMain')), '..', 'store', 'postgres-store.js');
  const child: ChildProcess = spawn(process.execPath, [WRITER, storeModule, url, name, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  const closed = new Promise<void>((resolve) => child.stdout!.on('close', () => resolve()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(
    () => {
      if (child.exitCode !== null) throw new Error(`the writer exited (${child.exitCode}): ${err}`);
      return out;
    },
    (text) => text.startsWith('leading\n'),
    10_000,
  );
  /** The keys it printed as durable so far. */
  const keys = () => [...out.matchAll(/^k (\S+)$/gm)].map((m) => m[1]!);
  return { child, keys, closed, stderr: () => err };
}

/** What `fn` throws (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected it to throw');
}

/** The pid of the server process behind the session `name` opened on database `db`. */
async function sessionPid(db: string, applicationName: string): Promise<number> {
  const rows = await postgres
    .server()
    .admin<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [
      db,
      applicationName,
    ]);
  if (rows.length !== 1) throw new Error(`${rows.length} sessions named ${applicationName}`);
  return rows[0]!.pid;
}

/** How many sessions of database `db` wait on an advisory lock (a standby waiting for the lead). */
async function waitingOnTheLock(db: string): Promise<number> {
  const rows = await postgres
    .server()
    .admin(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
      [db],
    );
  return rows.length;
}

const dbOf = (url: string) => new URL(url).pathname.slice(1);

describe.skipIf(POSTGRES_SKIP)('the PostgreSQL store', () => {
  it('keeps every write durable() confirmed across a SIGKILL of the leader, and transactions whole', async () => {
    const url = await postgres.server().createDatabase();
    const writer = await startWriter(url, 'writer', 'write');
    await until(writer.keys, (keys) => keys.length >= 400, 15_000);
    writer.child.kill('SIGKILL');
    await writer.closed;
    const printed = writer.keys();

    const store = await openStore(url, 'after');
    await store.lead();
    const kept = new Set(store.list('deployment').map((d) => d.key));
    expect(printed.filter((key) => !kept.has(key))).toEqual([]);
    // Every transaction is there with its three documents, or not at all.
    const parts = new Map<string, number>();
    for (const key of kept) {
      const m = /^t-(\d+)-[abc]$/.exec(key);
      if (m) parts.set(m[1]!, (parts.get(m[1]!) ?? 0) + 1);
    }
    expect([...parts].filter(([, n]) => n !== 3)).toEqual([]);
    expect(kept.size).toBeGreaterThanOrEqual(printed.length);
  });

  it('stands by while another leads, refusing writes with its name, and leads once its process is killed', async () => {
    const url = await postgres.server().createDatabase();
    const writer = await startWriter(url, 'first-leader', 'idle');
    const standby = await openStore(url, 'second');
    expect(standby.role).toBe('standby');
    const refused = thrown(() => standby.put('deployment', 'd-1', {}));
    expect(isSwitchyardError(refused, 'STORE_NOT_LEADER')).toBe(true);
    expect((refused as Error).message).toContain(
      'first-leader leads it (its control API at http://127.0.0.1:9/first-leader)',
    );
    expect(thrown(() => standby.transaction(() => undefined))).toMatchObject({ code: 'STORE_NOT_LEADER' });
    expect(await standby.leader()).toMatchObject({
      name: 'first-leader',
      controlUrl: 'http://127.0.0.1:9/first-leader',
    });

    const leading = standby.lead();
    await until(
      () => waitingOnTheLock(dbOf(url)),
      (n) => n === 1,
      5_000,
    );
    const killedAt = performance.now();
    writer.child.kill('SIGKILL');
    await leading;
    const takeoverMs = performance.now() - killedAt;
    expect(standby.role).toBe('leader');
    // The kernel closes a killed process's socket: the server ends its session, and with it the lock, at once.
    expect(takeoverMs).toBeLessThan(2_000);
    standby.put('deployment', 'd-1', { status: 'Created' });
    await standby.durable();
    expect(await standby.leader()).toMatchObject({ name: 'second', controlUrl: 'http://second.test:1' });
    // Once it knows where its control API answers, the leader row says so to the next standby.
    standby.announce('http://127.0.0.1:4321');
    await standby.durable();
    const third = await openStore(url, 'third');
    expect(await third.leader()).toMatchObject({ name: 'second', controlUrl: 'http://127.0.0.1:4321' });
    expect(thrown(() => third.put('deployment', 'd-2', {}))).toMatchObject({
      message: expect.stringContaining('second leads it (its control API at http://127.0.0.1:4321)'),
    });
  });

  it('stops waiting for the lead when closed, and releases the lead when a leader closes', async () => {
    const url = await postgres.server().createDatabase();
    const leader = await openStore(url, 'closing-leader');
    await leader.lead();
    const standby = await openStore(url, 'closing-standby');
    const waiting = standby.lead().then(
      () => undefined,
      (err: unknown) => err,
    );
    await until(
      () => waitingOnTheLock(dbOf(url)),
      (n) => n === 1,
      5_000,
    );
    standby.close();
    expect(await waiting).toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringMatching(/closed while waiting/),
    });
    await standby.closed();
    // The server notices the closed connection while the session waits (client_connection_check_interval).
    await until(
      () => waitingOnTheLock(dbOf(url)),
      (n) => n === 0,
      5_000,
    );

    const next = await openStore(url, 'next');
    const leading = next.lead();
    await until(
      () => waitingOnTheLock(dbOf(url)),
      (n) => n === 1,
      5_000,
    );
    leader.put('deployment', 'last', { n: 1 });
    leader.close();
    await leading;
    // What the leader wrote before close() was committed before its session (and lock) ended.
    expect(next.get('deployment', 'last')).toEqual({ n: 1 });
  });

  it('asks the server to end its session within seconds of its host going silent, and never for idling', async () => {
    const url = await postgres.server().createDatabase();
    const session = await connect(url, 'settings', () => undefined);
    try {
      const show = async (name: string) => (await session.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name];
      expect(await show('tcp_keepalives_idle')).toBe(String(SERVER_KEEPALIVE.idle));
      expect(await show('tcp_keepalives_interval')).toBe(String(SERVER_KEEPALIVE.interval));
      expect(await show('tcp_keepalives_count')).toBe(String(SERVER_KEEPALIVE.count));
      expect(await show('idle_session_timeout')).toBe('0');
      expect(await show('statement_timeout')).toBe('0');
      expect(await show('client_connection_check_interval')).toBe('1s');
    } finally {
      await session.end();
    }
  });

  it('fences off a leader whose session the server ends: onLost, writes refused, nothing more committed', async () => {
    const url = await postgres.server().createDatabase();
    const leader = await openStore(url, 'fenced');
    await leader.lead();
    const lost = new Promise<SwitchyardError>((resolve) => leader.onLost(resolve));
    leader.put('deployment', 'before', { n: 1 });
    await leader.durable();
    const standby = await openStore(url, 'next');
    const leading = standby.lead();
    await until(
      () => waitingOnTheLock(dbOf(url)),
      (n) => n === 1,
      5_000,
    );

    const pid = await sessionPid(dbOf(url), 'switchyard fenced');
    await postgres.server().admin('SELECT pg_terminate_backend($1)', [pid]);
    // Written before or after the store has heard of its end: either refused or never committed.
    try {
      leader.put('deployment', 'after', { n: 2 });
    } catch (err) {
      expect(isSwitchyardError(err, 'STORE_LEADERSHIP_LOST')).toBe(true);
    }
    const reason = await lost;
    expect(reason.code).toBe('STORE_LEADERSHIP_LOST');
    expect(reason.message).toMatch(/no longer leads the store/);
    expect(leader.role).toBe('lost');
    expect(thrown(() => leader.put('deployment', 'later', {}))).toMatchObject({ code: 'STORE_LEADERSHIP_LOST' });
    await expect(leader.durable()).rejects.toMatchObject({ code: 'STORE_LEADERSHIP_LOST' });

    await leading;
    expect(standby.list('deployment').map((d) => d.key)).toEqual(['before']);
  });

  it('gives up the lead when the server stops answering a commit; the session keeps the lock to its end', async () => {
    const url = await postgres.server().createDatabase();
    // No checks of the idle session: the commit below is the one thing on the wire.
    const leader = await openStore(url, 'unanswered', { pingEveryMs: 0, answerWithinMs: 500 });
    await leader.lead();
    const lost = new Promise<SwitchyardError>((resolve) => leader.onLost(resolve));
    // The server process behind the session, stopped: it holds the lock but answers nothing, as a server
    // behind a broken network would look.
    const pid = await sessionPid(dbOf(url), 'switchyard unanswered');
    process.kill(pid, 'SIGSTOP');
    onTestFinished(() => {
      if (alive(pid)) process.kill(pid, 'SIGCONT');
    });
    const stoppedAt = performance.now();
    leader.put('deployment', 'unanswered', { n: 1 });
    expect((await lost).message).toMatch(/PostgreSQL did not answer a commit within 500 ms/);
    expect(performance.now() - stoppedAt).toBeLessThan(2_000);
    await expect(leader.durable()).rejects.toMatchObject({ code: 'STORE_LEADERSHIP_LOST' });
    expect(thrown(() => leader.put('deployment', 'later', {}))).toMatchObject({ code: 'STORE_LEADERSHIP_LOST' });

    // Resumed, the server runs the commit it had already received (durable() could not say it would), and
    // only then finds the connection cut and ends the session: the next leader, which waits for that, reads it.
    const next = await openStore(url, 'after-unanswered');
    const leading = next.lead();
    process.kill(pid, 'SIGCONT');
    await leading;
    expect(next.list('deployment')).toEqual([{ key: 'unanswered', value: { n: 1 } }]);
  });

  it('loses the lead when a commit fails, and says so to durable()', async () => {
    const url = await postgres.server().createDatabase();
    const leader = await openStore(url, 'failing');
    await leader.lead();
    const lost = new Promise<SwitchyardError>((resolve) => leader.onLost(resolve));
    // PostgreSQL's text cannot hold a NUL character: the commit fails on the server.
    leader.put('deployment', 'nul\u0000key', {});
    await expect(leader.durable()).rejects.toMatchObject({ code: 'STORE_LEADERSHIP_LOST' });
    expect((await lost).message).toMatch(/: a commit failed: /);
  });

  it('refuses a database a newer switchyard migrated, with STORE_FAILED', async () => {
    const url = await postgres.server().createDatabase();
    const first = await openStore(url, 'older');
    first.close();
    await first.closed();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    await raw.query('UPDATE switchyard_schema SET version = $1', [SCHEMA_VERSION + 1]);
    await raw.end();
    const log = createLogger({ level: 'silent' });
    const refused = await PostgresStore.open(url, { log, clock: systemClock, name: 'x', controlUrl: 'http://x' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isSwitchyardError(refused, 'STORE_FAILED')).toBe(true);
    expect((refused as Error).message).toMatch(
      new RegExp(`has schema version ${SCHEMA_VERSION + 1}, newer than this switchyard's ${SCHEMA_VERSION}`),
    );
  });

  it('serves on store: { postgres }, a second serve standing by; the history survives a SIGKILL', async () => {
    const url = await postgres.server().createDatabase();
    const blue = await startUpstream('blue');
    const green = await startUpstream('green');
    const file = join(temp.path(), 'serve.yml');
    const config = {
      listeners: { production: { host: '127.0.0.1', port: 0 } },
      control: { host: '127.0.0.1', port: 0 },
      logLevel: 'info',
      store: { postgres: url },
      services: [{ name: 'web', versions: { '1': { targets: [blue.url] }, '2': { targets: [green.url] } }, live: '1' }],
      applications: {
        web: {
          computePlatform: 'ECS',
          deploymentGroups: {
            'web-prod': {
              ecsServices: [{ clusterName: 'local', serviceName: 'web' }],
              deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
            },
          },
        },
      },
    };
    await writeFile(file, JSON.stringify(config));
    const first = await serveChild(file);
    const cd = sdkClient(first);
    const { deploymentId } = await cd.send(
      new CreateDeploymentCommand({
        applicationName: 'web',
        deploymentGroupName: 'web-prod',
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: ECS_APPSPEC } },
      }),
    );
    const done = await until(
      () => cd.send(new GetDeploymentCommand({ deploymentId })).then((r) => r.deploymentInfo!),
      (d) => d.status === 'Succeeded' || d.status === 'Failed',
      10_000,
      50,
    );
    expect(done.status).toBe('Succeeded');
    const events = await (await request(`${first.urls['control']}/v1/deployments/${deploymentId}/events`)).body.json();

    // A second serve on the same database waits for the lead before it serves anything.
    const second = serveChild(file);
    await until(
      () => waitingOnTheLock(dbOf(url)),
      (n) => n === 1,
      10_000,
    );
    first.child.kill('SIGKILL');
    const next = await second;
    expect(next.logs().some((l) => typeof l.msg === 'string' && l.msg.startsWith('standing by: '))).toBe(true);
    const again = sdkClient(next);
    expect((await again.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo).toEqual(done);
    expect(
      (await again.send(new ListDeploymentsCommand({ applicationName: 'web', deploymentGroupName: 'web-prod' })))
        .deployments,
    ).toEqual([deploymentId]);
    expect(await (await request(`${next.urls['control']}/v1/deployments/${deploymentId}/events`)).body.json()).toEqual(
      events,
    );
    expect(await (await request(next.urls['production']!)).body.text()).toBe('green');
    next.child.kill('SIGTERM');
    expect((await next.exit).code).toBe(0);
  });
});

describe('store: { postgres } in the config', () => {
  it('takes a postgres:// or postgresql:// URL and refuses anything else, saying what it takes', () => {
    const base =
      'listeners: { production: { port: 0 } }\n' +
      'services: [{ name: web, versions: { "1": { targets: ["http://127.0.0.1:1"] } }, live: "1" }]\n';
    for (const url of ['postgres://u@db.internal:5432/switchyard', 'postgresql:///switchyard?host=/run/postgresql']) {
      expect(parseConfig(`${base}store: { postgres: "${url}" }\n`, 'c.yml').store).toEqual({ postgres: url });
    }
    const wrong = thrown(() => parseConfig(`${base}store: { postgres: "mysql://db/x" }\n`, 'c.yml'));
    expect((wrong as SwitchyardError).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'store.postgres: must be a postgres:// or postgresql:// URL',
    ]);
    const neither = thrown(() => parseConfig(`${base}store: { mongo: x }\n`, 'c.yml'));
    expect((neither as SwitchyardError).issues.map((i) => i.message)).toEqual([
      'must be memory, { sqlite: FILE } or { postgres: URL }',
    ]);
  });
});
