import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { isSwitchyardError } from '../../src/core/errors.js';
import { substituteVars } from '../../src/core/yaml-source.js';

/** How `${...}` was found before: the reference for what the scan must match. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}/g;

const show = (name: string, fallback: string | undefined) => `<${name}|${fallback ?? 'none'}>`;

describe('substituteVars', () => {
  it('finds what the reference regex finds, on text made of its own pieces', () => {
    const piece = fc.constantFrom('${', '}', ':-', ':', '-', 'A', 'b_1', '9', '$', '{', ' ', '\n', '\r', '\u2028', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        expect(substituteVars(text, show)).toBe(text.replace(REFERENCE, (_all, n: string, f?: string) => show(n, f)));
      }),
      { numRuns: 2_000, seed: 11 },
    );
  });

  it('takes a default up to the first closing brace on its line', () => {
    expect(substituteVars('${A:-${B}} ${C:-x\n} ${D}', show)).toBe('<A|${B>} ${C:-x\n} <D|none>');
  });
});

describe('config files with hostile ${...}', () => {
  it('refuses a long line of unclosed ${NAME:- at once rather than after minutes of backtracking', () => {
    // 100 KB; the lazy regex took over 4 s on it, and a 1 MB file took minutes.
    const text = `services: "${'${A:-'.repeat(20_000)}"\n`;
    const started = performance.now();
    let code: string | undefined;
    try {
      parseConfig(text, 'x.yml', {});
    } catch (err) {
      if (isSwitchyardError(err)) code = err.code;
    }
    expect(code).toBe('CONFIG_INVALID');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('config durations past 2^53 ms', () => {
  it('a deployment configuration interval of 2^53 ms is reported at its line, not thrown as a ZodError', () => {
    const text = `listeners:
  production: { port: 8080 }
services:
  - name: web
    versions:
      "1": { targets: [http://127.0.0.1:9001] }
    live: "1"
deploymentConfigs:
  huge: { computePlatform: ECS, trafficRouting: { type: TimeBasedCanary, percent: 10, interval: 9007199254740992 } }
  days: { computePlatform: ECS, trafficRouting: { type: TimeBasedCanary, percent: 10, interval: 999999999999999999d } }
`;
    let err: unknown;
    try {
      parseConfig(text, 'x.yml', {});
    } catch (e) {
      err = e;
    }
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    const places = (err as { issues: { location?: { line: number }; path: string }[] }).issues.map(
      (i) => `${i.location?.line} ${i.path}`,
    );
    expect(places).toEqual([
      '9 deploymentConfigs.huge.trafficRouting.interval',
      '10 deploymentConfigs.days.trafficRouting.interval',
    ]);
  });
});
