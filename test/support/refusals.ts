/**
 * Reading CodeDeploy refusals in unit tests: which exception (`awsType`) a call raised.
 */

/** The `awsType` of what `fn` throws, or undefined when it throws nothing (or nothing with one). */
export function awsTypeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { awsType?: string }).awsType;
  }
  return undefined;
}
