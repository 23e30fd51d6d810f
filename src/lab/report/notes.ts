/**
 * @module lab/report/notes
 * How to read each figure: one list, rendered into report.md and report.html alike.
 */

/** Each figure's name and what it means, in plain words. */
export const HOW_TO_READ: readonly (readonly [figure: string, meaning: string])[] = [
  ['outcomes', 'how the repeats ended: Succeeded, RolledBack (an alarm or a failure rolled it back), Stopped, Failed.'],
  [
    'failed',
    'client-visible failures during the whole run (5xx answers, resets, timeouts): the blast radius. With retry ' +
      'on the original, a request the replacement failed but the original then answered does not count.',
  ],
  ['failed p95', 'the 95th percentile over the repeats, by nearest rank: a bad repeat, not the typical one.'],
  ['users affected', 'distinct users who saw at least one failure.'],
  ['replacement failed of served', 'what the replacement itself failed, of what it was sent, retried or not.'],
  [
    'detection',
    'deployment time from the fault’s onset to the alarm firing, over the repeats where one fired; a dash when none did.',
  ],
  [
    'to 100%',
    'deployment time from the start of the traffic shift to 100% on the replacement, over the repeats that got ' +
      'there; a dash when none did.',
  ],
  [
    'Pareto',
    'a policy is on the front when no other policy is both at least as fast to 100% in the healthy scenarios and ' +
      'fails at most as many requests in the bad ones, and better on one of the two. A bad scenario injects faults ' +
      'or runs a replacement with errors, a capacity limit or a warm-up; a healthy one has none of these.',
  ],
  [
    'live against simulated',
    'medians agree when failed is within 25% of the live median or 10 requests, whichever is larger, and ' +
      'detection within 250 ms of real time (250 ms × the time scale of deployment time), or neither fired.',
  ],
  ['durations', 'deployment time, which runs time-scale times faster than the clock on the wall.'],
  ['timelines', 'one repeat per policy, the one with the median failed count: not the best, not the worst.'],
];
