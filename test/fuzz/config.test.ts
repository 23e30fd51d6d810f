/**
 * Fuzzes the config file: mutated examples, truncated and junk YAML, alias bombs. Each is accepted or
 * refused with CONFIG_INVALID and every problem at its line and column; none crashes or hangs.
 */
import { describe, it } from 'vitest';
import { parse } from 'yaml';

import { parseConfig } from '../../src/app/config.js';
import { fuzz, fuzzTimeout, hostileFile } from '../support/fuzz.js';
import { acceptedOrLocated, CONFIGS } from './files.js';

describe('fuzz: the config file', () => {
  it(
    'config: every hostile file is accepted or refused at a line and column',
    async () => {
      await fuzz(
        'config',
        hostileFile(CONFIGS, (text) => parse(text) as unknown),
        ({ text }) => acceptedOrLocated(() => parseConfig(text, 'fuzz.yml', {}), text, 'fuzz.yml', 'CONFIG_INVALID'),
        { label: ({ kind }) => kind.split(/[:+]/)[0]! },
      );
    },
    fuzzTimeout(),
  );
});
