// @ts-check
/**
 * @module dashboard/api
 * Every call to the control API: JSON both ways, the bearer token kept in sessionStorage only, a 401
 * answered by asking for the token (once, however many calls are waiting) and trying again, and a
 * refusal thrown as the API's own code and message.
 */

/** Where the token is kept: for this tab's session only, never in localStorage. */
export const TOKEN_KEY = 'switchyard.token';

/** A refusal from the control API, with its stable code and its sentence. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The token in use, or null. */
export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Keeps the token for this session. */
export function setToken(/** @type {string} */ value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

/**
 * The Authorization header of every /v1 call, when there is a token.
 * @returns {Record<string, string>}
 */
export function authHeaders() {
  const value = token();
  return value ? { authorization: `Bearer ${value}` } : {};
}

/**
 * Turns an error answer into an ApiError (the API's body is `{ error | code, message }`).
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
export async function apiError(response) {
  /** @type {{ code?: unknown, error?: unknown, message?: unknown }} */
  let body = {};
  try {
    /** @type {unknown} */
    const json = await response.json();
    if (json !== null && typeof json === 'object') body = json;
  } catch {
    // Not JSON (a proxy's page, say): the status line stands in for the message.
  }
  const code = typeof body.code === 'string' ? body.code : typeof body.error === 'string' ? body.error : 'HTTP_ERROR';
  const message = typeof body.message === 'string' ? body.message : `${response.status} ${response.statusText}`;
  return new ApiError(response.status, code, message);
}

/** @type {(message: string) => Promise<void>} */
let prompt = async () => {
  throw new Error('no token prompt');
};
/** @type {Promise<void> | undefined} */
let pending;

/** Sets how a token is asked for: resolves once a token the API accepts is stored. */
export function setTokenPrompt(/** @type {(message: string) => Promise<void>} */ ask) {
  prompt = ask;
}

/** Asks for a token once for every caller that needs one at the same time. */
export function needToken(/** @type {string} */ message) {
  pending ??= prompt(message).finally(() => {
    pending = undefined;
  });
  return pending;
}

/**
 * Calls the control API and returns its JSON answer; throws ApiError for a refusal.
 * @template [T=unknown]
 * @param {string} path
 * @param {{ method?: string, body?: unknown, rawBody?: string }} [options] `rawBody`: JSON text sent as it is
 * @returns {Promise<T>}
 */
export async function api(path, options = {}) {
  for (;;) {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json', ...authHeaders() };
    /** @type {string | undefined} */
    let body;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, { method: options.method ?? 'GET', headers, body, cache: 'no-store' });
    if (response.status === 401) {
      const error = await apiError(response);
      await needToken(error.message);
      continue;
    }
    if (!response.ok) throw await apiError(response);
    if (response.status === 204) return /** @type {T} */ (undefined);
    /** @type {unknown} */
    const json = await response.json();
    return /** @type {T} */ (json);
  }
}

/**
 * Tries a token against the API without keeping it; resolves with the refusal's message, or null when
 * the token is accepted.
 * @param {string} candidate
 * @returns {Promise<string | null>}
 */
export async function checkToken(candidate) {
  const response = await fetch('/v1/alarms', {
    headers: { accept: 'application/json', authorization: `Bearer ${candidate}` },
    cache: 'no-store',
  });
  if (response.status === 401 || response.status === 403) return (await apiError(response)).message;
  return null;
}
