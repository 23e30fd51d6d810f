/**
 * @module codedeploy/exceptions
 * The exception names (`__type`) switchyard's CodeDeploy API answers with, as one typed table: a name
 * that is not in it does not compile, and a test holds every name to one the AWS SDK exports.
 */
import { SwitchyardError } from '../core/errors.js';

/** CodeDeploy's modeled exceptions that switchyard raises, by the names the AWS SDK gives them. */
export const CODEDEPLOY_EXCEPTIONS = [
  'AlarmsLimitExceededException',
  'ApplicationAlreadyExistsException',
  'ApplicationDoesNotExistException',
  'ApplicationNameRequiredException',
  'BatchLimitExceededException',
  'DeploymentAlreadyCompletedException',
  'DeploymentConfigAlreadyExistsException',
  'DeploymentConfigDoesNotExistException',
  'DeploymentConfigInUseException',
  'DeploymentConfigNameRequiredException',
  'DeploymentDoesNotExistException',
  'DeploymentGroupAlreadyExistsException',
  'DeploymentGroupDoesNotExistException',
  'DeploymentGroupNameRequiredException',
  'DeploymentIdRequiredException',
  'DeploymentIsNotInReadyStateException',
  'DeploymentLimitExceededException',
  'DeploymentNotStartedException',
  'DeploymentTargetDoesNotExistException',
  'DeploymentTargetIdRequiredException',
  'DeploymentTargetListSizeExceededException',
  'DescriptionTooLongException',
  'ECSServiceMappingLimitExceededException',
  'InvalidAlarmConfigException',
  'InvalidApplicationNameException',
  'InvalidAutoRollbackConfigException',
  'InvalidAutoScalingGroupException',
  'InvalidBlueGreenDeploymentConfigurationException',
  'InvalidComputePlatformException',
  'InvalidDeploymentConfigNameException',
  'InvalidDeploymentGroupNameException',
  'InvalidDeploymentIdException',
  'InvalidDeploymentStatusException',
  'InvalidDeploymentStyleException',
  'InvalidDeploymentTargetIdException',
  'InvalidDeploymentWaitTypeException',
  'InvalidEC2TagException',
  'InvalidECSServiceException',
  'InvalidExternalIdException',
  'InvalidInputException',
  'InvalidLifecycleEventHookExecutionIdException',
  'InvalidLifecycleEventHookExecutionStatusException',
  'InvalidLoadBalancerInfoException',
  'InvalidMinimumHealthyHostValueException',
  'InvalidNextTokenException',
  'InvalidOperationException',
  'InvalidRevisionException',
  'InvalidRoleException',
  'InvalidTagsToAddException',
  'InvalidTargetFilterNameException',
  'InvalidTimeRangeException',
  'InvalidTrafficRoutingConfigurationException',
  'InvalidTriggerConfigException',
  'InvalidZonalDeploymentConfigurationException',
  'LifecycleEventAlreadyCompletedException',
  'RevisionRequiredException',
  'RoleRequiredException',
  'TriggerTargetsLimitExceededException',
] as const;
export type CodeDeployException = (typeof CODEDEPLOY_EXCEPTIONS)[number];

/**
 * Errors of the JSON protocol and of request signing, which every AWS service shares and the SDK reads
 * by name without a class of CodeDeploy's own.
 */
export const PROTOCOL_ERRORS = [
  'InternalFailure',
  'SerializationException',
  'UnknownOperationException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
] as const;
export type ProtocolError = (typeof PROTOCOL_ERRORS)[number];

/** Any `__type` the CodeDeploy API answers with. */
export type AwsErrorType = CodeDeployException | ProtocolError;

/**
 * A request CodeDeploy itself would refuse: `awsType` is the exception name (`__type`) its API answers
 * with, e.g. `DeploymentLimitExceededException`.
 */
export class CodeDeployRefusal extends SwitchyardError {
  readonly awsType: AwsErrorType;

  constructor(awsType: AwsErrorType, message: string) {
    super('ARGUMENTS_INVALID', message);
    this.name = new.target.name;
    this.awsType = awsType;
  }
}
