import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/app/config.js';
import { parseAppSpec } from '../../src/appspec/parse.js';
import { formatIssue, isSwitchyardError, type SwitchyardError } from '../../src/core/errors.js';
import { nestedTooDeepAt, substituteVars } from '../../src/core/yaml-source.js';

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

/** What parsing a one-service config with these `deploymentConfigs` entries (from line 9) throws. */
function refusal(deploymentConfigs: string): unknown {
  const text = `listeners:
  production: { port: 8080 }
services:
  - name: web
    versions:
      "1": { targets: [http://127.0.0.1:9001] }
    live: "1"
deploymentConfigs:${deploymentConfigs}`;
  try {
    parseConfig(text, 'x.yml', {});
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('config durations past 2^53 ms', () => {
  it('a deployment configuration interval of 2^53 ms is reported at its line, not thrown as a ZodError', () => {
    const err = refusal(`
  huge: { computePlatform: ECS, trafficRouting: { type: TimeBasedCanary, percent: 10, interval: 9007199254740992 } }
  days: { computePlatform: ECS, trafficRouting: { type: TimeBasedCanary, percent: 10, interval: 999999999999999999d } }
`);
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

describe('YAML nested too deep', () => {
  it('finds the first map or list past the limit, and nothing in ordinary text with brackets in scalars', () => {
    // The block map at the top is level 1, {b: …} 2, […] 3 and {c: d} 4.
    expect(nestedTooDeepAt('a: {b: [1, {c: d}]}\nq: "[[[["\nr: x[1]\n', 4)).toBeUndefined();
    expect(nestedTooDeepAt('a: {b: [1, {c: d}]}\n', 3)).toBe(11);
    expect(nestedTooDeepAt('[[[[[[]]]]]]', 5)).toBe(5);
  });

  it('refuses 100,000 levels at once as a problem at its place, for configs and AppSpecs alike', () => {
    const text = `services: ${'['.repeat(100_000)}`;
    for (const parse of [() => parseConfig(text, 'x.yml', {}), () => parseAppSpec(text, 'x.yml')]) {
      let err: unknown;
      try {
        parse();
      } catch (e) {
        err = e;
      }
      expect(isSwitchyardError(err)).toBe(true);
      expect((err as SwitchyardError).issues.map(formatIssue)).toEqual([
        'x.yml:1:74: maps and lists are nested deeper than 64 levels',
      ]);
    }
  });
});

describe('config percentages that round to nothing', () => {
  it('a canary percent of 1e-9 is reported at its line, not thrown as a ZodError', () => {
    const err = refusal(`
  tiny: { computePlatform: ECS, trafficRouting: { type: TimeBasedCanary, percent: 1e-9, interval: 90s } }
`);
    expect(isSwitchyardError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as SwitchyardError).issues.map(formatIssue)).toEqual([
      'x.yml:9:83 deploymentConfigs.tiny.trafficRouting.percent: must be more than 0 and less than 100',
    ]);
  });
});
