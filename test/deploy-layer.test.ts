// The layer ARN per region and architecture, and the layer's environment variables.
import { describe, expect, test } from 'vitest'
import { extensionEnvironment, extensionLayerArn, extensionLayers } from '../src/deploy/index.js'

const error = (run: () => unknown) => {
  try {
    run()
  } catch (caught) {
    expect(caught).toBeInstanceOf(TypeError)
    return (caught as Error).message.replace('middy-extension-secrets/deploy: ', '')
  }
  throw new Error('did not throw')
}

describe('the layer', () => {
  test.each([
    [
      'us-east-1',
      'x86_64',
      'arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:24',
    ],
    [
      'us-east-1',
      'arm64',
      'arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24',
    ],
    [
      'eu-west-1',
      'arm64',
      'arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24',
    ],
    [
      'ap-northeast-1',
      'x86_64',
      'arn:aws:lambda:ap-northeast-1:133490724326:layer:AWS-Parameters-and-Secrets-Lambda-Extension:24',
    ],
  ] as const)('%s %s, as listed in January 2026', (region, architecture, arn) => {
    expect(extensionLayerArn(region, { architecture })).toBe(arn)
  })

  test('x86_64 unless told otherwise, as Lambda', () => {
    expect(extensionLayerArn('eu-west-1')).toMatch(/:layer:AWS-Parameters-and-Secrets-Lambda-Extension:24$/)
  })

  test('an unknown region is an error, never another region', () => {
    expect(error(() => extensionLayerArn('mx-central-1'))).toBe(
      '`region` is "mx-central-1", which is not in this package\'s table of extension layers (2026-01): look the layer up on the AWS page "AWS Parameters and Secrets Lambda Extension ARNs" and pass it as `layerArn`',
    )
    // Inherited names are not regions.
    expect(error(() => extensionLayerArn('constructor'))).toMatch(/^`region` is "constructor", which is not/)
  })

  test('a region without a confirmed version needs layerVersion, and then uses its account', () => {
    expect(error(() => extensionLayerArn('us-west-2', { architecture: 'arm64' }))).toBe(
      '`layerVersion` is needed for us-west-2: this package\'s table (2026-01) knows the layer\'s account there but no confirmed current version; take it from the AWS page "AWS Parameters and Secrets Lambda Extension ARNs"',
    )
    expect(extensionLayerArn('us-west-2', { architecture: 'arm64', layerVersion: 25 })).toBe(
      'arn:aws:lambda:us-west-2:345057560386:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:25',
    )
    expect(extensionLayerArn('cn-north-1', { layerVersion: 20 })).toBe(
      'arn:aws-cn:lambda:cn-north-1:287114880934:layer:AWS-Parameters-and-Secrets-Lambda-Extension:20',
    )
  })

  test('bad arguments', () => {
    expect(error(() => extensionLayerArn('us-east-1', { architecture: 'arm' as never }))).toBe(
      "`architecture` must be 'x86_64' or 'arm64', got \"arm\"",
    )
    expect(error(() => extensionLayerArn('us-east-1', { layerVersion: 0 }))).toBe(
      '`layerVersion` must be an integer from 1 to 10000, got 0',
    )
  })

  test('the table: twelve-digit accounts, a partition that matches the region', () => {
    for (const [region, entry] of Object.entries(extensionLayers)) {
      expect(entry.account, region).toMatch(/^\d{12}$/)
      const partition = region.startsWith('cn-')
        ? 'aws-cn'
        : region.startsWith('us-gov-')
          ? 'aws-us-gov'
          : 'aws'
      expect(entry.partition, region).toBe(partition)
    }
  })
})

describe("the layer's environment variables", () => {
  test('the TTLs follow cacheExpiry, rounded up to seconds, at most 300', () => {
    const ttls = (cacheExpiry?: number) => extensionEnvironment({}, cacheExpiry)
    expect(ttls(60_000)).toEqual({ SECRETS_MANAGER_TTL: '60', SSM_PARAMETER_STORE_TTL: '60' })
    expect(ttls(1_500)).toEqual({ SECRETS_MANAGER_TTL: '2', SSM_PARAMETER_STORE_TTL: '2' })
    expect(ttls(3_600_000)).toEqual({ SECRETS_MANAGER_TTL: '300', SSM_PARAMETER_STORE_TTL: '300' })
    // No cache in the middleware, or one for the life of the environment: the layer's default stands.
    expect(ttls(0)).toEqual({})
    expect(ttls(-1)).toEqual({})
    expect(ttls()).toEqual({})
  })

  test('explicit settings win, and every setting has its variable, sorted by name', () => {
    const environment = extensionEnvironment(
      {
        secretsManagerTtl: 0,
        cacheEnabled: false,
        cacheSize: 200,
        maxConnections: 5,
        logLevel: 'warn',
        httpPort: 2774,
        secretsManagerTimeoutMillis: 2_000,
        parameterStoreTimeoutMillis: 1_000,
      },
      60_000,
    )
    expect(Object.entries(environment)).toEqual([
      ['PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED', 'FALSE'],
      ['PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE', '200'],
      ['PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', '2774'],
      ['PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL', 'warn'],
      ['PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS', '5'],
      ['SECRETS_MANAGER_TIMEOUT_MILLIS', '2000'],
      ['SECRETS_MANAGER_TTL', '0'],
      ['SSM_PARAMETER_STORE_TIMEOUT_MILLIS', '1000'],
      ['SSM_PARAMETER_STORE_TTL', '60'],
    ])
  })

  test.each([
    [
      { secretsManagerTtl: 301 },
      undefined,
      '`settings.secretsManagerTtl` must be an integer from 0 to 300, got 301',
    ],
    [{ cacheSize: 1001 }, undefined, '`settings.cacheSize` must be an integer from 0 to 1000, got 1001'],
    [
      { logLevel: 'INFO' },
      undefined,
      "`settings.logLevel` must be one of 'debug', 'info', 'warn', 'error', 'none', got \"INFO\"",
    ],
    [{ cacheEnabled: 'yes' }, undefined, '`settings.cacheEnabled` must be true or false, got "yes"'],
    [
      { ttl: 60 },
      undefined,
      '`settings.ttl` is not a known option; known: secretsManagerTtl, parameterStoreTtl, cacheEnabled, cacheSize, maxConnections, logLevel, httpPort, secretsManagerTimeoutMillis, parameterStoreTimeoutMillis',
    ],
    [
      {},
      -2,
      '`cacheExpiry` must be -1 or a finite number of milliseconds ≥ 0, as the middleware takes it, got -2',
    ],
  ])('%j, cacheExpiry %j', (settings, cacheExpiry, expected) => {
    expect(error(() => extensionEnvironment(settings as never, cacheExpiry))).toBe(expected)
  })
})
