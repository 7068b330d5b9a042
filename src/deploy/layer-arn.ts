import { checkInteger, describe, fail } from './checks.js'
import { type Architecture, extensionLayers, listedOn } from './layers.js'

export interface LayerOptions {
  /** The function's architecture; Lambda's default is x86_64. */
  architecture?: Architecture
  /** A layer version to use instead of the table's (a newer one from the AWS page, or one the table lacks). */
  layerVersion?: number
}

const architectures: readonly Architecture[] = ['x86_64', 'arm64']
const awsPage = 'the AWS page "AWS Parameters and Secrets Lambda Extension ARNs"'

export const layerName = (architecture: Architecture) =>
  `AWS-Parameters-and-Secrets-Lambda-Extension${architecture === 'arm64' ? '-Arm64' : ''}`

export const checkArchitecture = (value: unknown, path: string): Architecture => {
  if (!architectures.includes(value as Architecture))
    fail(path, `must be 'x86_64' or 'arm64', got ${describe(value)}`)
  return value as Architecture
}

/**
 * The extension layer's ARN for a region and architecture, from the table in `layers.ts` (a January 2026
 * snapshot of the AWS page, which is the authority).
 *
 * @throws TypeError for a region the table does not know (never a silent us-east-1), or a region whose
 *   current version is not confirmed there and no `layerVersion` was given
 */
export function extensionLayerArn(region: string, options: LayerOptions = {}): string {
  const architecture = checkArchitecture(options.architecture ?? 'x86_64', 'architecture')
  const entry = Object.hasOwn(extensionLayers, region) ? extensionLayers[region] : undefined
  if (entry === undefined) {
    fail(
      'region',
      `is ${describe(region)}, which is not in this package's table of extension layers (${listedOn}): look the layer up on ${awsPage} and pass it as \`layerArn\``,
    )
  }
  const version =
    options.layerVersion === undefined
      ? entry!.versions?.[architecture]
      : checkInteger(options.layerVersion, 'layerVersion', 1, 10_000)
  if (version === undefined) {
    fail(
      'layerVersion',
      `is needed for ${region}: this package's table (${listedOn}) knows the layer's account there but no confirmed current version; take it from ${awsPage}`,
    )
  }
  return `arn:${entry!.partition}:lambda:${region}:${entry!.account}:layer:${layerName(architecture)}:${version}`
}

/**
 * Checks an ARN given instead of the table's: it must be this extension's layer, for this region and
 * architecture, with a version. A layer for the other architecture fails only at run time, so it is
 * refused here.
 */
export const checkLayerArn = (value: unknown, region: string, architecture: Architecture): string => {
  const arn = typeof value === 'string' ? value : ''
  const match = /^arn:[a-z-]+:lambda:([a-z0-9-]+):\d{12}:layer:([A-Za-z0-9-]+):\d+$/.exec(arn)
  if (match === null) fail('layerArn', `must be a layer version ARN, got ${describe(value)}`)
  if (match![1] !== region)
    fail('layerArn', `is a layer of ${match![1]}, not of the function's region ${region}`)
  if (match![2] !== layerName(architecture))
    fail('layerArn', `must be ${layerName(architecture)} for ${architecture}, got ${match![2]}`)
  return arn
}
