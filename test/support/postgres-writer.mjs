// A process that leads a PostgreSQL store and, in `write` mode, writes without end: single puts and
// three-document transactions, several in flight at once, printing each key (`k KEY`) once durable() has
// resolved for it; in `idle` mode it only leads. Prints `leading` first. Run with the built store module's
// path, the database URL, this leader's name and the mode; the tests kill it with SIGKILL.
import { setInterval } from 'node:timers';
import { pathToFileURL, URL } from 'node:url';

const [storeModule, url, name, mode] = process.argv.slice(2);
const base = pathToFileURL(storeModule);
const { PostgresStore } = await import(base.href);
const { systemClock } = await import(new URL('../core/clock.js', base).href);
const { createLogger } = await import(new URL('../core/logger.js', base).href);

const log = createLogger({ level: 'warn', destination: process.stderr });
const store = await PostgresStore.open(url, {
  log,
  clock: systemClock,
  name,
  controlUrl: `http://127.0.0.1:9/${name}`,
});
store.onLost((err) => {
  process.stderr.write(`lost: ${err.message}\n`);
  process.exit(3);
});
await store.lead();
process.stdout.write('leading\n');

if (mode === 'idle') {
  setInterval(() => undefined, 60_000);
} else {
  for (let i = 0; ; i++) {
    // Five writes at once, then durable(): a commit may carry several of them together.
    const keys = [];
    for (let j = 0; j < 5; j++) {
      const n = i * 5 + j;
      if (n % 2 === 0) {
        store.put('deployment', `p-${n}`, { n, pad: 'x'.repeat(500) });
        keys.push(`p-${n}`);
      } else {
        const parts = ['a', 'b', 'c'].map((part) => `t-${n}-${part}`);
        store.transaction(() => {
          for (const key of parts) store.put('deployment', key, { n, pad: 'y'.repeat(500) });
        });
        keys.push(...parts);
      }
    }
    await store.durable();
    process.stdout.write(keys.map((key) => `k ${key}\n`).join(''));
  }
}
