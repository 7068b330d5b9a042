import {
  checkBoolean,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkText,
  describe,
  fail,
  isLoopback,
  isPlainObject,
  maxTimerMs,
} from './checks.js'
import { isValidHeaderValue } from './client/http.js'
import { defaultRetry, type RetryOptions } from './client/retry-policy.js'
import { createEmit, type Emit, type EventHook } from './events.js'
import { type ResolvedEntry, resolveEntry } from './fetch-data.js'
import {
  type BypassExtensionCache,
  type RefreshOn,
  type ResolvedStaleIfError,
  resolveBypass,
  resolveRefreshOn,
  resolveStaleIfError,
  type StaleIfErrorOptions,
} from './freshness.js'
import type { FetchEntry } from './sources.js'

export type { ResolvedEntry } from './fetch-data.js'

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
  /** Observes what the middleware does, per key: never a value or the token. A throw is ignored. */
  onEvent?: EventHook
  /** Serve the last good value when a refresh fails with a transient error, within a bound. Needs `cacheExpiry`. */
  staleIfError?: StaleIfErrorOptions
  /** Called with the handler's error: drop all cached values (`true`) or those of the listed keys. May be async. */
  refreshOn?: RefreshOn
  /** After `invalidate()` / `refreshOn`, how to get past the extension's own cache. Default: not at all. */
  bypassExtensionCache?: BypassExtensionCache
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
  emit: Emit | undefined
  staleIfError: ResolvedStaleIfError | undefined
  refreshOn: RefreshOn | undefined
  bypassExtensionCache: BypassExtensionCache | undefined
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
  'onEvent',
  'staleIfError',
  'refreshOn',
  'bypassExtensionCache',
] as const
// maxRetryTime and minTimeout are at least 1 ms: a zero budget would never send a request, and a zero
// backoff would flood the extension while it starts.
const resolveRetry = (value: unknown): RetryOptions => {
  if (value === undefined) return { ...defaultRetry }
  if (!isPlainObject(value)) fail('retry', 'must be an object')
  const input = value as Record<string, unknown>
  checkKnownKeys(input, Object.keys(defaultRetry), 'retry')
  const minTimeout =
    input.minTimeout === undefined
      ? defaultRetry.minTimeout
      : checkNumber(input.minTimeout, 'retry.minTimeout', 1, maxTimerMs)
  const retry: RetryOptions = {
    maxRetryTime:
      input.maxRetryTime === undefined
        ? defaultRetry.maxRetryTime
        : checkNumber(input.maxRetryTime, 'retry.maxRetryTime', 1, maxTimerMs),
    minTimeout,
    // Left out, the cap follows a larger minTimeout rather than rejecting it: only a cap the user chose
    // below their own minTimeout is a contradiction.
    maxTimeout:
      input.maxTimeout === undefined
        ? Math.max(defaultRetry.maxTimeout, minTimeout)
        : checkNumber(input.maxTimeout, 'retry.maxTimeout', 0, maxTimerMs),
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
// So is staleIfError: an instance without it drops the last good values that another one keeps.
const derivedCacheKey = (
  entries: ResolvedEntry[],
  host: string,
  port: number,
  cacheExpiry: number,
  maxStale: number | undefined,
): string =>
  `middy-extension-secrets ${host}:${port} ${cacheExpiry} ${maxStale ?? '-'} ${entries.map((entry) => entry.cacheId).join(' ')}`

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
    if (!isValidHeaderValue(token)) fail('token', 'contains characters not allowed in an HTTP header')
  }
  const cacheExpiry =
    options.cacheExpiry === undefined
      ? defaults.cacheExpiry
      : checkInteger(options.cacheExpiry, 'cacheExpiry', -1)
  const staleIfError = resolveStaleIfError(options.staleIfError, cacheExpiry)
  const bypassExtensionCache = resolveBypass(
    options.bypassExtensionCache,
    entries.map((entry) => entry.ref),
  )
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    fail('onEvent', `must be a function (event) => void, got ${describe(options.onEvent)}`)

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
        ? derivedCacheKey(entries, host, port, cacheExpiry, staleIfError?.maxStale)
        : checkText(options.cacheKey, 'cacheKey'),
    cacheExpiry,
    requestTimeout:
      options.requestTimeout === undefined
        ? defaults.requestTimeout
        : checkInteger(options.requestTimeout, 'requestTimeout', 1, maxTimerMs),
    retry: resolveRetry(options.retry),
    deadlineMargin:
      options.deadlineMargin === undefined
        ? defaults.deadlineMargin
        : checkNumber(options.deadlineMargin, 'deadlineMargin', 0, maxTimerMs),
    port,
    host,
    token,
    emit: createEmit(options.onEvent as EventHook | undefined),
    staleIfError,
    refreshOn: resolveRefreshOn(options.refreshOn, cacheExpiry, bypassExtensionCache),
    bypassExtensionCache,
  }
}

/**
 * Checks options as `extensionSecrets` does, without creating a middleware: for options loaded from a
 * file or built at run time. Throws a `TypeError` naming the first bad key.
 */
export const extensionSecretsValidateOptions = (options: unknown): void => {
  resolveOptions(options)
}
