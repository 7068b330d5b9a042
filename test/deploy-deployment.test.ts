// extensionDeployment: the three parts together, where cacheExpiry comes from, and the layer override.
import { expect, test } from 'vitest'
import { extensionDeployment } from '../src/deploy/index.js'
import { secret } from '../src/index.js'

const scope = { region: 'eu-west-1', account: '111122223333' }
const fetchData = { db: secret('prod/db') }
const arm64Layer =
  'arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24'

test("cacheExpiry: the options object's, unless the deployment options give one", () => {
  expect(extensionDeployment({ fetchData, cacheExpiry: 10_000 }, scope).environment).toEqual({
    SECRETS_MANAGER_TTL: '10',
    SSM_PARAMETER_STORE_TTL: '10',
  })
  expect(
    extensionDeployment({ fetchData, cacheExpiry: 10_000 }, { ...scope, cacheExpiry: 0 }).environment,
  ).toEqual({})
  expect(extensionDeployment(fetchData, { ...scope, cacheExpiry: 2_000 }).environment).toEqual({
    SECRETS_MANAGER_TTL: '2',
    SSM_PARAMETER_STORE_TTL: '2',
  })
  expect(() => extensionDeployment({ fetchData, cacheExpiry: '1s' } as never, scope)).toThrow(
    new TypeError(
      'middy-extension-secrets/deploy: `cacheExpiry` must be -1 or a finite number of milliseconds ≥ 0, as the middleware takes it, got "1s"',
    ),
  )
})

test('layerArn replaces the table, but must be this layer, for this region and architecture', () => {
  expect(
    extensionDeployment(fetchData, {
      ...scope,
      architecture: 'arm64',
      layerArn: arm64Layer.replace(':24', ':30'),
    }).layerArn,
  ).toBe(arm64Layer.replace(':24', ':30'))
  const refused = (layerArn: string, architecture: 'x86_64' | 'arm64' = 'arm64') => {
    try {
      extensionDeployment(fetchData, { ...scope, architecture, layerArn })
    } catch (error) {
      return (error as Error).message.replace('middy-extension-secrets/deploy: ', '')
    }
    throw new Error('accepted')
  }
  expect(refused(arm64Layer, 'x86_64')).toBe(
    '`layerArn` must be AWS-Parameters-and-Secrets-Lambda-Extension for x86_64, got AWS-Parameters-and-Secrets-Lambda-Extension-Arm64',
  )
  expect(refused(arm64Layer.replace(/eu-west-1/, 'us-east-1'))).toBe(
    "`layerArn` is a layer of us-east-1, not of the function's region eu-west-1",
  )
  expect(refused('AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24')).toBe(
    '`layerArn` must be a layer version ARN, got "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24"',
  )
})

test('unknown options are refused by name', () => {
  expect(() => extensionDeployment(fetchData, { ...scope, arch: 'arm64' } as never)).toThrow(
    '`options.arch` is not a known option; known: region, account, partition, urlSuffix, kmsKeyArns, architecture, layerVersion, layerArn, cacheExpiry, settings',
  )
})
