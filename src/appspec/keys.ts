/**
 * @module appspec/keys
 * Case-insensitive keys. AWS's own documentation writes AppSpec keys both as `Resources` and as
 * `resources`, so every known key is matched regardless of case. The schemas see canonical names; the
 * file keeps its own spelling, and these helpers translate between the two so that a problem is still
 * reported where it stands in the file.
 */

/** Whether `value` is a map (a plain object, as YAML and JSON maps read). */
export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The key of `map` that stands for `name`: the exact spelling if present, else the first one equal
 * regardless of case. Later case-variants are left over as duplicates.
 */
export function findKey(map: Record<string, unknown>, name: string): string | undefined {
  if (Object.hasOwn(map, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(map).find((key) => key.toLowerCase() === lower);
}

/**
 * A copy of `value` (when it is a map) with the keys that stand for `names` renamed to them. Keys that
 * match no name, and case-variants of a key already taken, keep their spelling, so that the strict
 * schema behind reports them as unknown.
 */
export function canonicalKeys(names: readonly string[]): (value: unknown) => unknown {
  return (value) => {
    if (!isMap(value)) return value;
    const renamed = new Map<string, string>();
    for (const name of names) {
      const key = findKey(value, name);
      if (key !== undefined) renamed.set(key, name);
    }
    // fromEntries defines own properties: a key `__proto__` stays a key (and an unknown one).
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [renamed.get(key) ?? key, item]));
  };
}

/**
 * The path in the file for a path in canonical names, as far as the file has it: `exists` is false
 * when the last parts name something the file does not contain; `node` is what the returned path holds.
 */
export function filePath(
  root: unknown,
  path: readonly PropertyKey[],
): { path: (string | number)[]; exists: boolean; node: unknown } {
  const out: (string | number)[] = [];
  let node = root;
  for (const part of path) {
    if (Array.isArray(node)) {
      if (typeof part !== 'number' || part >= node.length) return { path: out, exists: false, node };
      out.push(part);
      node = node[part];
      continue;
    }
    const key = isMap(node) ? findKey(node, String(part)) : undefined;
    if (key === undefined || !isMap(node)) return { path: out, exists: false, node };
    out.push(key);
    node = node[key];
  }
  return { path: out, exists: true, node };
}

/** Another key of `map` equal to `key` regardless of case, spelled differently. */
export function caseTwin(map: unknown, key: string): string | undefined {
  if (!isMap(map)) return undefined;
  const lower = key.toLowerCase();
  return Object.keys(map).find((other) => other !== key && other.toLowerCase() === lower);
}

/** The value under the key of `map` that stands for `name`, if `map` is a map and has one. */
export function field(map: unknown, name: string): unknown {
  if (!isMap(map)) return undefined;
  const key = findKey(map, name);
  return key === undefined ? undefined : map[key];
}
