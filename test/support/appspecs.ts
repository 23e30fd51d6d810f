/**
 * AppSpecs for the test service `web` (versions "1" live and "2", see twoVersions): each deploys version
 * 2. Tests append their own `Hooks:` section where they need one.
 */

/** An ECS AppSpec whose task definition revision (`web:2`) names version "2". */
export const ECS_APPSPEC = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:2"
        LoadBalancerInfo: { ContainerName: web, ContainerPort: 8080 }
`;

/** A Lambda AppSpec shifting function `web` from version 1 to 2. */
export const LAMBDA_APPSPEC = `version: 0.0
Resources:
  - web:
      Type: AWS::Lambda::Function
      Properties: { Name: web, Alias: live, CurrentVersion: "1", TargetVersion: "2" }
`;

/** A deployment group for the ECS service `web` (cluster `main`), as CreateDeploymentGroup takes it. */
export const ECS_GROUP = {
  serviceRoleArn: 'arn:aws:iam::111122223333:role/CodeDeployRole',
  deploymentStyle: { deploymentType: 'BLUE_GREEN' as const, deploymentOption: 'WITH_TRAFFIC_CONTROL' as const },
  ecsServices: [{ clusterName: 'main', serviceName: 'web' }],
  loadBalancerInfo: {
    targetGroupPairInfoList: [
      {
        targetGroups: [{ name: 'web-tg-1' }, { name: 'web-tg-2' }],
        prodTrafficRoute: { listenerArns: ['arn:aws:elasticloadbalancing:us-east-1:1:listener/app/lb/1/prod'] },
      },
    ],
  },
};
