/**
 * The exception names switchyard answers with are CodeDeploy's own: each one in the typed table is a
 * class the pinned AWS SDK exports, so the SDK raises it by name and a client can catch it.
 */
import * as sdk from '@aws-sdk/client-codedeploy';
import { describe, expect, it } from 'vitest';

import { CODEDEPLOY_EXCEPTIONS, PROTOCOL_ERRORS } from '../../src/codedeploy/exceptions.js';

describe('CodeDeploy exception names', () => {
  it('every name in the table is an exception class the AWS SDK exports', () => {
    const exported = new Set(Object.keys(sdk));
    expect(CODEDEPLOY_EXCEPTIONS.filter((name) => !exported.has(name))).toEqual([]);
  });

  it('the SDK maps each name back to its own class', () => {
    for (const name of CODEDEPLOY_EXCEPTIONS) {
      const Exception = (sdk as unknown as Record<string, new (o: object) => Error>)[name]!;
      expect(new Exception({ message: 'x', $metadata: {} }).name).toBe(name);
    }
  });

  it('protocol errors are the shared ones no CodeDeploy class carries', () => {
    const exported = new Set(Object.keys(sdk));
    expect(PROTOCOL_ERRORS.filter((name) => exported.has(name))).toEqual([]);
  });
});
