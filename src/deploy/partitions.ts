import { fail, isPlaceholder } from './checks.js'
import { extensionLayers } from './layers.js'

// ARNs and service host names depend on the partition. It is derived from the region only where that is
// certain; anything else (a placeholder, an isolated or sovereign partition) must be given, because a
// policy for the wrong partition grants nothing and fails only at run time, as the generic 400.

const regionName = /^[a-z]{2}(-[a-z]+)+-\d+$/
const urlSuffixes: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
}

export const checkRegion = (region: unknown, path: string): string => {
  if (typeof region !== 'string' || !(regionName.test(region) || isPlaceholder(region)))
    fail(
      path,
      `must be a region name such as 'eu-west-1' or a \${...} placeholder, got ${JSON.stringify(region)}`,
    )
  return region as string
}

export const partitionOf = (region: string, path: string): string => {
  const known = extensionLayers[region]?.partition
  if (known !== undefined) return known
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  if (isPlaceholder(region) || /iso|^eusc-/.test(region))
    fail(path, `cannot tell the partition of region ${JSON.stringify(region)}: give \`partition\` too`)
  return 'aws'
}

export const urlSuffixOf = (partition: string, path: string): string => {
  const known = urlSuffixes[partition]
  if (known === undefined)
    fail(
      path,
      `cannot tell the service host suffix of partition ${JSON.stringify(partition)}: give \`urlSuffix\``,
    )
  return known!
}
