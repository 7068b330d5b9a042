import type { Options as PRetryOptions } from 'p-retry'
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKeys,
  checkText,
  describe,
  fail,
  isPlainObject,
} from './checks.js'
import type { ColdStartRetryOptions } from './cold-start.js'
import { contextMembers, type FetchEntry } from './entries.js'
import type { ExtensionSecretsError } from './errors.js'
import type { EventHook } from './events.js'
import { badHeaderValue, requestPath, type Source } from './extension.js'
import { isLoopbackAddress } from './loopback.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { ParseMode, Recipe } from './value.js'

/** p-retry's own options for the wait while the extension is not ready; p-retry validates them. */
export type RetryOptions = Pick<
  PRetryOptions,
  'retries' | 'factor' | 'minTimeout' | 'maxTimeout' | 'randomize' | 'maxRetryTime'
>

export interface ExtensionSecretsOptions {
  /** What to fetch: context key → `parameter(...)` / `secret(...)` (or the same plain object). */
  fetchData: Record<string, FetchEntry>
  /** Also set the values on the handler's `context` (they always go to `request.internal`). Default `true`. */
  setToContext?: boolean
  /** Secrets and SecureStrings are non-enumerable on `context`, so loggers skip them. Default `true`. */
  hideSecrets?: boolean
  /** Name of this package's store in `@middy/util`'s cache. Default `'default'`. */
  cacheKey?: string
  /** `0` ask every invocation (default); `-1` forever; ms; above 86,400,000 an absolute Unix-ms time. */
  cacheExpiry?: number
  /** Serve the last good value when a refresh fails with a transient error, up to `maxStale` ms old. */
  staleIfError?: StaleIfError
  /** Time allowed for one HTTP attempt (ms). Default 5,000. */
  requestTimeout?: number
  /** p-retry's options for the wait while the extension is not ready. */
  retry?: RetryOptions
  /**
   * Off by default. p-retry's options for asking again when the layer's generic 400 came after 1 s or
   * more (it retried upstream: throttling) for a value this process never had, within the deadline;
   * `randomize` defaults to `true`. For cold-start storms: docs/scaling.md.
   */
  coldStartRetry?: ColdStartRetryOptions
  /** Time kept free before the function's timeout (ms). Default 250. */
  deadlineMargin?: number
  /** Extension port. Default `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (read at each request), else 2773. */
  port?: number
  /** Loopback address of the extension: an IP literal. Default `127.0.0.1`. */
  host?: string
  /** Session token. Default `AWS_SESSION_TOKEN`, read at each request. */
  token?: string
  /** Sees what the middleware does, per key: never a value or the token. A throw is ignored. */
  onEvent?: EventHook
}

export interface StaleIfError {
  /** The oldest value ever served, in ms from its arrival. Above a duration `cacheExpiry`. */
  maxStale: number
  /** Which failures a stale value may hide; may be async (awaited within the deadline). Default `isTransientError`. */
  when?: (error: ExtensionSecretsError) => boolean | PromiseLike<boolean>
}

/** One `fetchData` entry after validation. */
export interface Entry {
  key: string
  source: Source
  /** The request path without any cache bypass. */
  path: string
  recipe: Recipe
  optional: boolean
}

/** See docs/decisions/0001-defaults.md and 0002-retry-budget.md. */
export const defaults = {
  setToContext: true,
  hideSecrets: true,
  cacheKey: 'default',
  cacheExpiry: 0,
  requestTimeout: 5_000,
  deadlineMargin: 250,
  host: '127.0.0.1',
  port: 2773,
  retry: {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: 3,
    maxTimeout: 4,
    factor: 2,
    randomize: true,
    maxRetryTime: 10_000,
  },
}

const optionKeys = Object.keys({
  fetchData: 0,
  ...defaults,
  staleIfError: 0,
  coldStartRetry: 0,
  token: 0,
  onEvent: 0,
})
const retryKeys = Object.keys(defaults.retry)
const coldRetryKeys = retryKeys.filter((key) => key !== 'maxRetryTime')
const parameterKeys = ['parameter', 'version', 'label', 'decrypt', 'parse', 'field', 'schema', 'optional']
const secretKeys = ['secret', 'versionId', 'versionStage', 'parse', 'field', 'schema', 'optional']
/** Middy's convention: above 24 h, `cacheExpiry` is an absolute Unix-ms time. */
export const absoluteAfter = 86_400_000

// Keys land on the Lambda context as they are: none may replace what Lambda, Middy 7's durable context
// or every object already has there.
const reserved = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  '__proto__',
  'prototype',
  ...contextMembers,
])
// The ASCII test first: compiling the Unicode property classes costs about a millisecond at creation.
const isIdentifier = (key: string) =>
  /^[A-Za-z_$][\w$]*$/.test(key) || /^[\p{ID_Start}$_][\p{ID_Continue}$\u200C\u200D]*$/u.test(key)

const resolveEntry = (key: string, input: unknown): Entry => {
  const path = `fetchData.${key}`
  if (!isIdentifier(key))
    fail(path, 'is not a JavaScript identifier; keys are used as they are on the context')
  if (reserved.has(key))
    fail(
      path,
      'would replace a member of the Lambda context, of Middy 7’s durable context or of every object',
    )
  if (!isPlainObject(input)) fail(path, 'must be an object made by parameter(...) or secret(...)')
  const entry = input as Record<string, unknown>
  const isParameter = Object.hasOwn(entry, 'parameter')
  if (isParameter === Object.hasOwn(entry, 'secret'))
    fail(path, 'must have exactly one of `parameter` and `secret`')
  checkKeys(entry, isParameter ? parameterKeys : secretKeys, `${path}.`)
  const check = <T>(name: string, checker: (value: unknown, at: string) => T): T | undefined =>
    entry[name] === undefined ? undefined : checker(entry[name], `${path}.${name}`)

  const modes: ParseMode[] = isParameter
    ? ['auto', 'text', 'json', 'list']
    : ['auto', 'text', 'json', 'binary']
  const parse = (entry.parse ?? 'auto') as ParseMode
  if (!modes.includes(parse))
    fail(`${path}.parse`, `must be one of ${modes.join(', ')}, got ${describe(entry.parse)}`)
  const field = check('field', checkText)?.split('.')
  if (field?.includes(''))
    fail(`${path}.field`, 'must be a dot path with no empty segment, like `db.password`')
  if (field !== undefined && parse !== 'auto' && parse !== 'json')
    fail(`${path}.field`, `needs parse 'auto' or 'json', not '${parse}'`)
  const schema = check('schema', (value, at) => {
    if (typeof (value as StandardSchemaV1 | null)?.['~standard']?.validate !== 'function')
      fail(
        at,
        'must be a Standard Schema validator (zod, valibot, arktype…): an object with `~standard.validate`',
      )
    return value as StandardSchemaV1
  })

  const both = (a: string, b: string) => {
    if (entry[a] !== undefined && entry[b] !== undefined)
      fail(path, `may have \`${a}\` or \`${b}\`, not both`)
  }
  let source: Source
  if (isParameter) {
    both('version', 'label')
    source = {
      service: 'parameter',
      name: checkText(entry.parameter, `${path}.parameter`),
      version: check('version', (value, at) => checkInteger(value, at, 1, Number.MAX_SAFE_INTEGER)),
      label: check('label', checkText),
      decrypt: check('decrypt', checkBoolean) ?? true,
    }
  } else {
    both('versionId', 'versionStage')
    source = {
      service: 'secret',
      name: checkText(entry.secret, `${path}.secret`),
      versionId: check('versionId', checkText),
      versionStage: check('versionStage', checkText),
    }
  }
  return {
    key,
    source,
    path: requestPath(source),
    recipe: { parse, field, schema },
    optional: check('optional', checkBoolean) ?? false,
  }
}

/** Ports are decimal digits only: `Number()` would also read `0x0AD5`, `1e3` or `2773\n`. */
export const parsePort = (text: string, path: string): number => {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65_535)
    fail(path, `must be a port from 1 to 65535 in decimal digits, got ${describe(text)}`)
  return Number(text)
}

/** Where the extension is; the same object comes back while it does not change. */
export interface Address {
  host: string
  port: number
  /** Where `port` came from, for the unreachable diagnosis. */
  portFrom: string
}

/**
 * Reads the extension's address: the `port` option, else PARAMETERS_SECRETS_EXTENSION_HTTP_PORT as it
 * is now (a test may set it after importing a handler), else 2773. The same object comes back while the
 * variable does not change, so what is keyed by it need not be rebuilt.
 */
export const addressReader = (host: string, port: number | undefined): (() => Address) => {
  if (port !== undefined) {
    const fixed = { host, port, portFrom: 'the `port` option' }
    return () => fixed
  }
  let address: Address | undefined
  let portText: string | undefined
  return () => {
    const text = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
    if (address === undefined || text !== portText) {
      address = text
        ? {
            host,
            port: parsePort(text, 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT'),
            portFrom: 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
          }
        : { host, port: defaults.port, portFrom: 'the default, 2773' }
      portText = text
    }
    return address
  }
}

export type Resolved = ReturnType<typeof resolveOptions>

/** Validates every option and applies the defaults once; a TypeError names the first bad key. */
export const resolveOptions = (input: unknown) => {
  if (!isPlainObject(input)) fail('options', 'must be an object with at least `fetchData`')
  const options = input as Record<string, unknown>
  checkKeys(options, optionKeys, '')
  if (!isPlainObject(options.fetchData))
    fail('fetchData', 'must be an object of key → parameter(...) / secret(...)')
  const fetchData = options.fetchData as Record<string, unknown>
  const entries = Object.keys(fetchData).map((key) => resolveEntry(key, fetchData[key]))
  if (entries.length === 0) fail('fetchData', 'must have at least one entry')
  const check = <T>(name: string, checker: (value: unknown, at: string) => T, fallback: T): T =>
    options[name] === undefined ? fallback : checker(options[name], name)

  const host = check('host', checkText, defaults.host)
  if (!isLoopbackAddress(host))
    fail(
      'host',
      `must be a loopback address, an IP literal (127.x.y.z or ::1), got ${describe(host)}: the session token goes with every request`,
    )
  const port = check('port', (value, at) => checkInteger(value, at, 1, 65_535), undefined)
  // Read again at each request; checked here too so that a bad value fails at creation.
  const fromEnvironment = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
  if (port === undefined && fromEnvironment)
    parsePort(fromEnvironment, 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT')
  const token = check('token', checkText, undefined)
  // Node refuses such header values with an error of its own; refusing first keeps the token out of it.
  if (token !== undefined && badHeaderValue.test(token))
    fail('token', 'has characters not allowed in an HTTP header')

  const cacheExpiry = check(
    'cacheExpiry',
    (value, at) => checkInteger(value, at, -1, Number.MAX_SAFE_INTEGER),
    defaults.cacheExpiry,
  )
  if (cacheExpiry > absoluteAfter && cacheExpiry <= Date.now())
    fail(
      'cacheExpiry',
      `is ${cacheExpiry}, which Middy reads as an absolute Unix-ms time (above 86,400,000 = 24 h) already past; a duration must be at most 86,400,000 ms`,
    )
  const staleIfError = check(
    'staleIfError',
    (value, at): { maxStale: number; when?: StaleIfError['when'] } => {
      if (!isPlainObject(value)) fail(at, 'must be an object like { maxStale: 60_000 }')
      const stale = value as Record<string, unknown>
      checkKeys(stale, ['maxStale', 'when'], `${at}.`)
      const maxStale = checkInteger(stale.maxStale, `${at}.maxStale`, 1)
      if (cacheExpiry === 0 || cacheExpiry === -1)
        fail(at, 'needs values that are cached and expire: set `cacheExpiry` to a duration or a time')
      if (cacheExpiry <= absoluteAfter && maxStale <= cacheExpiry)
        fail(
          `${at}.maxStale`,
          `must be above cacheExpiry (${cacheExpiry}): it counts from the value's arrival`,
        )
      if (stale.when !== undefined) checkFunction(stale.when, `${at}.when`, '(error) => boolean')
      return stale.when === undefined ? { maxStale } : { maxStale, when: stale.when as StaleIfError['when'] }
    },
    undefined,
  )
  const retry = check(
    'retry',
    (value, at) => {
      if (!isPlainObject(value)) fail(at, 'must be an object of p-retry options')
      checkKeys(value as object, retryKeys, `${at}.`)
      // The values are p-retry's to check: it does so at the first request.
      const chosen = value as RetryOptions
      // Left out, the cap follows a larger minTimeout: the default 8 ms cap would silently shrink it.
      const maxTimeout =
        chosen.maxTimeout === undefined && typeof chosen.minTimeout === 'number'
          ? Math.max(defaults.retry.maxTimeout, chosen.minTimeout)
          : defaults.retry.maxTimeout
      return { ...defaults.retry, maxTimeout, ...chosen }
    },
    defaults.retry,
  )
  const coldStartRetry = check(
    'coldStartRetry',
    (value, at): ColdStartRetryOptions => {
      if (!isPlainObject(value))
        fail(
          at,
          'must be an object of p-retry options, like { retries: 5, minTimeout: 2000, maxTimeout: 8000 }',
        )
      checkKeys(value as object, coldRetryKeys, `${at}.`)
      // Jitter is what keeps a thousand environments from asking again in the same instant.
      const chosen = value as ColdStartRetryOptions
      return { ...chosen, randomize: chosen.randomize ?? true }
    },
    undefined,
  )

  return {
    entries,
    setToContext: check('setToContext', checkBoolean, defaults.setToContext),
    hideSecrets: check('hideSecrets', checkBoolean, defaults.hideSecrets),
    cacheKey: check('cacheKey', checkText, defaults.cacheKey),
    cacheExpiry,
    staleIfError,
    requestTimeout: check(
      'requestTimeout',
      (value, at) => checkInteger(value, at, 1),
      defaults.requestTimeout,
    ),
    retry,
    coldStartRetry,
    deadlineMargin: check(
      'deadlineMargin',
      (value, at) => checkInteger(value, at, 0),
      defaults.deadlineMargin,
    ),
    host,
    port,
    token,
    onEvent: check(
      'onEvent',
      (value, at) => checkFunction(value, at, '(event) => void') as EventHook,
      undefined,
    ),
  }
}
