/**
 * @module core/freeze
 * Validated data (config, AppSpecs, predefined configurations) is frozen once so inner code can trust it
 * and never re-validate.
 */

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
