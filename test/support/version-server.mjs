// A stand-in for a user's service, started by switchyard as a version's `command`: it listens on PORT
// and answers with its version, instance and pid. Environment knobs make it misbehave on purpose:
// EXIT_AT_START=N exits with code N before listening; UNHEALTHY=1 answers /health with 503;
// PORT_TAKEN_ONCE=FILE fails as a lost race for its port does (EADDRINUSE), the first time only (it
// leaves FILE behind to know).
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const exitCode = process.env.EXIT_AT_START;
if (exitCode !== undefined) {
  console.error(`refusing to start (EXIT_AT_START=${exitCode})`);
  process.exit(Number(exitCode));
}
const takenOnce = process.env.PORT_TAKEN_ONCE;
if (takenOnce !== undefined && !existsSync(takenOnce)) {
  writeFileSync(takenOnce, `${process.env.PORT}\n`);
  console.error(`Error: listen EADDRINUSE: address already in use 127.0.0.1:${process.env.PORT}`);
  process.exit(1);
}
const name = `${process.env.SWITCHYARD_VERSION}#${process.env.SWITCHYARD_INSTANCE} pid ${process.pid}`;
const server = createServer((req, res) => {
  if (req.url === '/health' && process.env.UNHEALTHY === '1') {
    res.writeHead(503).end('not yet\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`${name}\n`);
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening on ${process.env.PORT}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
