/**
 * Fuzzes the AppSpec: mutated ECS and Lambda AppSpecs, truncated and junk YAML, alias bombs. Each is
 * accepted or refused with APPSPEC_INVALID and every problem at its line and column.
 */
import { describe, it } from 'vitest';
import { parse } from 'yaml';

import { parseAppSpec } from '../../src/appspec/parse.js';
import { fuzz, fuzzTimeout, hostileFile } from '../support/fuzz.js';
import { acceptedOrLocated, APPSPECS } from './files.js';

describe('fuzz: the AppSpec', () => {
  it(
    'appspec: every hostile AppSpec is accepted or refused at a line and column',
    async () => {
      await fuzz(
        'appspec',
        hostileFile(APPSPECS, (text) => parse(text) as unknown),
        ({ text }) =>
          acceptedOrLocated(() => parseAppSpec(text, 'appspec.yml'), text, 'appspec.yml', 'APPSPEC_INVALID'),
        { label: ({ kind }) => kind.split(/[:+]/)[0]! },
      );
    },
    fuzzTimeout(),
  );
});
