/**
 * @module functions/node-runtime/console-patch
 * Makes console output look as it does in Lambda's Node runtime (text format): each call one record,
 * `<ISO time>\t<request id>\t<LEVEL>\t<message>`, so logs read and parse the same as CloudWatch's.
 */
import { format } from 'node:util';

const LEVELS = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' } as const;

/** Replaces console's methods; `requestId` is read at each call (undefined during Init). */
export function patchConsole(requestId: () => string | undefined): void {
  for (const [method, level] of Object.entries(LEVELS)) {
    const stream = level === 'INFO' || level === 'DEBUG' ? process.stdout : process.stderr;
    // The console's methods are typed one by one; this writes every one of them the same way.
    (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) => {
      stream.write(`${formatRecord(new Date(), requestId(), level, format(...args))}\n`);
    };
  }
}

/** One record in the runtime's text format. */
export function formatRecord(at: Date, requestId: string | undefined, level: string, message: string): string {
  return `${at.toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${message}`;
}
