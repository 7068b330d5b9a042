// middy-extension-secrets/cdk: the extension for a CDK function, from the handler's own fetchData.
// aws-cdk-lib and constructs are optional peers: only a CDK app loads this file, never a handler.
import { Stack, Token } from 'aws-cdk-lib'
import { PolicyStatement } from 'aws-cdk-lib/aws-iam'
import { type Function as LambdaFunction, LayerVersion } from 'aws-cdk-lib/aws-lambda'
import { checkKnownKeys, describe, fail, isObject } from './checks.js'
import type { DeploymentConfig } from './config.js'
import { type DeploymentOptions, type ExtensionDeployment, extensionDeployment } from './deployment.js'

/** What the stack cannot tell: the KMS keys, the layer's settings, a layer version newer than the table's. */
export type ExtensionSecretsForOptions = Omit<
  DeploymentOptions,
  'region' | 'account' | 'partition' | 'urlSuffix' | 'architecture'
>

const optionKeys = ['kmsKeyArns', 'layerVersion', 'layerArn', 'cacheExpiry', 'settings']

/**
 * Adds the AWS Parameters and Secrets Lambda Extension to a function, for its stack's region and its
 * architecture; grants its role exactly the reads of `config` (the handler's fetchData, or its
 * middleware options); sets the layer's environment variables. Do not also use the function's
 * `paramsAndSecrets` option: that would attach a second copy of the layer.
 *
 * @returns what was applied, as `extensionDeployment` computes it
 * @throws TypeError when the stack's region is not known at synthesis (an environment-agnostic
 *   stack): the layer differs per region, and a policy for the wrong one grants nothing
 */
export function extensionSecretsFor(
  fn: LambdaFunction,
  config: DeploymentConfig,
  options: ExtensionSecretsForOptions = {},
): ExtensionDeployment {
  if (!isObject(options)) fail('options', `must be an object, got ${describe(options)}`)
  checkKnownKeys(options, optionKeys, 'options')
  const stack = Stack.of(fn)
  if (Token.isUnresolved(stack.region))
    fail(
      'region',
      `of the stack ${stack.stackName} is not known at synthesis: the extension layer differs per region, so give the stack \`env: { region: '...' }\``,
    )
  if (fn.role === undefined)
    fail(
      'fn',
      'has no execution role this app can add to (an imported function): grant the policy where the role is defined',
    )
  const deployment = extensionDeployment(config, {
    ...options,
    region: stack.region,
    // A token when the stack's account is left to deployment: it resolves in the template.
    account: stack.account,
    architecture: fn.architecture.name === 'arm64' ? 'arm64' : 'x86_64',
  })
  fn.addLayers(LayerVersion.fromLayerVersionArn(fn, 'ParametersAndSecretsExtension', deployment.layerArn))
  for (const [name, value] of Object.entries(deployment.environment)) fn.addEnvironment(name, value)
  for (const statement of deployment.policy.Statement) fn.addToRolePolicy(PolicyStatement.fromJson(statement))
  return deployment
}
