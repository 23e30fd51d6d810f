/**
 * @module core/url
 * What counts as a URL switchyard will call: targets, hooks, trigger webhooks.
 */

/** Whether `value` is an absolute http: or https: URL with a host. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
