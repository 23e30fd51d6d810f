/**
 * @module api/codedeploy/applications
 * CreateApplication, GetApplication, ListApplications, DeleteApplication, BatchGetApplications. An
 * application's compute platform decides what its groups and deployments may be: ECS and Lambda deploy;
 * Server applications and groups can be created (scripts written for AWS may set them up) but their
 * deployments are refused, as switchyard shifts traffic for ECS and Lambda only.
 */
import { z } from 'zod';

import { ComputePlatform } from '../../codedeploy/deployment-config-model.js';
import { CodeDeployRefusal } from '../../codedeploy/exceptions.js';
import type { Operation } from './context.js';
import { applicationInfo, page, parseRequest, requiredString } from './shapes.js';

const BATCH_LIMIT = 100;

const CreateApplicationRequest = z.object({
  computePlatform: ComputePlatform.default('Server'),
  tags: z.array(z.object({ Key: z.string().optional(), Value: z.string().optional() })).optional(),
});

/** CreateApplication; the compute platform defaults to Server, as in CodeDeploy. */
export const createApplication: Operation = ({ registry }, body) => {
  const name = requiredString(body, 'applicationName', 'ApplicationName');
  const request = parseRequest(CreateApplicationRequest, body, {
    computePlatform: 'InvalidComputePlatformException',
    tags: 'InvalidTagsToAddException',
  });
  return { applicationId: registry.createApplication(name, request.computePlatform).id };
};

/** GetApplication. */
export const getApplication: Operation = ({ registry }, body) => {
  const name = requiredString(body, 'applicationName', 'ApplicationName');
  return { application: applicationInfo(registry.application(name)) };
};

/** ListApplications: the names, sorted, a page at a time. */
export const listApplications: Operation = ({ registry }, body) => {
  const { items, nextToken } = page(registry.applicationNames(), body);
  return { applications: items, ...(nextToken && { nextToken }) };
};

/** DeleteApplication, with its groups; an absent one is not an error, as in AWS. */
export const deleteApplication: Operation = ({ registry }, body) => {
  registry.deleteApplication(requiredString(body, 'applicationName', 'ApplicationName'));
  return {};
};

/** BatchGetApplications: at most 100; an unknown name fails the batch, as in CodeDeploy. */
export const batchGetApplications: Operation = ({ registry }, body) => {
  const names = body['applicationNames'];
  if (names === undefined || names === null) {
    throw new CodeDeployRefusal('ApplicationNameRequiredException', 'applicationNames is required');
  }
  if (!Array.isArray(names) || !names.every((n): n is string => typeof n === 'string')) {
    throw new CodeDeployRefusal('InvalidApplicationNameException', 'applicationNames must be a list of names');
  }
  if (names.length > BATCH_LIMIT) {
    throw new CodeDeployRefusal('BatchLimitExceededException', `at most ${BATCH_LIMIT} applications at once`);
  }
  return { applicationsInfo: names.map((name) => applicationInfo(registry.application(name))) };
};
