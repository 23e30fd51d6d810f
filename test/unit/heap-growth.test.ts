/**
 * The heap growth a proxying process sets for itself yields to the operator's: a --heap-growing-percent
 * among node's flags or in NODE_OPTIONS, in either spelling, is left as it is.
 */
import { describe, expect, it } from 'vitest';

import { limitHeapGrowth } from '../../src/core/heap-growth.js';

describe('limitHeapGrowth', () => {
  it("leaves the operator's setting alone, in node's flags or NODE_OPTIONS", () => {
    expect(limitHeapGrowth(['--heap-growing-percent=20'], '')).toBe(false);
    expect(limitHeapGrowth([], '--max-old-space-size=512 --heap_growing_percent=80')).toBe(false);
  });

  it('sets its own otherwise', () => {
    expect(limitHeapGrowth(['--enable-source-maps'], '--max-old-space-size=512')).toBe(true);
  });
});
