/**
 * @module lab/appspec
 * The ECS AppSpec of every lab deployment, live or simulated: the replacement version of the lab's one
 * service, as CreateDeployment takes it.
 */

/** An ECS AppSpec whose task definition names `version` of `service`. */
export function labAppSpec(service: string, version: string): string {
  return [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    `        TaskDefinition: ${JSON.stringify(`arn:aws:ecs:us-east-1:000000000000:task-definition/${service}:${version}`)}`,
    `        LoadBalancerInfo: { ContainerName: ${service}, ContainerPort: 8080 }`,
    '',
  ].join('\n');
}
