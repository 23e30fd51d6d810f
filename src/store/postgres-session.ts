/**
 * @module store/postgres-session
 * Connections to PostgreSQL as the store opens them: TCP keepalive both ways, and session settings that
 * keep a server's defaults from ending the leader's session under it (a statement or idle timeout) while
 * making the server notice a vanished host within seconds instead of hours.
 */
import pg from 'pg';

/**
 * Server-side keepalive for the store's own sessions, in seconds: a host that vanishes without closing its
 * socket has its session (and so its leadership) ended by PostgreSQL about IDLE + INTERVAL × COUNT = 13 s
 * after the last packet, instead of the server default (the kernel's, often 2 h 11 min). Each session may
 * set these for itself.
 */
export const SERVER_KEEPALIVE = { idle: 5, interval: 2, count: 4 } as const;

/** How often the server checks, while a statement runs (the wait for the lock), that the client is still there. */
const CONNECTION_CHECK_MS = 1_000;

/** How long connecting may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

/**
 * A connected client. `gone` hears of its end, whatever the cause (an error, the server closing it);
 * pg needs an error listener from the start, or an idle connection's failure ends the process.
 */
export async function connect(
  url: string,
  name: string,
  gone: (client: pg.Client, err: unknown) => void,
): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    keepAlive: true,
    keepAliveInitialDelayMillis: SERVER_KEEPALIVE.idle * 1000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: `switchyard ${name}`.slice(0, 63),
  });
  client.on('error', (err) => gone(client, err));
  client.on('end', () => gone(client, new Error('the connection closed')));
  try {
    await client.connect();
    await client.query(
      `SET tcp_keepalives_idle = ${SERVER_KEEPALIVE.idle}; SET tcp_keepalives_interval = ${SERVER_KEEPALIVE.interval};
       SET tcp_keepalives_count = ${SERVER_KEEPALIVE.count}; SET statement_timeout = 0; SET lock_timeout = 0`,
    );
    // Settings of PostgreSQL 14 and later (an older server does not know them): a server that ends idle
    // sessions must not end the leader's; and a session waiting for the lock notices within a second that
    // its process has gone (closed, killed), instead of queuing for the lock until it gets it.
    for (const setting of ['idle_session_timeout = 0', `client_connection_check_interval = ${CONNECTION_CHECK_MS}`]) {
      await client.query(`SET ${setting}`).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== '42704') throw err;
      });
    }
    return client;
  } catch (err) {
    destroy(client);
    throw err;
  }
}

/**
 * Ends a client's connection at once, without the goodbye a graceful end waits for (the server may be
 * unreachable): from here the session can send nothing more.
 */
export function destroy(client: pg.Client | undefined): void {
  // pg keeps its socket on `connection.stream`, outside its typings.
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } } | undefined)?.connection
    ?.stream;
  stream?.destroy();
}
