/**
 * @module core/ids
 * Identifiers in CodeDeploy's shapes: deployment ids `d-` + 9 upper-case letters and digits, opaque
 * hook execution ids, UUIDs for applications, groups and configurations.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A new deployment id, e.g. `d-7K2QX9TLB`. */
export function deploymentId(): string {
  let id = 'd-';
  for (let i = 0; i < 9; i++) id += ALPHABET.charAt(randomInt(ALPHABET.length));
  return id;
}

/** A new lifecycle hook execution id: long and opaque, as CodeDeploy's are. */
export function hookExecutionId(): string {
  return randomBytes(48).toString('base64url');
}

/** A new UUID. */
export function uuid(): string {
  return randomUUID();
}
