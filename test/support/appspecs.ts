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
