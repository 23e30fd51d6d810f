/**
 * The control API's nesting bound on raw JSON text: objects and arrays count alike, brackets in strings
 * (escaped quotes included) do not, and a body far deeper than the stack allows is judged without error.
 */
import { describe, expect, it } from 'vitest';

import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/api/json-depth.js';

const nested = (levels: number) => '[{"a":'.repeat(levels / 2) + '0' + '}]'.repeat(levels / 2);

describe('nestsDeeperThan', () => {
  it('counts objects and arrays up to the limit and one past it', () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    expect(nestsDeeperThan(nested(64))).toBe(false);
    expect(nestsDeeperThan(nested(66))).toBe(true);
    expect(nestsDeeperThan('{"a":1}', 1)).toBe(false);
    expect(nestsDeeperThan('{"a":[]}', 1)).toBe(true);
    expect(nestsDeeperThan('[[],[],[]]', 2)).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ a: '{['.repeat(500) }))).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ a: '\\"[[[[' }), 1)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ a: 'x\\', b: [[1]] }), 2)).toBe(true);
  });

  it('judges a body nested far deeper than the stack without recursing', () => {
    expect(nestsDeeperThan(nested(1_000_000))).toBe(true);
  });
});
