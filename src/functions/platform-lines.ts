/**
 * @module functions/platform-lines
 * The platform's own log lines and messages, in Lambda's exact shapes (TAB-separated, the REPORT line
 * ending in a TAB), so that anything that parses CloudWatch lines parses ours.
 */

/** `START RequestId: <id> Version: <version>` */
export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

/** `END RequestId: <id>` */
export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** The figures of one REPORT line; `initDurationMs` only on an environment's first invocation. */
export interface ReportFigures {
  readonly requestId: string;
  readonly durationMs: number;
  readonly memorySizeMb: number;
  readonly initDurationMs?: number;
}

/**
 * The REPORT line. Billed duration is the duration rounded up to the millisecond (today's rule); Max Memory
 * Used is the memory size, as the RIE prints it, since a child's peak use is not measured.
 */
export function reportLine(f: ReportFigures): string {
  const fields = [
    `REPORT RequestId: ${f.requestId}`,
    `Duration: ${f.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.max(1, Math.ceil(f.durationMs))} ms`,
    `Memory Size: ${f.memorySizeMb} MB`,
    `Max Memory Used: ${f.memorySizeMb} MB`,
  ];
  if (f.initDurationMs !== undefined) fields.push(`Init Duration: ${f.initDurationMs.toFixed(2)} ms`);
  return `${fields.join('\t')}\t`;
}

/** `Task timed out after N.NN seconds`, N being the configured timeout. */
export function timeoutMessage(timeoutSeconds: number): string {
  return `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/** Why a runtime process exited, in the platform's `Runtime.ExitError` wording. */
export function exitReason(exitCode: number | null, signal: string | null): string {
  if (signal !== null) return `Runtime exited with error: signal: ${signal === 'SIGKILL' ? 'killed' : signal}`;
  if (exitCode === 0) return 'Runtime exited without providing a reason';
  return `Runtime exited with error: exit status ${exitCode ?? 'unknown'}`;
}
