import { absoluteThreshold } from './cache.js'
import { checkInteger, checkKnownKeys, describe, fail, isPlainObject, maxTimerMs } from './checks.js'
import type { SourceRef } from './client/source-ref.js'
import type { ExtensionSecretsError } from './errors.js'

// Options that trade freshness against availability: serving a stale value when a refresh fails, and
// dropping cached values on demand. See docs/decisions/0011-freshness-and-events.md.

export interface StaleIfErrorOptions {
  /**
   * The oldest value ever served, in ms counted from its arrival from the extension (not from its
   * expiry). Must be above a duration `cacheExpiry`, or nothing could ever be served stale.
   */
  maxStale: number
  /** Which failures may be masked. Default {@link isTransientError}. */
  when?: (error: ExtensionSecretsError) => boolean
}

export interface ResolvedStaleIfError {
  maxStale: number
  when: (error: ExtensionSecretsError) => boolean
}

/**
 * How to get past the extension's own cache after `invalidate()` or `refreshOn`:
 * - `'versionStage'` asks for `versionStage=AWSCURRENT` explicitly from then on, a request the layer
 *   has not cached yet. **Relies on unverified layer behaviour** (that it caches by the full query).
 * - `'refreshNow'` sends `refreshNow=true` once: only for the AWS Secrets Manager Agent, which documents
 *   it; the Lambda layer does not.
 * Both apply to secrets without `versionId` / `versionStage`; parameters have no such selector.
 */
export type BypassExtensionCache = 'versionStage' | 'refreshNow'

/** The answer of `refreshOn`: drop all cached values (`true`), none, or those of the listed keys. */
export type RefreshOnAnswer = boolean | readonly string[]

/** Called with the handler's error; may be async. */
export type RefreshOn = (error: unknown) => RefreshOnAnswer | PromiseLike<RefreshOnAnswer>

const transientCodes = new Set(['EXTENSION_UNREACHABLE', 'EXTENSION_NOT_READY', 'TIMEOUT'])

/**
 * The default of `staleIfError.when`: the extension could not be reached, was not ready, did not answer
 * in time, or kept answering 5xx. Not the generic `UPSTREAM_ERROR` 400: through the layer it also means
 * revoked access or a deleted secret, which a stale value must not hide.
 */
export const isTransientError = (error: ExtensionSecretsError): boolean =>
  transientCodes.has(error.code) ||
  (error.code === 'UPSTREAM_ERROR' && error.status !== undefined && error.status >= 500)

export const resolveStaleIfError = (
  value: unknown,
  cacheExpiry: number,
): ResolvedStaleIfError | undefined => {
  if (value === undefined) return undefined
  if (!isPlainObject(value)) fail('staleIfError', 'must be an object like { maxStale: 60_000 }')
  const input = value as Record<string, unknown>
  checkKnownKeys(input, ['maxStale', 'when'], 'staleIfError')
  if (input.maxStale === undefined)
    fail('staleIfError.maxStale', 'is required: the bound on staleness, in ms')
  const maxStale = checkInteger(input.maxStale, 'staleIfError.maxStale', 1, maxTimerMs)
  if (input.when !== undefined && typeof input.when !== 'function')
    fail('staleIfError.when', `must be a function (error) => boolean, got ${describe(input.when)}`)
  if (cacheExpiry === 0)
    fail('staleIfError', 'needs caching on: set `cacheExpiry`, since the last good value lives in the cache')
  if (cacheExpiry === -1)
    fail('staleIfError', 'needs values that expire: with cacheExpiry -1 a cached value is never refreshed')
  if (cacheExpiry > 0 && cacheExpiry <= absoluteThreshold && maxStale <= cacheExpiry) {
    fail(
      'staleIfError.maxStale',
      `must be above cacheExpiry (${cacheExpiry}): it counts from the value's arrival, so a value is never stale before it expires`,
    )
  }
  return {
    maxStale,
    when: (input.when as ResolvedStaleIfError['when'] | undefined) ?? isTransientError,
  }
}

/** A secret asked for without a version or stage: the only requests a bypass can apply to. */
export const isBypassable = (ref: SourceRef): boolean =>
  ref.service === 'secret' && ref.versionId === undefined && ref.versionStage === undefined

export const resolveBypass = (
  value: unknown,
  refs: readonly SourceRef[],
): BypassExtensionCache | undefined => {
  if (value === undefined) return undefined
  if (value !== 'versionStage' && value !== 'refreshNow')
    fail('bypassExtensionCache', `must be 'versionStage' or 'refreshNow', got ${describe(value)}`)
  if (!refs.some(isBypassable))
    fail(
      'bypassExtensionCache',
      'applies to secrets without versionId / versionStage, and fetchData has none: parameters have no such selector',
    )
  return value as BypassExtensionCache
}

export const resolveRefreshOn = (
  value: unknown,
  cacheExpiry: number,
  bypass: BypassExtensionCache | undefined,
) => {
  if (value === undefined) return undefined
  if (typeof value !== 'function')
    fail('refreshOn', `must be a function (error) => boolean | string[], got ${describe(value)}`)
  if (cacheExpiry === 0 && bypass === undefined)
    fail(
      'refreshOn',
      "has nothing to drop: with cacheExpiry 0 nothing is cached; set cacheExpiry, or bypassExtensionCache to get past the extension's cache",
    )
  return value as RefreshOn
}
