import middy from '@middy/core'
import { afterEach, describe, expect, test } from 'vitest'
import { extensionSecrets, extensionSecretsValidateOptions, parameter, secret } from '../src/index.js'
import { failureOf, lambdaContext, testToken, useEmulator } from './helpers.js'

const start = useEmulator()

// Options are checked at creation, so these tests call the factory with deliberately wrong input.
const create = (options: unknown) => () => extensionSecrets(options as never)
const withData = (fetchData: unknown, rest: Record<string, unknown> = {}) => create({ fetchData, ...rest })

describe('options are rejected at creation with a TypeError naming the key', () => {
  test.each([
    ['no options', undefined, /`options` must be an object/],
    ['no fetchData', {}, /`fetchData` must be an object/],
    ['empty fetchData', { fetchData: {} }, /`fetchData` must have at least one entry/],
    [
      'a typo of an option',
      { fetchData: { a: parameter('/a') }, cachExpiry: 1 },
      /`cachExpiry` is not a known option/,
    ],
    [
      'a non-boolean setToContext',
      { fetchData: { a: parameter('/a') }, setToContext: 'yes' },
      /`setToContext` must be true or false/,
    ],
    [
      'a fractional cacheExpiry',
      { fetchData: { a: parameter('/a') }, cacheExpiry: 1.5 },
      /`cacheExpiry` must be an integer/,
    ],
    [
      'a cacheExpiry below -1',
      { fetchData: { a: parameter('/a') }, cacheExpiry: -2 },
      /`cacheExpiry` must be an integer from -1/,
    ],
    [
      'a zero requestTimeout',
      { fetchData: { a: parameter('/a') }, requestTimeout: 0 },
      /`requestTimeout` must be an integer from 1/,
    ],
    [
      'a NaN deadlineMargin',
      { fetchData: { a: parameter('/a') }, deadlineMargin: Number.NaN },
      /`deadlineMargin` must be an integer from 0/,
    ],
    [
      'a port out of range',
      { fetchData: { a: parameter('/a') }, port: 70_000 },
      /`port` must be an integer from 1 to 65535/,
    ],
    [
      'a non-loopback host',
      { fetchData: { a: parameter('/a') }, host: '10.0.0.1' },
      /`host` must be a loopback address/,
    ],
    [
      'a host name (resolved by DNS)',
      { fetchData: { a: parameter('/a') }, host: 'localhost' },
      /`host` must be a loopback address/,
    ],
    [
      'an empty token',
      { fetchData: { a: parameter('/a') }, token: '' },
      /`token` must be a non-empty string/,
    ],
    [
      'a token with a line break',
      { fetchData: { a: parameter('/a') }, token: 'a\r\nX-Injected: 1' },
      /`token` has characters not allowed in an HTTP header/,
    ],
    [
      'an unknown retry option',
      { fetchData: { a: parameter('/a') }, retry: { forever: true } },
      /`retry.forever` is not a known option/,
    ],
    [
      'retry that is not an object',
      { fetchData: { a: parameter('/a') }, retry: 3 },
      /`retry` must be an object of p-retry options/,
    ],
    [
      'a cacheExpiry that is an absolute time already past (a two-day duration)',
      { fetchData: { a: parameter('/a') }, cacheExpiry: 172_800_000 },
      /`cacheExpiry` is 172800000, which Middy reads as an absolute Unix-ms time \(above 86,400,000 = 24 h\) already past; a duration must be at most 86,400,000 ms/,
    ],
  ])('%s', (_name, options, message) => {
    expect(create(options)).toThrow(TypeError)
    expect(create(options)).toThrow(message)
  })
})

describe('freshness and observability options are rejected at creation', () => {
  const data = { fetchData: { a: secret('a') } }
  test.each([
    ['onEvent that is not a function', { ...data, onEvent: 'log' }, /`onEvent` must be a function/],
    // Removed options are refused like any typo: refreshOn is a middleware of its own now, and
    // bypassExtensionCache became invalidate(keys, { refreshNow: true }).
    ['the removed refreshOn', { ...data, refreshOn: () => false }, /`refreshOn` is not a known option/],
    [
      'the removed bypassExtensionCache',
      { ...data, bypassExtensionCache: 'refreshNow' },
      /`bypassExtensionCache` is not a known option/,
    ],
    ['the removed readinessWaitMs', { ...data, readinessWaitMs: 100 }, /`readinessWaitMs` is not a known/],
    [
      'staleIfError without caching',
      { ...data, staleIfError: { maxStale: 1000 } },
      /`staleIfError` needs values that are cached and expire/,
    ],
    [
      'staleIfError with a cache that never expires',
      { ...data, cacheExpiry: -1, staleIfError: { maxStale: 1000 } },
      /`staleIfError` needs values that are cached and expire/,
    ],
    [
      'staleIfError without maxStale',
      { ...data, cacheExpiry: 10, staleIfError: {} },
      /`staleIfError.maxStale` must be an integer from 1/,
    ],
    [
      'a maxStale not above cacheExpiry',
      { ...data, cacheExpiry: 60_000, staleIfError: { maxStale: 60_000 } },
      /`staleIfError.maxStale` must be above cacheExpiry \(60000\)/,
    ],
    [
      'an unknown staleIfError key',
      { ...data, cacheExpiry: 10, staleIfError: { maxStale: 100, codes: [] } },
      /`staleIfError.codes` is not a known option/,
    ],
    [
      'a when that is not a function',
      { ...data, cacheExpiry: 10, staleIfError: { maxStale: 100, when: 'always' } },
      /`staleIfError.when` must be a function/,
    ],
  ])('%s', (_name, options, message) => {
    expect(create(options)).toThrow(TypeError)
    expect(create(options)).toThrow(message)
  })

  test('accepts staleIfError with an absolute cacheExpiry in the future, and an async when', () => {
    expect(create({ ...data, cacheExpiry: Date.now() + 1e6, staleIfError: { maxStale: 1 } })).not.toThrow()
    expect(
      create({ ...data, cacheExpiry: 10, staleIfError: { maxStale: 100, when: async () => true } }),
    ).not.toThrow()
  })
})

describe('fetchData entries are rejected at creation', () => {
  test.each([
    [
      'both parameter and secret',
      { a: { parameter: '/a', secret: 'a' } },
      /`fetchData.a` must have exactly one of `parameter` and `secret`/,
    ],
    ['neither parameter nor secret', { a: { parse: 'text' } }, /exactly one of `parameter` and `secret`/],
    ['an entry that is not an object', { a: '/a' }, /`fetchData.a` must be an object/],
    [
      'an unknown entry key',
      { a: { parameter: '/a', withDecryption: true } },
      /`fetchData.a.withDecryption` is not a known option/,
    ],
    [
      'a secret selector on a parameter',
      { a: { parameter: '/a', versionStage: 'AWSCURRENT' } },
      /`fetchData.a.versionStage` is not a known option/,
    ],
    [
      'version and label together',
      { a: { parameter: '/a', version: 2, label: 'prod' } },
      /`fetchData.a` may have `version` or `label`, not both/,
    ],
    [
      'versionId and versionStage together',
      { a: { secret: 'a', versionId: 'x', versionStage: 'AWSCURRENT' } },
      /may have `versionId` or `versionStage`, not both/,
    ],
    [
      'a version of 0',
      { a: { parameter: '/a', version: 0 } },
      /`fetchData.a.version` must be an integer from 1/,
    ],
    [
      'a version that is a string',
      { a: { parameter: '/a', version: '3' } },
      /`fetchData.a.version` must be an integer/,
    ],
    [
      'parse list on a secret',
      { a: { secret: 'a', parse: 'list' } },
      /`fetchData.a.parse` must be one of auto, text, json, binary, got "list"/,
    ],
    [
      'parse binary on a parameter',
      { a: { parameter: '/a', parse: 'binary' } },
      /`fetchData.a.parse` must be one of auto, text, json, list, got "binary"/,
    ],
    [
      'an unknown parse mode',
      { a: { parameter: '/a', parse: 'yaml' } },
      /`fetchData.a.parse` must be one of/,
    ],
    ['an empty name', { a: { parameter: '' } }, /`fetchData.a.parameter` must be a non-empty string/],
    [
      'a name with a lone surrogate',
      { a: { secret: 'db\uD800' } },
      /`fetchData.a.secret` is not well-formed UTF-16/,
    ],
    [
      'a field with an empty segment',
      { a: { secret: 'a', field: 'db..password' } },
      /`fetchData.a.field` must be a dot path/,
    ],
    [
      'a field with parse text',
      { a: { secret: 'a', field: 'password', parse: 'text' } },
      /`fetchData.a.field` needs parse 'auto' or 'json', not 'text'/,
    ],
    [
      'a schema that is not a Standard Schema',
      { a: { secret: 'a', schema: { parse: () => 1 } } },
      /`fetchData.a.schema` must be a Standard Schema validator/,
    ],
    [
      'a non-boolean decrypt',
      { a: { parameter: '/a', decrypt: 'yes' } },
      /`fetchData.a.decrypt` must be true or false/,
    ],
    [
      'a key that is not an identifier',
      { 'db-password': { secret: 'a' } },
      /`fetchData.db-password` is not a JavaScript identifier/,
    ],
    [
      'the key __proto__ (from JSON)',
      JSON.parse('{"__proto__": {"secret": "a"}}'),
      /`fetchData.__proto__` would replace/,
    ],
    ['the key constructor', { constructor: { secret: 'a' } }, /`fetchData.constructor` would replace/],
    [
      'a key shadowing a Lambda context member',
      { getRemainingTimeInMillis: { secret: 'a' } },
      /would replace a member of the Lambda context/,
    ],
    [
      'a key shadowing awsRequestId',
      { awsRequestId: { secret: 'a' } },
      /would replace a member of the Lambda context/,
    ],
    ['a key shadowing a durable-context member (Middy 7)', { step: { secret: 'a' } }, /durable context/],
    ['a key shadowing an Object.prototype member', { toString: { secret: 'a' } }, /would replace/],
    [
      'stages on a parameter',
      { a: { parameter: '/a', stages: ['previous'] } },
      /`fetchData.a.stages` is not a known/,
    ],
    // `stages` was removed: separate keys with versionStage and optional: true replace it.
    [
      'the removed stages on a secret',
      { a: { secret: 'a', stages: ['previous'] } },
      /`fetchData.a.stages` is not a known option/,
    ],
    [
      'a non-boolean optional',
      { a: { secret: 'a', optional: 'yes' } },
      /`fetchData.a.optional` must be true or false/,
    ],
  ])('%s', (_name, fetchData, message) => {
    expect(withData(fetchData)).toThrow(TypeError)
    expect(withData(fetchData)).toThrow(message)
  })

  test('accepts ARNs, Unicode identifiers and reserved URL characters in names', () => {
    expect(
      withData({
        db: secret('arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-MFUBmH'),
        url: parameter('arn:aws:ssm:us-east-1:123456789012:parameter/app/url'),
        clé: parameter('/app/a+b&c#d%e f/ü'),
        $dollar: { parameter: '/x', version: 2, decrypt: false },
        _under: { secret: 's', versionStage: 'AWSPREVIOUS', parse: 'binary' },
      }),
    ).not.toThrow()
  })
})

describe('the extension port', () => {
  const variable = 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT'
  const saved = process.env[variable]
  afterEach(() => {
    if (saved === undefined) delete process.env[variable]
    else process.env[variable] = saved
  })

  // Number() reads all of these as ports; only decimal digits are a port.
  test.each(['abc', '0x0AD5', '1e3', '2773\n', ' 2773', '+2773', '2773.0', '0', '65536', '٢٧٧٣'])(
    'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=%j is refused at creation',
    (text) => {
      process.env[variable] = text
      expect(withData({ a: parameter('/a') })).toThrow(TypeError)
      expect(withData({ a: parameter('/a') })).toThrow(
        /`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` must be a port from 1 to 65535 in decimal digits/,
      )
    },
  )

  test.each(['1', '2773', '65535'])('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=%j is accepted', (text) => {
    process.env[variable] = text
    expect(withData({ a: parameter('/a') })).not.toThrow()
  })

  test('the port option wins over the environment variable', () => {
    process.env[variable] = 'abc'
    expect(withData({ a: parameter('/a') }, { port: 2773 })).not.toThrow()
  })

  test('the variable is read at each invocation: set after the middleware is made, it is used', async () => {
    const emulator = await start()
    delete process.env[variable]
    const handler = middy()
      .use(extensionSecrets({ fetchData: { url: parameter('/app/api-url') }, token: testToken }))
      .handler(async (_event, context) => context.url)
    process.env[variable] = String(emulator.port)
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(emulator.requests).toHaveLength(1)
  })

  test('a bad value set after creation fails the invocation with the same TypeError, and sends nothing', async () => {
    const emulator = await start()
    process.env[variable] = String(emulator.port)
    const handler = middy()
      .use(extensionSecrets({ fetchData: { url: parameter('/app/api-url') }, token: testToken }))
      .handler(async (_event, context) => context.url)
    process.env[variable] = `${emulator.port}\n`
    await expect(handler({}, lambdaContext())).rejects.toThrow(
      /`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` must be a port from 1 to 65535 in decimal digits/,
    )
    expect(emulator.requests).toHaveLength(0)
  })

  test('EXTENSION_UNREACHABLE names the address used and where its port came from', async () => {
    const closed = await start()
    const { port } = closed
    await closed.close()
    const retry = { maxRetryTime: 50 }
    process.env[variable] = String(port)
    const fromVariable = middy()
      .use(extensionSecrets({ fetchData: { url: parameter('/app/api-url') }, token: testToken, retry }))
      .handler(async () => 'ok')
    const error = await failureOf(() => fromVariable({}, lambdaContext()))
    expect(error.errors?.[0]?.code).toBe('EXTENSION_UNREACHABLE')
    expect(error.errors?.[0]?.message).toContain(
      `could not reach the extension at 127.0.0.1:${port} (port from PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;`,
    )
    delete process.env[variable]
    const fromOption = middy()
      .use(extensionSecrets({ fetchData: { url: parameter('/app/api-url') }, token: testToken, retry, port }))
      .handler(async () => 'ok')
    const optionError = await failureOf(() => fromOption({}, lambdaContext()))
    expect(optionError.errors?.[0]?.message).toContain(`at 127.0.0.1:${port} (port from the \`port\` option;`)
  })
})

describe('retry: p-retry options', () => {
  /** Attempts made against a closed port within a 350 ms budget. */
  const attemptsWith = async (retry: Record<string, unknown>) => {
    const closed = await start()
    const { port } = closed
    await closed.close()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          token: testToken,
          port,
          retry: { randomize: false, factor: 1, maxRetryTime: 350, ...retry },
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]?.code).toBe('EXTENSION_UNREACHABLE')
    return error.errors?.[0]?.attempts ?? 0
  }

  test('a minTimeout above the default 8 ms cap raises the cap, unless maxTimeout is given', async () => {
    // 100 ms apart: about four attempts in 350 ms. Capped at 8 ms, it would be dozens.
    expect(await attemptsWith({ minTimeout: 100 })).toBeLessThanOrEqual(6)
    expect(await attemptsWith({ minTimeout: 100, maxTimeout: 8 })).toBeGreaterThan(10)
  })

  test("retries is p-retry's: retries 0 is a single attempt", async () => {
    expect(await attemptsWith({ retries: 0 })).toBe(1)
  })

  test("bad values are p-retry's to refuse: its TypeError fails the first invocation, nothing is sent", async () => {
    const emulator = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          token: testToken,
          port: emulator.port,
          retry: { factor: 'fast' as never },
        }),
      )
      .handler(async () => 'ok')
    await expect(handler({}, lambdaContext())).rejects.toThrow(/`retry`: Expected `factor` to be a number/)
    expect(emulator.requests).toHaveLength(0)
  })
})

test('the helpers build plain declarative objects', () => {
  expect(parameter('/app/hosts', { parse: 'list' })).toEqual({ parameter: '/app/hosts', parse: 'list' })
  expect(secret('prod/db', { field: 'password' })).toEqual({ secret: 'prod/db', field: 'password' })
  expect(secret('prod/db')).toEqual({ secret: 'prod/db' })
})

test('extensionSecretsValidateOptions checks options without creating a middleware', () => {
  expect(() => extensionSecretsValidateOptions({ fetchData: { a: parameter('/a') }, cachExpiry: 1 })).toThrow(
    /`cachExpiry` is not a known option/,
  )
  expect(extensionSecretsValidateOptions({ fetchData: { a: parameter('/a') } })).toBeUndefined()
})
