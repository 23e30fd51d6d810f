/**
 * @module config/unknown-keys
 * CodeDeploy's request shapes are loose on the wire (a newer SDK may send members this version does not
 * know, and AWS ignores them), but a config file is written by hand, where an unknown key is a typo.
 * This walks a value against such a schema and names every key the schema does not have.
 */
import { z } from 'zod';

/** Calls `report` with the object path and name of every key in `value` that `schema` does not declare. */
export function unknownKeys(
  schema: z.ZodType,
  value: unknown,
  report: (path: (string | number)[], key: string) => void,
  path: (string | number)[] = [],
): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const shape = inner.shape as Record<string, z.ZodType>;
    for (const [key, child] of Object.entries(value)) {
      const member = shape[key];
      if (member === undefined) report(path, key);
      else unknownKeys(member, child, report, [...path, key]);
    }
  } else if (inner instanceof z.ZodArray) {
    if (!Array.isArray(value)) return;
    value.forEach((item, i) => unknownKeys(inner.element as z.ZodType, item, report, [...path, i]));
  }
}

/** The schema under optional, nullable, default and refinement wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return current;
    }
  }
}
