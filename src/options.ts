import { defaultRetry, type RetryOptions } from './client/retry-policy.js'
import { requestPath, type SourceRef } from './client/source-ref.js'
import type { ValueRecipe } from './parse.js'
import type { FetchEntry, ParseMode } from './sources.js'
import type { StandardSchemaV1 } from './standard-schema.js'

export interface ExtensionSecretsOptions {
  /** What to fetch: context key → `parameter(...)` / `secret(...)` (or the same plain object). */
  fetchData: Record<string, FetchEntry>
  /** Also set the values on the handler's `context` (they always go to `request.internal`). Default `true`. */
  setToContext?: boolean
  /** Define secret and SecureString values on `context` as non-enumerable. Default `true`. */
  hideSecrets?: boolean
  /** Cache entry name in `@middy/util`'s cache. Default: derived from `fetchData`, host and port. */
  cacheKey?: string
  /** `0` ask the extension every invocation (default); `-1` forever; ms; above 86,400,000 an absolute Unix-ms time. */
  cacheExpiry?: number
  /** Time allowed for one HTTP attempt (ms). Default 5,000. */
  requestTimeout?: number
  /** Readiness retries, in p-retry's own names. */
  retry?: Partial<RetryOptions>
  /** Time kept free before the function's timeout (ms). Default 250. */
  deadlineMargin?: number
  /** Extension port. Default `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, else 2773. */
  port?: number
  /** Loopback address of the extension. Default `127.0.0.1`. */
  host?: string
  /** Session token. Default `AWS_SESSION_TOKEN`, read when a request is made. */
  token?: string
}

/** One `fetchData` entry after validation. */
export interface ResolvedEntry extends ValueRecipe {
  key: string
  ref: SourceRef
  /** Equal for entries that make the same request, which is then sent once per invocation. */
  sourceId: string
  /** Equal only for entries that produce the same value: the key, the source and the recipe. */
  cacheId: string
}

export interface ResolvedOptions {
  entries: ResolvedEntry[]
  setToContext: boolean
  hideSecrets: boolean
  cacheKey: string
  cacheExpiry: number
  requestTimeout: number
  retry: RetryOptions
  deadlineMargin: number
  port: number
  host: string
  token: string | undefined
}

/** See docs/decisions/0001-defaults.md. */
export const defaults = Object.freeze({
  setToContext: true,
  hideSecrets: true,
  cacheExpiry: 0,
  requestTimeout: 5_000,
  deadlineMargin: 250,
  host: '127.0.0.1',
  port: 2773,
})

const optionKeys = [
  'fetchData',
  'setToContext',
  'hideSecrets',
  'cacheKey',
  'cacheExpiry',
  'requestTimeout',
  'retry',
  'deadlineMargin',
  'port',
  'host',
  'token',
] as const
const parameterKeys = ['parameter', 'version', 'label', 'decrypt', 'parse', 'field', 'schema']
const secretKeys = ['secret', 'versionId', 'versionStage', 'parse', 'field', 'schema']
const parameterModes: ParseMode[] = ['auto', 'text', 'json', 'list']
const secretModes: ParseMode[] = ['auto', 'text', 'json', 'binary']

// Keys land on the Lambda context as they are, so none may replace what Lambda or Middy put there, or
// what every object inherits.
const reservedKeys = new Set([
  '__proto__',
  'constructor',
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
  'callbackWaitsForEmptyEventLoop',
  'functionName',
  'functionVersion',
  'invokedFunctionArn',
  'memoryLimitInMB',
  'awsRequestId',
  'logGroupName',
  'logStreamName',
  'identity',
  'clientContext',
  'tenantId',
  'getRemainingTimeInMillis',
  'done',
  'fail',
  'succeed',
  'lambdaContext',
  'executionContext',
  'durableExecutionArn',
  // Members of Middy 7's durable-mode context (the durable execution SDK's DurableContext).
  'step',
  'wait',
  'waitForCallback',
  'waitForCondition',
  'createCallback',
  'invoke',
  'parallel',
  'map',
  'runInChildContext',
  'promise',
  'logger',
  'configureLogger',
])

const identifierPattern = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u

const fail = (path: string, problem: string): never => {
  throw new TypeError(`middy-extension-secrets: \`${path}\` ${problem}`)
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const checkKnownKeys = (value: Record<string, unknown>, known: readonly string[], path: string) => {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`${path}.${key}`, `is not a known option; known: ${known.join(', ')}`)
  }
}

const checkInteger = (value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be an integer from ${min} to ${max}, got ${describe(value)}`)
  }
  return value as number
}

const checkNumber = (value: unknown, path: string, min: number): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(path, `must be a finite number ≥ ${min}, got ${describe(value)}`)
  }
  return value as number
}

const checkBoolean = (value: unknown, path: string): boolean => {
  if (typeof value !== 'boolean') fail(path, `must be true or false, got ${describe(value)}`)
  return value as boolean
}

const checkText = (value: unknown, path: string): string => {
  if (typeof value !== 'string' || value.length === 0)
    fail(path, `must be a non-empty string, got ${describe(value)}`)
  const text = value as string
  if (!text.isWellFormed()) fail(path, 'is not well-formed UTF-16 (a lone surrogate cannot be URL-encoded)')
  return text
}

const describe = (value: unknown): string => {
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

const isLoopback = (host: string): boolean =>
  host === '::1' || /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host)

const checkSchema = (value: unknown, path: string): StandardSchemaV1 => {
  const standard = (value as { '~standard'?: { validate?: unknown } } | null)?.['~standard']
  if (
    (typeof value !== 'object' && typeof value !== 'function') ||
    typeof standard?.validate !== 'function'
  ) {
    fail(
      path,
      'must be a Standard Schema validator (zod, valibot, arktype...): an object with `~standard.validate`',
    )
  }
  return value as StandardSchemaV1
}

// Schemas cannot be serialized, so each schema object gets a number: two instances with the same
// sources but different validators never share cached values.
const schemaIds = new WeakMap<object, number>()
let lastSchemaId = 0
const schemaId = (schema: StandardSchemaV1): number => {
  let id = schemaIds.get(schema)
  if (id === undefined) {
    id = ++lastSchemaId
    schemaIds.set(schema, id)
  }
  return id
}

const resolveEntry = (key: string, entry: unknown): ResolvedEntry => {
  const path = `fetchData.${key}`
  if (!identifierPattern.test(key)) {
    fail(path, 'is not a valid JavaScript identifier; keys are used as they are on the context, so rename it')
  }
  if (reservedKeys.has(key))
    fail(
      path,
      "would replace a member of the Lambda context (or Middy 7's durable context) or of every object; rename it",
    )
  if (!isPlainObject(entry)) fail(path, 'must be an object made by parameter(...) or secret(...)')
  const item = entry as Record<string, unknown>
  const isParameter = Object.hasOwn(item, 'parameter')
  const isSecret = Object.hasOwn(item, 'secret')
  if (isParameter === isSecret) fail(path, 'must have exactly one of `parameter` and `secret`')
  checkKnownKeys(item, isParameter ? parameterKeys : secretKeys, path)

  const parse = (item.parse ?? 'auto') as ParseMode
  const modes = isParameter ? parameterModes : secretModes
  if (!modes.includes(parse)) {
    fail(
      `${path}.parse`,
      `must be one of ${modes.map((mode) => `'${mode}'`).join(', ')} for a ${isParameter ? 'parameter' : 'secret'}, got ${describe(item.parse)}`,
    )
  }
  let field: string[] | undefined
  if (item.field !== undefined) {
    const text = checkText(item.field, `${path}.field`)
    field = text.split('.')
    if (field.some((segment) => segment.length === 0))
      fail(`${path}.field`, 'must be a dot path with no empty segment, like `db.password`')
    if (parse !== 'auto' && parse !== 'json')
      fail(`${path}.field`, `needs parse 'json' or 'auto', not '${parse}'`)
  }
  const schema = item.schema === undefined ? undefined : checkSchema(item.schema, `${path}.schema`)

  let ref: SourceRef
  if (isParameter) {
    const name = checkText(item.parameter, `${path}.parameter`)
    if (item.version !== undefined && item.label !== undefined)
      fail(path, 'may have `version` or `label`, not both')
    ref = {
      service: 'parameter',
      name,
      decrypt: item.decrypt === undefined ? true : checkBoolean(item.decrypt, `${path}.decrypt`),
    }
    if (item.version !== undefined) ref.version = checkInteger(item.version, `${path}.version`, 1)
    if (item.label !== undefined) ref.label = checkText(item.label, `${path}.label`)
  } else {
    const name = checkText(item.secret, `${path}.secret`)
    if (item.versionId !== undefined && item.versionStage !== undefined)
      fail(path, 'may have `versionId` or `versionStage`, not both')
    ref = { service: 'secret', name }
    if (item.versionId !== undefined) ref.versionId = checkText(item.versionId, `${path}.versionId`)
    if (item.versionStage !== undefined)
      ref.versionStage = checkText(item.versionStage, `${path}.versionStage`)
  }
  const sourceId = requestPath(ref)
  const cacheId = JSON.stringify([
    key,
    sourceId,
    parse,
    field ?? null,
    schema === undefined ? null : schemaId(schema),
  ])
  const resolved: ResolvedEntry = { key, ref, sourceId, cacheId, parse }
  if (field !== undefined) resolved.field = field
  if (schema !== undefined) resolved.schema = schema
  return resolved
}

// maxRetryTime and minTimeout are at least 1 ms: a zero budget would never send a request, and a zero
// backoff would flood the extension while it starts.
const resolveRetry = (value: unknown): RetryOptions => {
  if (value === undefined) return { ...defaultRetry }
  if (!isPlainObject(value)) fail('retry', 'must be an object')
  const input = value as Record<string, unknown>
  checkKnownKeys(input, Object.keys(defaultRetry), 'retry')
  const retry: RetryOptions = {
    maxRetryTime:
      input.maxRetryTime === undefined
        ? defaultRetry.maxRetryTime
        : checkNumber(input.maxRetryTime, 'retry.maxRetryTime', 1),
    minTimeout:
      input.minTimeout === undefined
        ? defaultRetry.minTimeout
        : checkNumber(input.minTimeout, 'retry.minTimeout', 1),
    maxTimeout:
      input.maxTimeout === undefined
        ? defaultRetry.maxTimeout
        : checkNumber(input.maxTimeout, 'retry.maxTimeout', 0),
    factor: input.factor === undefined ? defaultRetry.factor : checkNumber(input.factor, 'retry.factor', 1),
    randomize:
      input.randomize === undefined
        ? defaultRetry.randomize
        : checkBoolean(input.randomize, 'retry.randomize'),
  }
  if (retry.maxTimeout < retry.minTimeout) fail('retry.maxTimeout', 'must be ≥ retry.minTimeout')
  return retry
}

const portFromEnvironment = (): number => {
  const text = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
  if (text === undefined || text === '') return defaults.port
  const port = Number(text)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    fail(
      'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
      `must be an integer from 1 to 65535, got ${describe(text)}`,
    )
  }
  return port
}

// cacheExpiry is part of it: an instance keeping values for a second must not reuse the entries that
// another instance keeps forever.
const derivedCacheKey = (entries: ResolvedEntry[], host: string, port: number, cacheExpiry: number): string =>
  `middy-extension-secrets ${host}:${port} ${cacheExpiry} ${entries.map((entry) => entry.cacheId).join(' ')}`

/** Validates every option, applies the defaults once, and throws a TypeError naming the key on bad input. */
export const resolveOptions = (input: unknown): ResolvedOptions => {
  if (!isPlainObject(input)) fail('options', 'must be an object with at least `fetchData`')
  const options = input as Record<string, unknown>
  for (const key of Object.keys(options)) {
    if (!(optionKeys as readonly string[]).includes(key)) {
      fail(key, `is not a known option; known: ${optionKeys.join(', ')}`)
    }
  }
  if (!isPlainObject(options.fetchData))
    fail('fetchData', 'must be an object of key → parameter(...) / secret(...)')
  const fetchData = options.fetchData as Record<string, unknown>
  const keys = Object.keys(fetchData)
  if (keys.length === 0) fail('fetchData', 'must have at least one entry')
  const entries = keys.map((key) => resolveEntry(key, fetchData[key]))

  const host = options.host === undefined ? defaults.host : checkText(options.host, 'host')
  if (!isLoopback(host)) {
    fail(
      'host',
      `must be a loopback address (127.0.0.1, another 127.x.y.z, or ::1), got ${describe(host)}: the session token is sent with every request`,
    )
  }
  const port =
    options.port === undefined ? portFromEnvironment() : checkInteger(options.port, 'port', 1, 65_535)
  let token: string | undefined
  if (options.token !== undefined) {
    if (typeof options.token !== 'string' || options.token.length === 0)
      fail('token', 'must be a non-empty string')
    token = options.token as string
    // Checked here so that a bad token fails at creation, and the value never reaches an HTTP error.
    if (/[^\t\x20-\x7e\x80-\xff]/.test(token))
      fail('token', 'contains characters not allowed in an HTTP header')
  }
  const cacheExpiry =
    options.cacheExpiry === undefined
      ? defaults.cacheExpiry
      : checkInteger(options.cacheExpiry, 'cacheExpiry', -1)

  return {
    entries,
    setToContext:
      options.setToContext === undefined
        ? defaults.setToContext
        : checkBoolean(options.setToContext, 'setToContext'),
    hideSecrets:
      options.hideSecrets === undefined
        ? defaults.hideSecrets
        : checkBoolean(options.hideSecrets, 'hideSecrets'),
    cacheKey:
      options.cacheKey === undefined
        ? derivedCacheKey(entries, host, port, cacheExpiry)
        : checkText(options.cacheKey, 'cacheKey'),
    cacheExpiry,
    requestTimeout:
      options.requestTimeout === undefined
        ? defaults.requestTimeout
        : checkInteger(options.requestTimeout, 'requestTimeout', 1),
    retry: resolveRetry(options.retry),
    deadlineMargin:
      options.deadlineMargin === undefined
        ? defaults.deadlineMargin
        : checkNumber(options.deadlineMargin, 'deadlineMargin', 0),
    port,
    host,
    token,
  }
}
