/**
 * One raw HTTP exchange on a fresh connection to 127.0.0.1, every byte the test's: for probes that an
 * HTTP client would refuse to send or would tidy up.
 */
import { connect } from 'node:net';

/** Sends `parts` in order and resolves with everything received until the server closes (5 s at most). */
export function exchange(port: number, ...parts: (string | Buffer)[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close after ${Buffer.concat(got).length} bytes: ${Buffer.concat(got).toString('latin1')}`));
    }, 5_000);
    socket.on('data', (chunk: Buffer) => got.push(chunk));
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('end', () => {
      clearTimeout(timer);
      socket.end();
      resolve(Buffer.concat(got));
    });
    for (const p of parts) socket.write(p);
  });
}
