import { describe, expect, it } from 'vitest';

import {
  customDeploymentConfig,
  DEPLOYMENT_CONFIG_EXCEPTIONS,
  DeploymentConfigError,
  parseCreateDeploymentConfig,
} from '../../src/codedeploy/create-deployment-config.js';
import { DeploymentConfigInfo, toDeploymentConfigInfo } from '../../src/codedeploy/deployment-config-info.js';
import { DeploymentConfig } from '../../src/codedeploy/deployment-config-model.js';
import { defaultConfigName, PREDEFINED_CONFIGS, predefinedConfig } from '../../src/codedeploy/predefined-configs.js';
import { ShiftSpec } from '../../src/codedeploy/shift-spec.js';
import type { TrafficShift } from '../../src/codedeploy/traffic-shift.js';
import { isSwitchyardError } from '../../src/core/errors.js';

const META = { id: '5b0c4a3e-8f3e-4d5b-9f6a-0c1d2e3f4a5b', createTime: 1_732_230_000_123 };
/** 2014-11-12T00:00:00Z in epoch seconds. */
const OLD = 1_415_750_400;

const canary = (canaryPercentage: number, canaryInterval: number) => ({
  type: 'TimeBasedCanary',
  timeBasedCanary: { canaryPercentage, canaryInterval },
});
const linear = (linearPercentage: number, linearInterval: number) => ({
  type: 'TimeBasedLinear',
  timeBasedLinear: { linearPercentage, linearInterval },
});

/** The reference's table as GetDeploymentConfig shows it, with ids in order. */
const PREDEFINED_INFO: [string, 'Server' | 'Lambda' | 'ECS', Record<string, unknown>][] = [
  ['CodeDeployDefault.OneAtATime', 'Server', { minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } }],
  ['CodeDeployDefault.HalfAtATime', 'Server', { minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 50 } }],
  ['CodeDeployDefault.AllAtOnce', 'Server', { minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 0 } }],
  ['CodeDeployDefault.LambdaAllAtOnce', 'Lambda', { trafficRoutingConfig: { type: 'AllAtOnce' } }],
  ['CodeDeployDefault.LambdaCanary10Percent5Minutes', 'Lambda', { trafficRoutingConfig: canary(10, 5) }],
  ['CodeDeployDefault.LambdaCanary10Percent10Minutes', 'Lambda', { trafficRoutingConfig: canary(10, 10) }],
  ['CodeDeployDefault.LambdaCanary10Percent15Minutes', 'Lambda', { trafficRoutingConfig: canary(10, 15) }],
  ['CodeDeployDefault.LambdaCanary10Percent30Minutes', 'Lambda', { trafficRoutingConfig: canary(10, 30) }],
  ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', 'Lambda', { trafficRoutingConfig: linear(10, 1) }],
  ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', 'Lambda', { trafficRoutingConfig: linear(10, 2) }],
  ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', 'Lambda', { trafficRoutingConfig: linear(10, 3) }],
  ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', 'Lambda', { trafficRoutingConfig: linear(10, 10) }],
  ['CodeDeployDefault.ECSAllAtOnce', 'ECS', { trafficRoutingConfig: { type: 'AllAtOnce' } }],
  ['CodeDeployDefault.ECSCanary10Percent5Minutes', 'ECS', { trafficRoutingConfig: canary(10, 5) }],
  ['CodeDeployDefault.ECSCanary10Percent15Minutes', 'ECS', { trafficRoutingConfig: canary(10, 15) }],
  ['CodeDeployDefault.ECSLinear10PercentEvery1Minutes', 'ECS', { trafficRoutingConfig: linear(10, 1) }],
  ['CodeDeployDefault.ECSLinear10PercentEvery3Minutes', 'ECS', { trafficRoutingConfig: linear(10, 3) }],
];

function awsTypeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DeploymentConfigError);
    expect(isSwitchyardError(e, 'ARGUMENTS_INVALID')).toBe(true);
    return (e as DeploymentConfigError).awsType;
  }
  throw new Error('did not throw');
}

describe('predefined configurations', () => {
  it('are the 17 CodeDeployDefault configurations, in id order', () => {
    expect(PREDEFINED_CONFIGS.map((c) => c.name)).toEqual(PREDEFINED_INFO.map(([name]) => name));
    expect(PREDEFINED_CONFIGS.every((c) => c.predefined)).toBe(true);
  });

  it.each(PREDEFINED_INFO.map((row, i) => [...row, i + 1] as const))(
    '%s as GetDeploymentConfig shows it',
    (name, computePlatform, rest, n) => {
      const config = predefinedConfig(name);
      expect(config).toBeDefined();
      const info = toDeploymentConfigInfo(config!);
      expect(info).toStrictEqual({
        deploymentConfigId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
        deploymentConfigName: name,
        createTime: OLD,
        computePlatform,
        ...rest,
      });
      // Lambda and ECS configs show no minimumHealthyHosts at all, not even a zero.
      if (computePlatform !== 'Server') expect('minimumHealthyHosts' in info).toBe(false);
      else expect('trafficRoutingConfig' in info).toBe(false);
      expect(DeploymentConfigInfo.safeParse(info).success).toBe(true);
    },
  );

  it('are looked up by exact name only', () => {
    expect(predefinedConfig('CodeDeployDefault.ECSLinear10PercentEvery1Minutes')?.trafficRouting).toEqual({
      kind: 'linear',
      step: 1_000,
      intervalMs: 60_000,
    });
    expect(predefinedConfig('CodeDeployDefault.ECSLinear10PercentEvery1Minute')).toBeUndefined();
    expect(predefinedConfig('CodeDeployDefault.LambdaLinear10PercentEvery1Minutes')).toBeUndefined();
    expect(predefinedConfig('codedeploydefault.ecsallatonce')).toBeUndefined();
  });

  it('cannot be changed in place', () => {
    const config = predefinedConfig('CodeDeployDefault.ECSCanary10Percent5Minutes')!;
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.trafficRouting)).toBe(true);
  });

  it('give each platform its default', () => {
    expect(defaultConfigName('Server')).toBe('CodeDeployDefault.OneAtATime');
    expect(defaultConfigName('Lambda')).toBe('CodeDeployDefault.LambdaAllAtOnce');
    expect(defaultConfigName('ECS')).toBe('CodeDeployDefault.ECSAllAtOnce');
    for (const p of ['Server', 'Lambda', 'ECS'] as const) expect(predefinedConfig(defaultConfigName(p))).toBeDefined();
  });
});

describe('toDeploymentConfigInfo for switchyard-only shifts', () => {
  const info = (shift: TrafficShift) =>
    toDeploymentConfigInfo(customDeploymentConfig('Custom', 'ECS', shift, META)).trafficRoutingConfig;

  it.each<[string, TrafficShift, unknown]>([
    ['5.55% for 90 s → 6%, 2 min', { kind: 'canary', weight: 555, intervalMs: 90_000 }, canary(6, 2)],
    ['0.01% for 1 ms → 1%, 1 min', { kind: 'canary', weight: 1, intervalMs: 1 }, canary(1, 1)],
    ['99.99% → 99%', { kind: 'canary', weight: 9_999, intervalMs: 60_000 }, canary(99, 1)],
    ['12.5% → 13% (half rounds up)', { kind: 'canary', weight: 1_250, intervalMs: 120_000 }, canary(13, 2)],
    ['linear 0.5% every 30 s → 1%, 1 min', { kind: 'linear', step: 50, intervalMs: 30_000 }, linear(1, 1)],
    ['linear 20% every 2 min 1 ms → 3 min', { kind: 'linear', step: 2_000, intervalMs: 120_001 }, linear(20, 3)],
    ['all at once', { kind: 'allAtOnce' }, { type: 'AllAtOnce' }],
  ])('%s', (_what, shift, expected) => {
    expect(info(shift)).toStrictEqual(expected);
  });

  it('omits trafficRoutingConfig for explicit steps, which no AWS type describes', () => {
    const config = customDeploymentConfig(
      'Steps',
      'Lambda',
      { kind: 'steps', steps: [{ weight: 1_000, pauseMs: null }] },
      META,
    );
    expect(toDeploymentConfigInfo(config)).toStrictEqual({
      deploymentConfigId: META.id,
      deploymentConfigName: 'Steps',
      createTime: 1_732_230_000.123,
      computePlatform: 'Lambda',
    });
  });

  it('shows createTime in epoch seconds, keeping milliseconds as a fraction', () => {
    const config = customDeploymentConfig('T', 'ECS', { kind: 'allAtOnce' }, META);
    expect(toDeploymentConfigInfo(config).createTime).toBe(1_732_230_000.123);
  });

  it('refuses a name AWS would refuse', () => {
    expect(awsTypeOf(() => customDeploymentConfig('CodeDeployDefault.Mine', 'ECS', { kind: 'allAtOnce' }, META))).toBe(
      'InvalidDeploymentConfigNameException',
    );
    expect(awsTypeOf(() => customDeploymentConfig('has space', 'ECS', { kind: 'allAtOnce' }, META))).toBe(
      'InvalidDeploymentConfigNameException',
    );
  });
});

describe('parseCreateDeploymentConfig', () => {
  it('accepts the ECS canary from the reference', () => {
    const body = {
      deploymentConfigName: 'Canary25Percent45Minutes',
      computePlatform: 'ECS',
      trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 25, canaryInterval: 45 } },
    };
    const config = parseCreateDeploymentConfig(body, META);
    expect(config).toStrictEqual({
      name: 'Canary25Percent45Minutes',
      computePlatform: 'ECS',
      trafficRouting: { kind: 'canary', weight: 2_500, intervalMs: 45 * 60_000 },
      createTime: META.createTime,
      id: META.id,
      predefined: false,
    });
    expect(toDeploymentConfigInfo(config)).toStrictEqual({
      deploymentConfigId: META.id,
      deploymentConfigName: 'Canary25Percent45Minutes',
      createTime: 1_732_230_000.123,
      computePlatform: 'ECS',
      trafficRoutingConfig: body.trafficRoutingConfig,
    });
  });

  it('accepts the Lambda linear from the reference', () => {
    const body = {
      deploymentConfigName: 'Lin20Every2',
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 20, linearInterval: 2 } },
    };
    const config = parseCreateDeploymentConfig(body, META);
    expect(config.trafficRouting).toEqual({ kind: 'linear', step: 2_000, intervalMs: 120_000 });
    expect(toDeploymentConfigInfo(config).trafficRoutingConfig).toStrictEqual(body.trafficRoutingConfig);
  });

  it('accepts the Server FLEET_PERCENT config with a zonal config from the reference', () => {
    const body = {
      deploymentConfigName: 'ThreeQuartersHealthy',
      computePlatform: 'Server',
      minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 75 },
      zonalConfig: {
        firstZoneMonitorDurationInSeconds: 600,
        monitorDurationInSeconds: 300,
        minimumHealthyHostsPerZone: { type: 'HOST_COUNT', value: 1 },
      },
    };
    const config = parseCreateDeploymentConfig(body, META);
    expect(config.trafficRouting).toBeUndefined();
    expect(toDeploymentConfigInfo(config)).toStrictEqual({
      deploymentConfigId: META.id,
      deploymentConfigName: 'ThreeQuartersHealthy',
      minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 75 },
      createTime: 1_732_230_000.123,
      computePlatform: 'Server',
      zonalConfig: body.zonalConfig,
    });
  });

  it('defaults computePlatform to Server and ignores unknown members', () => {
    const config = parseCreateDeploymentConfig(
      { deploymentConfigName: 'Two', minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 }, colour: 'blue' },
      META,
    );
    expect(config.computePlatform).toBe('Server');
    expect(config.minimumHealthyHosts).toEqual({ type: 'HOST_COUNT', value: 2 });
    expect(config).not.toHaveProperty('colour');
  });

  it.each([
    ['AllAtOnce for Lambda', 'Lambda', { type: 'AllAtOnce' }, { kind: 'allAtOnce' }],
    ['the smallest canary', 'ECS', canary(1, 1), { kind: 'canary', weight: 100, intervalMs: 60_000 }],
    ['the largest linear', 'ECS', linear(99, 2880), { kind: 'linear', step: 9_900, intervalMs: 2880 * 60_000 }],
  ])('accepts %s', (_what, computePlatform, trafficRoutingConfig, shift) => {
    const config = parseCreateDeploymentConfig(
      { deploymentConfigName: 'ok', computePlatform, trafficRoutingConfig },
      META,
    );
    expect(config.trafficRouting).toEqual(shift);
  });

  it.each(['a', 'A-Za-z0-9+=,.@_-', 'x'.repeat(100), 'codedeploydefault.lowercase'])('accepts the name %j', (name) => {
    const body = { deploymentConfigName: name, minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } };
    expect(parseCreateDeploymentConfig(body, META).name).toBe(name);
  });

  const server = { minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 50 } };
  const ecs = (trafficRoutingConfig: unknown) => ({
    deploymentConfigName: 'c',
    computePlatform: 'ECS',
    trafficRoutingConfig,
  });
  const hosts = (type: string, value?: number) => ({ deploymentConfigName: 'c', minimumHealthyHosts: { type, value } });

  const INVALID: Record<string, [string, unknown][]> = {
    DeploymentConfigNameRequiredException: [
      ['no body', undefined],
      ['no name', { ...server }],
      ['a null name', { deploymentConfigName: null, ...server }],
      ['an empty name', { deploymentConfigName: '', ...server }],
    ],
    InvalidDeploymentConfigNameException: [
      ['a name of 101 characters', { deploymentConfigName: 'x'.repeat(101), ...server }],
      ['a name with a space', { deploymentConfigName: 'my config', ...server }],
      ['a name with a slash', { deploymentConfigName: 'a/b', ...server }],
      ['a non-ASCII name', { deploymentConfigName: 'café', ...server }],
      ['a name that is a number', { deploymentConfigName: 42, ...server }],
      ['a name in the reserved prefix', { deploymentConfigName: 'CodeDeployDefault.Mine', ...server }],
      ['a predefined name', { ...ecs({ type: 'AllAtOnce' }), deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' }],
    ],
    InvalidComputePlatformException: [
      ['an unknown platform', { deploymentConfigName: 'c', computePlatform: 'EC2' }],
      ['a platform in lower case', { deploymentConfigName: 'c', computePlatform: 'lambda' }],
    ],
    InvalidTrafficRoutingConfigurationException: [
      ['ECS without trafficRoutingConfig', { deploymentConfigName: 'c', computePlatform: 'ECS' }],
      ['an unknown type', ecs({ type: 'TimeBasedExponential' })],
      ['no type', ecs({ timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } })],
      ['canary without timeBasedCanary', ecs({ type: 'TimeBasedCanary' })],
      ['canary with timeBasedLinear', ecs({ ...linear(10, 5), type: 'TimeBasedCanary' })],
      ['canary with both sub-objects', ecs({ ...canary(10, 5), timeBasedLinear: linear(10, 5).timeBasedLinear })],
      ['linear without timeBasedLinear', ecs({ ...canary(10, 5), type: 'TimeBasedLinear' })],
      ['AllAtOnce with timeBasedCanary', ecs({ ...canary(10, 5), type: 'AllAtOnce' })],
      ['a canary of 0%', ecs(canary(0, 5))],
      ['a canary of 100%', ecs(canary(100, 5))],
      ['a canary of 10.5%', ecs(canary(10.5, 5))],
      ['a canary interval of 0', ecs(canary(10, 0))],
      ['a canary interval of 1.5 minutes', ecs(canary(10, 1.5))],
      ['a percentage as a string', ecs(canary('10' as unknown as number, 5))],
      ['a linear of 100%', ecs(linear(100, 1))],
      ['a linear interval of -1', ecs(linear(10, -1))],
      ['trafficRoutingConfig for Server', { ...hosts('HOST_COUNT', 1), trafficRoutingConfig: { type: 'AllAtOnce' } }],
    ],
    InvalidMinimumHealthyHostValueException: [
      ['Server without minimumHealthyHosts', { deploymentConfigName: 'c' }],
      ['FLEET_PERCENT 100', hosts('FLEET_PERCENT', 100)],
      ['FLEET_PERCENT -1', hosts('FLEET_PERCENT', -1)],
      ['HOST_COUNT -1', hosts('HOST_COUNT', -1)],
      ['HOST_COUNT 1.5', hosts('HOST_COUNT', 1.5)],
      ['MOST_CONCURRENCY', hosts('MOST_CONCURRENCY', 1)],
      ['no value', hosts('HOST_COUNT')],
      ['minimumHealthyHosts for Lambda', { ...ecs({ type: 'AllAtOnce' }), computePlatform: 'Lambda', ...server }],
    ],
    InvalidZonalDeploymentConfigurationException: [
      ['zonalConfig for ECS', { ...ecs({ type: 'AllAtOnce' }), zonalConfig: { monitorDurationInSeconds: 60 } }],
      ['a negative monitor duration', { ...hosts('HOST_COUNT', 1), zonalConfig: { monitorDurationInSeconds: -1 } }],
    ],
  };

  describe.each(Object.entries(INVALID))('answers %s to', (awsType, cases) => {
    it.each(cases)('%s', (_what, body) => {
      expect(awsTypeOf(() => parseCreateDeploymentConfig(body, META))).toBe(awsType);
    });
  });

  it('reports the first member in request order when several are wrong', () => {
    const body = { deploymentConfigName: 'bad name', computePlatform: 'Nope', trafficRoutingConfig: 3 };
    expect(awsTypeOf(() => parseCreateDeploymentConfig(body, META))).toBe('InvalidDeploymentConfigNameException');
    const body2 = { deploymentConfigName: 'ok', computePlatform: 'Nope', minimumHealthyHosts: 3 };
    expect(awsTypeOf(() => parseCreateDeploymentConfig(body2, META))).toBe('InvalidComputePlatformException');
  });

  it('says what is wrong and where', () => {
    expect(() => parseCreateDeploymentConfig(ecs(canary(100, 5)), META)).toThrow(
      /^trafficRoutingConfig\.timeBasedCanary\.canaryPercentage: /,
    );
    expect(() => parseCreateDeploymentConfig(ecs({ type: 'TimeBasedCanary' }), META)).toThrow(
      'trafficRoutingConfig.timeBasedCanary: is required for type TimeBasedCanary',
    );
    expect(() => parseCreateDeploymentConfig({ deploymentConfigName: 'CodeDeployDefault.X', ...server }, META)).toThrow(
      /must not start with CodeDeployDefault\./,
    );
  });

  it('maps every failure to an exception name the reference lists for CreateDeploymentConfig', () => {
    const listed = [
      'InvalidDeploymentConfigNameException',
      'DeploymentConfigNameRequiredException',
      'DeploymentConfigAlreadyExistsException',
      'InvalidMinimumHealthyHostValueException',
      'DeploymentConfigLimitExceededException',
      'InvalidComputePlatformException',
      'InvalidTrafficRoutingConfigurationException',
      'InvalidZonalDeploymentConfigurationException',
    ];
    for (const name of Object.values(DEPLOYMENT_CONFIG_EXCEPTIONS)) expect(listed).toContain(name);
  });

  it('builds configs that satisfy the DeploymentConfig schema', () => {
    const config = parseCreateDeploymentConfig(ecs(linear(10, 3)), META);
    expect(DeploymentConfig.safeParse(config).success).toBe(true);
  });
});

describe('ShiftSpec', () => {
  it.each<[string, unknown, TrafficShift]>([
    ['AllAtOnce', { type: 'AllAtOnce' }, { kind: 'allAtOnce' }],
    [
      'a canary to 0.01% with a seconds interval',
      { type: 'TimeBasedCanary', percent: 0.01, interval: '30s' },
      { kind: 'canary', weight: 1, intervalMs: 30_000 },
    ],
    [
      'a canary with an interval in ms',
      { type: 'TimeBasedCanary', percent: 12.34, interval: 1500 },
      { kind: 'canary', weight: 1_234, intervalMs: 1_500 },
    ],
    [
      'a linear in minutes',
      { type: 'TimeBasedLinear', percent: 33.33, interval: '15m' },
      { kind: 'linear', step: 3_333, intervalMs: 900_000 },
    ],
    [
      'steps with and without pauses',
      { steps: [{ weight: 0, pause: '10s' }, { weight: 5.5, pause: 0 }, { weight: 50 }, { weight: 100 }] },
      {
        kind: 'steps',
        steps: [
          { weight: 0, pauseMs: 10_000 },
          { weight: 550, pauseMs: 0 },
          { weight: 5_000, pauseMs: null },
          { weight: 10_000, pauseMs: 0 },
        ],
      },
    ],
    [
      'steps naming their type',
      { type: 'Steps', steps: [{ weight: 10, pause: '1m' }] },
      { kind: 'steps', steps: [{ weight: 1_000, pauseMs: 60_000 }] },
    ],
    [
      'a 100% step with a zero pause',
      { steps: [{ weight: 100, pause: '0s' }] },
      { kind: 'steps', steps: [{ weight: 10_000, pauseMs: 0 }] },
    ],
  ])('reads %s', (_what, spec, shift) => {
    expect(ShiftSpec.parse(spec)).toStrictEqual(shift);
  });

  const BETWEEN = 'must be more than 0 and less than 100';
  const DECIMALS = 'must be a percentage with at most two decimals';
  const canarySpec = (percent: unknown, interval: unknown = '1m') => ({ type: 'TimeBasedCanary', percent, interval });

  it.each<[string, unknown, (string | number)[], string | RegExp]>([
    ['an unknown type', { type: 'Exponential' }, ['type'], /^must be AllAtOnce, TimeBasedCanary or TimeBasedLinear/],
    ['no type and no steps', { percent: 10 }, ['steps'], /expected array/],
    ['a canary of 0', canarySpec(0), ['percent'], BETWEEN],
    ['a canary of 100', canarySpec(100), ['percent'], BETWEEN],
    ['three decimals', { ...canarySpec(0.005), type: 'TimeBasedLinear' }, ['percent'], DECIMALS],
    ['a percent as text', canarySpec('10'), ['percent'], DECIMALS],
    ['a zero interval', canarySpec(10, '0s'), ['interval'], 'must be longer than 0'],
    ['a bad duration', canarySpec(10, '5 minutes'), ['interval'], /must be a duration such as/],
    ['no interval', { type: 'TimeBasedLinear', percent: 10 }, ['interval'], /must be a duration/],
    ['an extra key', { type: 'AllAtOnce', percent: 10 }, [], /Unrecognized key/],
    ['no steps', { steps: [] }, ['steps'], 'needs at least one step'],
    ['a step over 100', { steps: [{ weight: 101 }] }, ['steps', 0, 'weight'], 'must be 0 to 100'],
    [
      'a falling step',
      { steps: [{ weight: 20, pause: '1s' }, { weight: 10 }] },
      ['steps', 1, 'weight'],
      /must not be below the step before it \(20%\)/,
    ],
    [
      '100% before the end',
      { steps: [{ weight: 100 }, { weight: 100 }] },
      ['steps', 0, 'weight'],
      '100% ends the shift, so it must be the last step',
    ],
    [
      'a pause after 100%',
      {
        steps: [
          { weight: 50, pause: '1m' },
          { weight: 100, pause: '5m' },
        ],
      },
      ['steps', 1, 'pause'],
      '100% ends the shift, so it takes no pause',
    ],
    ['a step with an unknown key', { steps: [{ weight: 10, wait: '1m' }] }, ['steps', 0], /Unrecognized key/],
  ])('refuses %s', (_what, spec, path, message) => {
    const result = ShiftSpec.safeParse(spec);
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path));
    expect(issue, JSON.stringify(result.error!.issues)).toBeDefined();
    if (typeof message === 'string') expect(issue!.message).toBe(message);
    else expect(issue!.message).toMatch(message);
  });
});
