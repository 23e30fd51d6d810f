/**
 * @module core/errors
 * One error family with stable codes. Each edge maps these once: the CLI to exit codes, the control API
 * to HTTP statuses (and later CodeDeploy `__type` names), the data plane to small JSON error responses.
 */

/** Every code switchyard raises, with the HTTP status an API answers it with. */
export const ERROR_CODES = {
  CONFIG_INVALID: 400,
  CONFIG_NOT_FOUND: 400,
  APPSPEC_INVALID: 400,
  EXPERIMENT_INVALID: 400,
  EXPERIMENT_FAILED: 500,
  ARGUMENTS_INVALID: 400,
  UNAUTHORIZED: 401,
  BODY_TOO_LARGE: 413,
  SERVICE_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  WEIGHTS_INVALID: 400,
  DEPLOYMENT_NOT_FOUND: 404,
  DEPLOYMENT_ACTIVE: 409,
  DEPLOYMENT_COMPLETED: 409,
  DEPLOYMENT_NOT_WAITING: 409,
  ALARM_NOT_FOUND: 404,
  LAB_REPORT_NOT_FOUND: 404,
  LAB_REPORT_INVALID: 400,
  HOST_NOT_ALLOWED: 403,
  NO_ROUTE: 404,
  NO_TARGET: 503,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  UPGRADE_UNSUPPORTED: 501,
  CONNECT_UNSUPPORTED: 501,
  CODING_UNSUPPORTED: 501,
  REQUEST_INVALID: 400,
  BAD_REQUEST: 400,
  REQUEST_TIMEOUT: 408,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  PROXY_OVERLOADED: 503,
  FAULT_INJECTED: 503,
  LISTEN_FAILED: 500,
  WORKER_FAILED: 500,
  PROTOCOL_MISMATCH: 400,
  DATA_PLANE_NOT_FOUND: 404,
  DATA_PLANE_CONNECTED: 409,
  DATA_PLANE_NAME_TAKEN: 409,
  VERSION_NOT_READY: 503,
  FUNCTION_THROTTLED: 429,
  STORE_FAILED: 500,
  STORE_NOT_LEADER: 503,
  STORE_LEADERSHIP_LOST: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is one of switchyard's error codes (one read off a message, say). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** Where in a file a problem is, 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One problem found in a file: where, which schema path, and what is wrong. */
export interface FileIssue {
  readonly location: SourceLocation | undefined;
  /** Schema path in the form `services[0].versions.v2.targets[0]`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

/** Formats an issue as `file:line:col path: message`, the form editors and terminals link. */
export function formatIssue(issue: FileIssue): string {
  const where = issue.location ? `${issue.location.file}:${issue.location.line}:${issue.location.column}` : undefined;
  const head = [where, issue.path].filter(Boolean).join(' ');
  return head ? `${head}: ${issue.message}` : issue.message;
}

/** The base of every error switchyard throws on purpose. */
export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly FileIssue[];

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; issues?: readonly FileIssue[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchyardError';
    this.code = code;
    this.issues = options?.issues ?? [];
  }

  /** The HTTP status an API answers this error with. */
  get statusCode(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): { error: ErrorCode; message: string; issues?: string[] } {
    return this.issues.length
      ? { error: this.code, message: this.message, issues: this.issues.map(formatIssue) }
      : { error: this.code, message: this.message };
  }
}

/** True when `e` is a SwitchyardError, optionally of one code. */
export function isSwitchyardError(e: unknown, code?: ErrorCode): e is SwitchyardError {
  return e instanceof SwitchyardError && (code === undefined || e.code === code);
}
