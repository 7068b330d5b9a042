import { afterEach, describe, expect, test } from 'vitest'
import { extensionSecrets, extensionSecretsValidateOptions, parameter, secret } from '../src/index.js'

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
      /`deadlineMargin` must be a finite number/,
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
      /`token` contains characters not allowed/,
    ],
    [
      'an unknown retry option',
      { fetchData: { a: parameter('/a') }, retry: { retries: 3 } },
      /`retry.retries` is not a known option/,
    ],
    [
      'maxTimeout below minTimeout',
      { fetchData: { a: parameter('/a') }, retry: { minTimeout: 100, maxTimeout: 10 } },
      /`retry.maxTimeout` must be ≥ retry.minTimeout/,
    ],
    [
      'a factor below 1',
      { fetchData: { a: parameter('/a') }, retry: { factor: 0.5 } },
      /`retry.factor` must be a finite number ≥ 1/,
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
    ['refreshOn that is not a function', { ...data, refreshOn: ['a'] }, /`refreshOn` must be a function/],
    [
      'an unknown bypassExtensionCache',
      { ...data, bypassExtensionCache: true },
      /`bypassExtensionCache` must be 'versionStage' or 'refreshNow'/,
    ],
    [
      'staleIfError without caching',
      { ...data, staleIfError: { maxStale: 1000 } },
      /`staleIfError` needs caching on/,
    ],
    [
      'staleIfError without maxStale',
      { ...data, cacheExpiry: 10, staleIfError: {} },
      /`staleIfError.maxStale` is required/,
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

  test('accepts staleIfError with an absolute cacheExpiry, and each bypass', () => {
    expect(create({ ...data, cacheExpiry: Date.now() + 1e6, staleIfError: { maxStale: 1 } })).not.toThrow()
    expect(create({ ...data, bypassExtensionCache: 'versionStage' })).not.toThrow()
    expect(create({ ...data, bypassExtensionCache: 'refreshNow' })).not.toThrow()
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
      /`fetchData.a.parse` must be one of 'auto', 'text', 'json', 'binary' for a secret/,
    ],
    ['parse binary on a parameter', { a: { parameter: '/a', parse: 'binary' } }, /for a parameter/],
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
      /`fetchData.a.field` needs parse 'json' or 'auto'/,
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
      /`fetchData.db-password` is not a valid JavaScript identifier/,
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
    ['empty stages', { a: { secret: 'a', stages: [] } }, /`fetchData.a.stages` must be a non-empty array/],
    [
      'an unknown stage',
      { a: { secret: 'a', stages: ['current'] } },
      /`fetchData.a.stages\[0\]` must be 'previous' or 'pending'/,
    ],
    [
      'a repeated stage',
      { a: { secret: 'a', stages: ['pending', 'pending'] } },
      /`fetchData.a.stages\[1\]` repeats 'pending'/,
    ],
    [
      'stages with a versionStage',
      { a: { secret: 'a', stages: ['previous'], versionStage: 'AWSCURRENT' } },
      /`fetchData.a` may have `stages` or a `versionId` \/ `versionStage`, not both/,
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
  const saved = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
  afterEach(() => {
    if (saved === undefined) delete process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
    else process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = saved
  })

  test('a malformed PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is reported at creation', () => {
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = 'abc'
    expect(withData({ a: parameter('/a') })).toThrow(
      /`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` must be an integer from 1 to 65535/,
    )
  })

  test('the port option wins over the environment variable', () => {
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = 'abc'
    expect(withData({ a: parameter('/a') }, { port: 2773 })).not.toThrow()
  })
})

test('the helpers build plain declarative objects', () => {
  expect(parameter('/app/hosts', { parse: 'list' })).toEqual({ parameter: '/app/hosts', parse: 'list' })
  expect(secret('prod/db', { field: 'password' })).toEqual({ secret: 'prod/db', field: 'password' })
  expect(secret('prod/db')).toEqual({ secret: 'prod/db' })
})

test('a minTimeout above the default cap raises the cap instead of being rejected', () => {
  expect(create({ fetchData: { a: parameter('/a') }, retry: { minTimeout: 100 } })).not.toThrow()
  expect(create({ fetchData: { a: parameter('/a') }, retry: { minTimeout: 100, maxTimeout: 50 } })).toThrow(
    /`retry.maxTimeout` must be ≥ retry.minTimeout/,
  )
})

test('extensionSecretsValidateOptions checks options without creating a middleware', () => {
  expect(() => extensionSecretsValidateOptions({ fetchData: { a: parameter('/a') }, cachExpiry: 1 })).toThrow(
    /`cachExpiry` is not a known option/,
  )
  expect(extensionSecretsValidateOptions({ fetchData: { a: parameter('/a') } })).toBeUndefined()
})
