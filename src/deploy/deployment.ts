import { checkKnownKeys, describe, fail, isObject } from './checks.js'
import { type DeploymentConfig, readConfig } from './config.js'
import { checkCacheExpiry, type ExtensionSettings, extensionEnvironment } from './environment.js'
import { checkArchitecture, checkLayerArn, extensionLayerArn } from './layer-arn.js'
import type { Architecture } from './layers.js'
import {
  checkPolicyOptions,
  type PolicyDocument,
  type PolicyOptions,
  policyFor,
  policyOptionKeys,
} from './policy.js'

export interface DeploymentOptions extends PolicyOptions {
  /** The function's architecture (default x86_64, as Lambda's): the layer must match it. */
  architecture?: Architecture
  /** The layer version to use instead of the table's. */
  layerVersion?: number
  /** The whole layer ARN, for a region the table lacks; checked against the region and architecture. */
  layerArn?: string
  /** The middleware's `cacheExpiry` (ms), when the configuration given does not carry it. */
  cacheExpiry?: number
  /** The layer's settings; its TTLs default to `cacheExpiry`'s. */
  settings?: ExtensionSettings
}

/** What a function needs to read its `fetchData` through the extension. */
export interface ExtensionDeployment {
  /** The extension layer for the function's region and architecture. */
  layerArn: string
  /** The layer's environment variables, sorted by name. */
  environment: Record<string, string>
  /** The IAM policy document for the function's role. */
  policy: PolicyDocument
}

const deploymentOptionKeys = [
  ...policyOptionKeys,
  'architecture',
  'layerVersion',
  'layerArn',
  'cacheExpiry',
  'settings',
]

/**
 * The layer, its environment variables and the least-privilege policy for a handler's configuration:
 * its `fetchData` record, or an object carrying it (the middleware's options, whose `cacheExpiry` is then
 * read too, or the middleware object).
 *
 * @throws TypeError naming the option path, for a malformed entry or option, or a region whose layer
 *   this package does not know (then pass `layerArn`, or `layerVersion`)
 */
export function extensionDeployment(
  config: DeploymentConfig,
  options: DeploymentOptions,
): ExtensionDeployment {
  if (!isObject(options)) fail('options', `must be an object, got ${describe(options)}`)
  checkKnownKeys(options, deploymentOptionKeys, 'options')
  const { sources, cacheExpiry: configured } = readConfig(config)
  const checked = checkPolicyOptions(options)
  const architecture = checkArchitecture(options.architecture ?? 'x86_64', 'architecture')
  const region = checked.scope.region
  const layerArn =
    options.layerArn === undefined
      ? extensionLayerArn(region, {
          architecture,
          ...(options.layerVersion === undefined ? {} : { layerVersion: options.layerVersion }),
        })
      : checkLayerArn(options.layerArn, region, architecture)
  const cacheExpiry =
    options.cacheExpiry === undefined
      ? checkCacheExpiry(configured, 'cacheExpiry')
      : checkCacheExpiry(options.cacheExpiry, 'options.cacheExpiry')
  return {
    layerArn,
    environment: extensionEnvironment(options.settings, cacheExpiry),
    policy: policyFor(sources, checked),
  }
}
