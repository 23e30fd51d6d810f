/**
 * The AppSpec parser against the reference's examples and every problem it must report, each as the CLI
 * prints it: file, line, column, schema path in canonical key names, message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { EC2_UNSUPPORTED, parseAppSpec } from '../../src/appspec/parse.js';
import { type AppSpec, AppSpecSchema, ECS_HOOK_EVENTS, LAMBDA_HOOK_EVENTS } from '../../src/appspec/schema.js';
import { formatIssue, isSwitchyardError, type SwitchyardError } from '../../src/core/errors.js';

/** The error parseAppSpec throws for `text`, or a failure when it accepts it. */
function rejection(text: string, file = 'appspec.yml'): SwitchyardError {
  try {
    parseAppSpec(text, file);
  } catch (err) {
    if (isSwitchyardError(err, 'APPSPEC_INVALID')) return err;
    throw err;
  }
  throw new Error('expected the AppSpec to be rejected');
}

/** Every problem in `text`, formatted as the CLI prints them. */
function problems(text: string, file = 'appspec.yml'): string[] {
  return rejection(text, file).issues.map(formatIssue);
}

// Properties start on line 6, their keys in column 9.
const ECS_HEAD = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
`;
const ECS_PROPERTIES = `        TaskDefinition: "web:7"
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080
`;
// Properties start on line 6, their keys in column 9.
const LAMBDA_HEAD = `version: 0.0
Resources:
  - myFunction:
      Type: AWS::Lambda::Function
      Properties:
`;
const LAMBDA_PROPERTIES = `        Name: myFunction
        Alias: live
        CurrentVersion: "1"
        TargetVersion: "2"
`;
/** An ECS AppSpec with valid properties; `hooks` from line 10. */
const ecsWithHooks = (hooks: string) => `${ECS_HEAD}${ECS_PROPERTIES}${hooks}`;
/** A Lambda AppSpec with valid properties; `hooks` from line 10. */
const lambdaWithHooks = (hooks: string) => `${LAMBDA_HEAD}${LAMBDA_PROPERTIES}${hooks}`;

const P = 'Resources[0].TargetService.Properties';
const LP = 'Resources[0].myFunction.Properties';

const REFERENCE_ECS_YAML = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:7"
        LoadBalancerInfo:
          ContainerName: "web"
          ContainerPort: 8080
Hooks:
  - BeforeInstall: "HookBeforeInstall"
  - AfterAllowTestTraffic: "HookSmokeTest"
  - AfterAllowTraffic: "arn:aws:lambda:us-east-1:111122223333:function:HookPostTraffic"
`;

const REFERENCE_ECS_JSON = `{"version":0.0,"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{
  "TaskDefinition":"arn:aws:ecs:us-east-1:111122223333:task-definition/web:7",
  "LoadBalancerInfo":{"ContainerName":"web","ContainerPort":8080}}}}],
 "Hooks":[{"BeforeInstall":"HookBeforeInstall"},{"AfterAllowTestTraffic":"HookSmokeTest"},
  {"AfterAllowTraffic":"arn:aws:lambda:us-east-1:111122223333:function:HookPostTraffic"}]}`;

const REFERENCE_ECS: AppSpec = {
  platform: 'ECS',
  resourceName: 'TargetService',
  taskDefinition: 'arn:aws:ecs:us-east-1:111122223333:task-definition/web:7',
  containerName: 'web',
  containerPort: 8080,
  hooks: [
    { event: 'BeforeInstall', target: 'HookBeforeInstall' },
    { event: 'AfterAllowTestTraffic', target: 'HookSmokeTest' },
    { event: 'AfterAllowTraffic', target: 'arn:aws:lambda:us-east-1:111122223333:function:HookPostTraffic' },
  ],
};

const REFERENCE_LAMBDA_YAML = `version: 0.0
Resources:
  - myFunction:
      Type: AWS::Lambda::Function
      Properties:
        Name: "myFunction"
        Alias: "live"
        CurrentVersion: "1"
        TargetVersion: "2"
Hooks:
  - BeforeAllowTraffic: "CodeDeployHook_pre"
  - AfterAllowTraffic: "CodeDeployHook_post"
`;

const REFERENCE_LAMBDA_JSON = `{
  "version": 0.0,
  "Resources": [
    { "myFunction": { "Type": "AWS::Lambda::Function",
        "Properties": { "Name": "myFunction", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2" } } }
  ],
  "Hooks": [ { "BeforeAllowTraffic": "CodeDeployHook_pre" }, { "AfterAllowTraffic": "CodeDeployHook_post" } ]
}`;

const REFERENCE_LAMBDA: AppSpec = {
  platform: 'Lambda',
  resourceName: 'myFunction',
  functionName: 'myFunction',
  alias: 'live',
  currentVersion: '1',
  targetVersion: '2',
  hooks: [
    { event: 'BeforeAllowTraffic', target: 'CodeDeployHook_pre' },
    { event: 'AfterAllowTraffic', target: 'CodeDeployHook_post' },
  ],
};

describe('parseAppSpec: the reference examples', () => {
  it('reads the ECS example in YAML and in JSON', () => {
    expect(parseAppSpec(REFERENCE_ECS_YAML, 'appspec.yml')).toEqual(REFERENCE_ECS);
    expect(parseAppSpec(REFERENCE_ECS_JSON, 'appspec.json')).toEqual(REFERENCE_ECS);
  });

  it('reads the Lambda example in YAML and in JSON', () => {
    expect(parseAppSpec(REFERENCE_LAMBDA_YAML, 'appspec.yml')).toEqual(REFERENCE_LAMBDA);
    expect(parseAppSpec(REFERENCE_LAMBDA_JSON, 'appspec.json')).toEqual(REFERENCE_LAMBDA);
  });

  it('returns what AppSpecSchema describes, frozen', () => {
    const spec = parseAppSpec(REFERENCE_ECS_YAML, 'appspec.yml');
    expect(AppSpecSchema.parse(spec)).toEqual(spec);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.hooks[0])).toBe(true);
  });

  it.each(['ecs.yml', 'lambda.yml', 'lambda.json'])('config/appspec/%s parses', (name) => {
    const file = join(import.meta.dirname, '..', '..', 'config', 'appspec', name);
    const spec = parseAppSpec(readFileSync(file, 'utf8'), `config/appspec/${name}`);
    expect(spec.platform).toBe(name.startsWith('ecs') ? 'ECS' : 'Lambda');
  });

  it('keeps the yml and json Lambda examples in step', () => {
    const dir = join(import.meta.dirname, '..', '..', 'config', 'appspec');
    const yml = parseAppSpec(readFileSync(join(dir, 'lambda.yml'), 'utf8'), 'lambda.yml');
    const json = parseAppSpec(readFileSync(join(dir, 'lambda.json'), 'utf8'), 'lambda.json');
    expect(json).toEqual(yml);
  });

  it('exports the hook events of each platform in lifecycle order', () => {
    expect(ECS_HOOK_EVENTS).toEqual([
      'BeforeInstall',
      'AfterInstall',
      'AfterAllowTestTraffic',
      'BeforeAllowTraffic',
      'AfterAllowTraffic',
    ]);
    expect(LAMBDA_HOOK_EVENTS).toEqual(['BeforeAllowTraffic', 'AfterAllowTraffic']);
  });
});

describe('parseAppSpec: what it accepts', () => {
  it('matches every key regardless of case, as the AWS reference pages write them', () => {
    const ecs = `VERSION: 0.0
resources:
  - TargetService:
      type: AWS::ECS::Service
      properties:
        taskdefinition: "web:7"
        loadbalancerinfo: { containername: web, CONTAINERPORT: 8080 }
        platformversion: LATEST
        networkconfiguration:
          awsvpcconfiguration:
            subnets: [subnet-1]
            securitygroups: [sg-1]
            assignpublicip: ENABLED
        capacityproviderstrategy:
          - { capacityprovider: FARGATE, base: 1, weight: 1 }
hooks:
  - beforeinstall: pre
  - AFTERALLOWTRAFFIC: post
`;
    expect(parseAppSpec(ecs, 'appspec.yml')).toEqual({
      platform: 'ECS',
      resourceName: 'TargetService',
      taskDefinition: 'web:7',
      containerName: 'web',
      containerPort: 8080,
      platformVersion: 'LATEST',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' },
      },
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }],
      hooks: [
        { event: 'BeforeInstall', target: 'pre' },
        { event: 'AfterAllowTraffic', target: 'post' },
      ],
    });
    const lambda = `version: 0.0
resources:
  - myFunction:
      type: AWS::Lambda::Function
      properties: { name: myFunction, alias: live, currentversion: "1", targetversion: "2" }
hooks:
  - beforeAllowTraffic: CodeDeployHook_pre
  - afterallowtraffic: CodeDeployHook_post
`;
    expect(parseAppSpec(lambda, 'appspec.yml')).toEqual(REFERENCE_LAMBDA);
  });

  it.each([
    ['version: 0', 'appspec.yml'],
    ['version: 0.0', 'appspec.yml'],
    ['version: "0.0"', 'appspec.yml'],
    ["version: '0'", 'appspec.yml'],
    ['{"version": 0.0, "Resources": []}', 'appspec.json'],
    ['{"version": "0.0", "Resources": []}', 'appspec.json'],
  ])('accepts %s as the version', (line, file) => {
    // Only the version line is under test: the empty Resources is the one problem left.
    const text = line.startsWith('{') ? line : `${line}\nResources: []\n`;
    expect(rejection(text, file).issues.map((issue) => issue.path)).toEqual(['Resources']);
  });

  it('reads Lambda versions written as bare numbers as text', () => {
    const spec = parseAppSpec(
      `${LAMBDA_HEAD}        Name: fn\n        Alias: live\n        CurrentVersion: 9\n        TargetVersion: 10\n`,
      'appspec.yml',
    );
    expect(spec).toMatchObject({ currentVersion: '9', targetVersion: '10' });
  });

  it('takes the resource logical name as written, whatever it is', () => {
    const spec = parseAppSpec(REFERENCE_LAMBDA_YAML.replace('myFunction:', 'Checkout-Fn_2:'), 'a.yml');
    expect(spec.resourceName).toBe('Checkout-Fn_2');
  });

  it('fills the defaults of a capacity provider strategy, shaped as ECS writes it', () => {
    const spec = parseAppSpec(
      `${ECS_HEAD}${ECS_PROPERTIES}        CapacityProviderStrategy:
          - CapacityProvider: FARGATE
            Base: 2
            Weight: 1
          - CapacityProvider: FARGATE_SPOT
            Weight: 4
`,
      'appspec.yml',
    );
    expect(spec).toMatchObject({
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE', base: 2, weight: 1 },
        { capacityProvider: 'FARGATE_SPOT', base: 0, weight: 4 },
      ],
    });
  });

  it('reads hooks as a list of single-key maps, in the order written', () => {
    const spec = parseAppSpec(
      ecsWithHooks(`Hooks:
  - AfterAllowTraffic: after
  - BeforeInstall: "http://127.0.0.1:9000/hook"
  - AfterInstall: arn:aws:lambda:us-east-1:111122223333:function:check
`),
      'appspec.yml',
    );
    expect(spec.hooks).toEqual([
      { event: 'AfterAllowTraffic', target: 'after' },
      { event: 'BeforeInstall', target: 'http://127.0.0.1:9000/hook' },
      { event: 'AfterInstall', target: 'arn:aws:lambda:us-east-1:111122223333:function:check' },
    ]);
  });

  it('tolerates hooks as a plain map, as AWS’s AppSpec Assistant writes Lambda hooks', () => {
    const spec = parseAppSpec(
      lambdaWithHooks(`Hooks:\n  AfterAllowTraffic: post\n  beforeallowtraffic: pre\n`),
      'appspec.yml',
    );
    expect(spec.hooks).toEqual([
      { event: 'AfterAllowTraffic', target: 'post' },
      { event: 'BeforeAllowTraffic', target: 'pre' },
    ]);
  });

  it.each([
    ['absent', ''],
    ['empty', 'Hooks:\n'],
    ['an empty list', 'Hooks: []\n'],
    ['an empty map', 'Hooks: {}\n'],
  ])('has no hooks when Hooks is %s', (_what, hooks) => {
    expect(parseAppSpec(lambdaWithHooks(hooks), 'appspec.yml').hooks).toEqual([]);
  });

  it('does not substitute environment variables', () => {
    process.env['SWITCHYARD_APPSPEC_TEST'] = 'substituted';
    try {
      const spec = parseAppSpec(
        REFERENCE_LAMBDA_YAML.replace('"myFunction"', '"${SWITCHYARD_APPSPEC_TEST}"'),
        'appspec.yml',
      );
      expect(spec).toMatchObject({ functionName: '${SWITCHYARD_APPSPEC_TEST}' });
    } finally {
      delete process.env['SWITCHYARD_APPSPEC_TEST'];
    }
  });
});

describe('parseAppSpec: the document', () => {
  it('throws APPSPEC_INVALID naming the file and the count', () => {
    const err = rejection('version: 1\nResources: []\n', 'deploy/appspec.yml');
    expect(err.code).toBe('APPSPEC_INVALID');
    expect(err.statusCode).toBe(400);
    expect(err.message).toBe('deploy/appspec.yml: 2 problems');
    expect(rejection('version: 0\nResources: []\n').message).toBe('appspec.yml: 1 problem');
  });

  it('reports a YAML syntax error where it stands', () => {
    expect(problems('version: 0.0\nResources:\n  - TargetService: {\n')).toEqual([
      expect.stringMatching(/^appspec\.yml:\d+:\d+: /),
    ]);
    expect(problems('version: 0.0\nversion: 0\n')).toEqual(['appspec.yml:2:1: Map keys must be unique']);
  });

  it.each([
    ['an empty file', ''],
    ['a list', '- version: 0.0\n'],
    ['a string', 'appspec\n'],
  ])('rejects %s', (_what, text) => {
    expect(problems(text)).toEqual(['appspec.yml:1:1: an AppSpec must be a map with version, Resources and Hooks']);
  });

  it.each([
    ['1', 'appspec.yml:1:10 version: must be 0.0, the only AppSpec version'],
    ['0.1', 'appspec.yml:1:10 version: must be 0.0, the only AppSpec version'],
    ['"1.0"', 'appspec.yml:1:10 version: must be 0.0, the only AppSpec version'],
    ['"0.0.0"', 'appspec.yml:1:10 version: must be 0.0, the only AppSpec version'],
    ['false', 'appspec.yml:1:10 version: must be 0.0, the only AppSpec version'],
  ])('rejects version %s', (version, expected) => {
    expect(problems(`version: ${version}\n${REFERENCE_LAMBDA_YAML.slice('version: 0.0\n'.length)}`)).toEqual([
      expected,
    ]);
  });

  it('requires version and Resources', () => {
    expect(problems('Hooks: []\n')).toEqual([
      'appspec.yml:1:1 version: is required',
      'appspec.yml:1:1 Resources: is required',
    ]);
  });

  it('rejects unknown top-level keys at the key', () => {
    expect(problems(`${REFERENCE_LAMBDA_YAML}Description: deploys v2\n`)).toEqual([
      'appspec.yml:13:1 Description: unknown key',
    ]);
  });

  it('gives an EC2/On-Premises AppSpec one clear problem', () => {
    const ec2 = `version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/app
hooks:
  BeforeInstall:
    - location: scripts/install_deps.sh
      timeout: 300
      runas: root
`;
    expect(problems(ec2)).toEqual([`appspec.yml:2:1: ${EC2_UNSUPPORTED}`]);
  });

  it('tells an EC2 AppSpec by its hooks or files even without os', () => {
    const hooksOnly = 'version: 0.0\nhooks:\n  ValidateService:\n    - location: scripts/health.sh\n';
    expect(problems(hooksOnly)).toEqual([`appspec.yml:2:1: ${EC2_UNSUPPORTED}`]);
    const filesOnly = 'version: 0.0\nfiles:\n  - source: /\n    destination: /srv\n';
    expect(problems(filesOnly)).toEqual([`appspec.yml:2:1: ${EC2_UNSUPPORTED}`]);
  });
});

describe('parseAppSpec: Resources', () => {
  it.each([
    ['an empty list', 'Resources: []\n', 'appspec.yml:2:12 Resources: must list one resource'],
    ['not a list', 'Resources: TargetService\n', 'appspec.yml:2:12 Resources: must be a list'],
    [
      'an entry that is not a map',
      'Resources:\n  - TargetService\n',
      'appspec.yml:3:5 Resources[0]: must be a map: a logical name such as TargetService over Type and Properties',
    ],
    [
      'an entry without its logical name',
      'Resources:\n  - Type: AWS::ECS::Service\n    Properties: {}\n',
      'appspec.yml:3:5 Resources[0]: needs a logical name above Type and Properties, such as `- TargetService:`',
    ],
    [
      'an entry with two names',
      'Resources:\n  - A: {}\n    B: {}\n',
      "appspec.yml:3:5 Resources[0]: must have one key, the resource's logical name (such as TargetService); found 2",
    ],
  ])('rejects %s', (_what, resources, expected) => {
    expect(problems(`version: 0.0\n${resources}`)).toEqual([expected]);
  });

  it('allows one resource only, and still checks the first', () => {
    const text = `${ECS_HEAD}        TaskDefinition: "web:7"
        LoadBalancerInfo: { ContainerName: web, ContainerPort: 0 }
  - OtherService:
      Type: AWS::ECS::Service
`;
    expect(problems(text)).toEqual([
      `appspec.yml:7:64 ${P}.LoadBalancerInfo.ContainerPort: must be a port number from 1 to 65535`,
      'appspec.yml:8:5 Resources[1]: only one resource is allowed: an AppSpec deploys one ECS service or one Lambda function',
    ]);
  });

  it.each([
    ['missing', '      Properties: {}\n', 'appspec.yml:3:5 Resources[0].TargetService.Type: is required'],
    [
      'another platform',
      '      Type: AWS::EC2::Instance\n      Properties: {}\n',
      'appspec.yml:4:13 Resources[0].TargetService.Type: must be AWS::ECS::Service or AWS::Lambda::Function',
    ],
    [
      'written in another case',
      '      Type: aws::ecs::service\n      Properties: {}\n',
      'appspec.yml:4:13 Resources[0].TargetService.Type: must be written AWS::ECS::Service (the type is case-sensitive)',
    ],
  ])('rejects a Type %s', (_what, body, expected) => {
    expect(problems(`version: 0.0\nResources:\n  - TargetService:\n${body}`)).toEqual([expected]);
  });

  it('rejects unknown keys in a resource, and a key given twice in two cases', () => {
    const text = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      type: AWS::ECS::Service
      Condition: IsProd
      Properties:
${ECS_PROPERTIES}`;
    expect(problems(text)).toEqual([
      'appspec.yml:5:7 Resources[0].TargetService.type: repeats Type (keys are matched regardless of case)',
      'appspec.yml:6:7 Resources[0].TargetService.Condition: unknown key',
    ]);
  });
});

describe('parseAppSpec: ECS properties', () => {
  const ecs = (properties: string) => problems(`${ECS_HEAD}${properties}`);

  it('requires TaskDefinition and LoadBalancerInfo, at the key of the map that lacks them', () => {
    expect(ecs('        PlatformVersion: LATEST\n')).toEqual([
      `appspec.yml:5:7 ${P}.TaskDefinition: is required`,
      `appspec.yml:5:7 ${P}.LoadBalancerInfo: is required`,
    ]);
    expect(ecs('        TaskDefinition: "web:7"\n        LoadBalancerInfo: {}\n')).toEqual([
      `appspec.yml:7:9 ${P}.LoadBalancerInfo.ContainerName: is required`,
      `appspec.yml:7:9 ${P}.LoadBalancerInfo.ContainerPort: is required`,
    ]);
  });

  it('wants strings as strings and says how to write them', () => {
    expect(
      ecs(`        TaskDefinition: 7
        LoadBalancerInfo:
          ContainerName: ""
          ContainerPort: 8080
        PlatformVersion: [LATEST]
`),
    ).toEqual([
      `appspec.yml:6:25 ${P}.TaskDefinition: must be a string (write "7" in quotes)`,
      `appspec.yml:8:26 ${P}.LoadBalancerInfo.ContainerName: must not be empty`,
      `appspec.yml:10:26 ${P}.PlatformVersion: must be a string`,
    ]);
  });

  it.each([
    ['"8080"', 'must be a number, written without quotes'],
    ['http', 'must be a number'],
    ['0', 'must be a port number from 1 to 65535'],
    ['65536', 'must be a port number from 1 to 65535'],
    ['80.5', 'must be a port number from 1 to 65535'],
  ])('rejects ContainerPort %s', (port, message) => {
    expect(
      ecs(`        TaskDefinition: "web:7"
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: ${port}
`),
    ).toEqual([`appspec.yml:9:26 ${P}.LoadBalancerInfo.ContainerPort: ${message}`]);
  });

  it('rejects unknown keys at every level', () => {
    expect(
      ecs(`        TaskDefinition: "web:7"
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080
          TargetGroup: tg-1
        Name: web
`),
    ).toEqual([
      `appspec.yml:10:11 ${P}.LoadBalancerInfo.TargetGroup: unknown key`,
      `appspec.yml:11:9 ${P}.Name: unknown key`,
    ]);
  });

  it('wants Subnets, SecurityGroups and AssignPublicIp together', () => {
    expect(
      ecs(`${ECS_PROPERTIES}        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets: []
            AssignPublicIp: yes
`),
    ).toEqual([
      `appspec.yml:11:11 ${P}.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups: is required: Subnets, SecurityGroups and AssignPublicIp are given together`,
      `appspec.yml:12:22 ${P}.NetworkConfiguration.AwsvpcConfiguration.Subnets: must list at least one subnet`,
      `appspec.yml:13:29 ${P}.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp: must be ENABLED or DISABLED`,
    ]);
    expect(ecs(`${ECS_PROPERTIES}        NetworkConfiguration: {}\n`)).toEqual([
      `appspec.yml:10:9 ${P}.NetworkConfiguration.AwsvpcConfiguration: is required`,
    ]);
  });

  it('allows Base on one capacity provider only', () => {
    expect(
      ecs(`${ECS_PROPERTIES}        CapacityProviderStrategy:
          - { CapacityProvider: FARGATE, Base: 1, Weight: 1 }
          - { CapacityProvider: FARGATE_SPOT, Base: 0, Weight: 1 }
`),
    ).toEqual([
      `appspec.yml:12:47 ${P}.CapacityProviderStrategy[1].Base: only one capacity provider may set Base; item 0 already does`,
    ]);
  });

  it('wants a Weight above 0 somewhere, each provider once, and whole numbers in range', () => {
    expect(
      ecs(`${ECS_PROPERTIES}        CapacityProviderStrategy:
          - { CapacityProvider: FARGATE }
          - { CapacityProvider: FARGATE, Weight: 0 }
`),
    ).toEqual([
      `appspec.yml:11:11 ${P}.CapacityProviderStrategy: at least one capacity provider needs a Weight above 0`,
      `appspec.yml:12:33 ${P}.CapacityProviderStrategy[1].CapacityProvider: is listed twice`,
    ]);
    expect(
      ecs(`${ECS_PROPERTIES}        CapacityProviderStrategy:
          - { CapacityProvider: FARGATE, Weight: 1001 }
          - { CapacityProvider: FARGATE_SPOT, Base: -1 }
          - { Weight: 1 }
        capacityProviderStrategy: []
`),
    ).toEqual([
      `appspec.yml:11:50 ${P}.CapacityProviderStrategy[0].Weight: must be a whole number from 0 to 1000`,
      `appspec.yml:12:53 ${P}.CapacityProviderStrategy[1].Base: must be a whole number from 0 to 100000`,
      `appspec.yml:13:13 ${P}.CapacityProviderStrategy[2].CapacityProvider: is required`,
      `appspec.yml:14:9 ${P}.capacityProviderStrategy: repeats CapacityProviderStrategy (keys are matched regardless of case)`,
    ]);
  });
});

describe('parseAppSpec: Lambda properties', () => {
  const lambda = (properties: string) => problems(`${LAMBDA_HEAD}${properties}`);

  it('requires Name, Alias, CurrentVersion and TargetVersion', () => {
    expect(lambda('        Name: fn\n')).toEqual([
      `appspec.yml:5:7 ${LP}.Alias: is required`,
      `appspec.yml:5:7 ${LP}.CurrentVersion: is required`,
      `appspec.yml:5:7 ${LP}.TargetVersion: is required`,
    ]);
  });

  it.each(['0', '"01"', '1.5', '-1', '"$LATEST"', 'true', '" 2"'])('rejects the version %s', (version) => {
    expect(
      lambda(`        Name: fn\n        Alias: live\n        CurrentVersion: "1"\n        TargetVersion: ${version}\n`),
    ).toEqual([
      `appspec.yml:9:24 ${LP}.TargetVersion: must be a published version number: a positive integer such as "1"`,
    ]);
  });

  it('wants TargetVersion to differ from CurrentVersion, however each is written', () => {
    expect(
      lambda('        Name: fn\n        Alias: live\n        CurrentVersion: 3\n        TargetVersion: "3"\n'),
    ).toEqual([`appspec.yml:9:24 ${LP}.TargetVersion: must differ from CurrentVersion (both are "3")`]);
  });

  it('rejects ECS properties in a Lambda resource', () => {
    expect(lambda(`${LAMBDA_PROPERTIES}        TaskDefinition: "web:7"\n`)).toEqual([
      `appspec.yml:10:9 ${LP}.TaskDefinition: unknown key`,
    ]);
  });
});

describe('parseAppSpec: Hooks', () => {
  it('rejects events another platform has, reserved events and unknown ones, at the event', () => {
    expect(
      problems(
        lambdaWithHooks(`Hooks:
  - BeforeInstall: a
  - AllowTraffic: b
  - ValidateService: c
  - BeforeAllowTrafic: d
`),
      ),
    ).toEqual([
      'appspec.yml:11:5 Hooks[0].BeforeInstall: BeforeInstall is not a hook event on Lambda (Lambda hooks: BeforeAllowTraffic, AfterAllowTraffic)',
      'appspec.yml:12:5 Hooks[1].AllowTraffic: AllowTraffic is run by CodeDeploy itself and cannot be hooked (Lambda hooks: BeforeAllowTraffic, AfterAllowTraffic)',
      'appspec.yml:13:5 Hooks[2].ValidateService: ValidateService is not a hook event on Lambda (Lambda hooks: BeforeAllowTraffic, AfterAllowTraffic)',
      'appspec.yml:14:5 Hooks[3].BeforeAllowTrafic: unknown hook event (Lambda hooks: BeforeAllowTraffic, AfterAllowTraffic)',
    ]);
  });

  it('names the ECS events when an ECS AppSpec hooks a wrong one', () => {
    expect(problems(ecsWithHooks('Hooks:\n  - Install: a\n'))).toEqual([
      'appspec.yml:11:5 Hooks[0].Install: Install is run by CodeDeploy itself and cannot be hooked (ECS hooks: BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic)',
    ]);
  });

  it('rejects an event hooked twice, however it is spelled, under its canonical name', () => {
    expect(problems(ecsWithHooks('Hooks:\n  - BeforeInstall: a\n  - AfterInstall: b\n  - beforeinstall: c\n'))).toEqual(
      ['appspec.yml:13:5 Hooks[2].BeforeInstall: BeforeInstall is hooked twice: each event runs one hook'],
    );
    expect(problems(lambdaWithHooks('Hooks:\n  beforeAllowTraffic: a\n  BeforeAllowTraffic: b\n'))).toEqual([
      'appspec.yml:12:3 Hooks.BeforeAllowTraffic: BeforeAllowTraffic is hooked twice: each event runs one hook',
    ]);
  });

  it('wants each hook to name its target', () => {
    expect(
      problems(
        ecsWithHooks(`Hooks:
  - BeforeInstall: ""
  - AfterInstall:
  - AfterAllowTestTraffic: [fn]
`),
      ),
    ).toEqual([
      'appspec.yml:11:20 Hooks[0].BeforeInstall: must name the hook: a function name or ARN, a hook from the config, or an http(s) URL',
      'appspec.yml:12:18 Hooks[1].AfterInstall: must name the hook: a function name or ARN, a hook from the config, or an http(s) URL',
      'appspec.yml:13:28 Hooks[2].AfterAllowTestTraffic: must name the hook: a function name or ARN, a hook from the config, or an http(s) URL',
    ]);
  });

  it('wants a list of single-key maps', () => {
    expect(problems(ecsWithHooks('Hooks: BeforeInstall\n'))).toEqual([
      'appspec.yml:10:8 Hooks: must be a list of hooks such as `- BeforeInstall: HookFunction`',
    ]);
    expect(
      problems(ecsWithHooks('Hooks:\n  - BeforeInstall\n  - { AfterInstall: a, BeforeAllowTraffic: b }\n')),
    ).toEqual([
      'appspec.yml:11:5 Hooks[0]: a hook is a map of one event to its target, such as `- BeforeInstall: HookFunction`',
      'appspec.yml:12:5 Hooks[1]: a hook is a map of one event to its target, such as `- BeforeInstall: HookFunction`',
    ]);
  });
});

describe('parseAppSpec: many problems at once', () => {
  it('lists every problem in file order', () => {
    const text = `version: 2
resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: ""
        LoadBalancerInfo: { ContainerName: web, ContainerPort: "80" }
        Cluster: default
Hooks:
  - AfterAllowTestTraffic: smoke
  - BeforeTraffic: x
Extra: true
`;
    const err = rejection(text);
    expect(err.message).toBe('appspec.yml: 6 problems');
    expect(err.issues.map(formatIssue)).toEqual([
      'appspec.yml:1:10 version: must be 0.0, the only AppSpec version',
      `appspec.yml:6:25 ${P}.TaskDefinition: must not be empty`,
      `appspec.yml:7:64 ${P}.LoadBalancerInfo.ContainerPort: must be a number, written without quotes`,
      `appspec.yml:8:9 ${P}.Cluster: unknown key`,
      'appspec.yml:11:5 Hooks[1].BeforeTraffic: unknown hook event (ECS hooks: BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic)',
      'appspec.yml:12:1 Extra: unknown key',
    ]);
  });

  it('points into a JSON file by line and column', () => {
    const json = `{
  "version": "0.0",
  "Resources": [
    { "fn": { "Type": "AWS::Lambda::Function",
              "Properties": { "Name": "fn", "Alias": "live", "CurrentVersion": 1, "TargetVersion": 1 } } }
  ],
  "Hooks": [ { "AfterAllowTestTraffic": "x" } ]
}`;
    expect(problems(json, 'appspec.json')).toEqual([
      'appspec.json:5:100 Resources[0].fn.Properties.TargetVersion: must differ from CurrentVersion (both are "1")',
      'appspec.json:7:16 Hooks[0].AfterAllowTestTraffic: AfterAllowTestTraffic is not a hook event on Lambda (Lambda hooks: BeforeAllowTraffic, AfterAllowTraffic)',
    ]);
  });
});
