/**
 * Fuzzes the policy lab's experiment file: mutated examples, truncated and junk YAML, alias bombs. Each
 * is accepted or refused with EXPERIMENT_INVALID and every problem at its line and column; none crashes
 * or hangs.
 */
import { describe, it } from 'vitest';
import { parse } from 'yaml';

import { parseExperiment } from '../../src/lab/experiment.js';
import { fuzz, fuzzTimeout, hostileFile } from '../support/fuzz.js';
import { acceptedOrLocated, EXPERIMENTS } from './files.js';

describe('fuzz: the experiment file', () => {
  it(
    'experiment: every hostile file is accepted or refused at a line and column',
    async () => {
      await fuzz(
        'experiment',
        hostileFile(EXPERIMENTS, (text) => parse(text) as unknown),
        ({ text }) =>
          acceptedOrLocated(() => parseExperiment(text, 'fuzz.yml', {}), text, 'fuzz.yml', 'EXPERIMENT_INVALID'),
        { label: ({ kind }) => kind.split(/[:+]/)[0]! },
      );
    },
    fuzzTimeout(),
  );
});
