/**
 * Finding and running awscli v2 for the tests that drive switchyard with it.
 *
 * Needs an awscli v2 binary: /usr/bin/aws (Debian's `awscli` package), else the first `aws` on PATH whose
 * `--version` says aws-cli/2 (a v1 shim earlier on PATH is passed over). Without one those suites are
 * skipped, except under CI, which installs awscli (.ci/run) and so fails instead.
 */
import { execFile } from 'node:child_process';
import { access, constants, realpath } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long one awscli call may take before it is killed. */
const CALL_TIMEOUT_MS = 30_000;

/** The path of `candidate` when it is an executable awscli v2, else undefined. */
async function awsV2(candidate: string): Promise<string | undefined> {
  try {
    await access(candidate, constants.X_OK);
    const { stdout, stderr } = await run(candidate, ['--version'], {
      timeout: 15_000,
      env: { PATH: process.env['PATH'], AWS_PAGER: '' },
    });
    return `${stdout}${stderr}`.trimStart().startsWith('aws-cli/2') ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/** /usr/bin/aws if it is v2, else the first v2 `aws` on PATH (each real file tried once). */
async function findAwsV2(): Promise<string | undefined> {
  const candidates = [
    '/usr/bin/aws',
    ...(process.env['PATH'] ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, 'aws')),
  ];
  const tried = new Set<string>();
  for (const candidate of candidates) {
    const real = await realpath(candidate).catch(() => undefined);
    if (real === undefined || tried.has(real)) continue;
    tried.add(real);
    if (await awsV2(candidate)) return candidate;
  }
  return undefined;
}

/** The awscli v2 to run, or undefined when there is none. */
export const AWS = await findAwsV2();
export const IN_CI = Boolean(process.env['CI']);
export const MISSING =
  'no awscli v2 found (not /usr/bin/aws, and no `aws` on PATH whose --version starts with aws-cli/2); ' +
  'install it with `apt-get install awscli` (CI does so in .ci/run)';

/** Whether a suite that needs awscli should be skipped here; warns naming `suite` when it is. */
export function skipWithoutAws(suite: string): boolean {
  const skip = AWS === undefined && !IN_CI;
  if (skip) console.warn(`${suite} skipped: ${MISSING}`);
  return skip;
}

/** What one awscli call left. */
export interface AwsRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `aws deploy <args>` against `endpoint`, isolated from the user's own setup: `home` is an empty
 * folder of the test's, and `credentials` (default: any) are the only ones awscli sees.
 */
export async function awsDeploy(
  endpoint: string,
  home: string,
  args: readonly string[],
  credentials: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: 'local', secretAccessKey: 'local' },
): Promise<AwsRun> {
  if (AWS === undefined) throw new Error(`CI is set but ${MISSING}`);
  const env = {
    PATH: process.env['PATH'],
    HOME: home,
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    // Files that do not exist: no profile, endpoint or output setting of the user's can apply.
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_MAX_ATTEMPTS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  const argv = ['deploy', ...args, '--endpoint-url', endpoint, '--output', 'json'];
  try {
    const { stdout, stderr } = await run(AWS, argv, { env, timeout: CALL_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    // Not an exit code: awscli did not start, or was killed at the timeout.
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
