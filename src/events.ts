import type { ExtensionSecretsErrorCode, SourceService } from './errors.js'

/** Where a key's value came from in this invocation, as far as this package's own cache goes. */
export type CacheState =
  /** `cacheExpiry: 0`: every invocation asks the extension. */
  | 'off'
  /** Nothing cached for this key yet (first invocation, after a failure or `clearCache()`). */
  | 'miss'
  /** The cached value had expired. */
  | 'expired'
  /** `invalidate()` or `refreshOn` dropped the cached value. */
  | 'invalidated'
  /** A concurrent invocation was already fetching it: this one waited for that fetch. */
  | 'shared'

interface KeyFields {
  /** The `fetchData` key. */
  key: string
  source: SourceService
  /** The parameter name or secret id, as configured (a name, never a value). */
  name: string
}

/** A value served from this package's cache, without a request. */
export interface HitEvent extends KeyFields {
  type: 'hit'
  /** Time since the value arrived from the extension (ms). */
  ageMs: number
}

/** A value fetched from the extension in this invocation. */
export interface FetchedEvent extends KeyFields {
  type: 'fetched'
  cache: CacheState
  /** HTTP requests this invocation sent (more than one while the extension was not ready; 0 when `shared`). */
  attempts: number
  /** From the first request to the value, retries and backoff included; when `shared`, the wait (ms). */
  elapsedMs: number
  /** Part of `elapsedMs` spent before the attempt that succeeded: waiting for the extension (ms). */
  readinessWaitMs: number
}

/** A key that failed in this invocation (the invocation fails with `FETCH_FAILED`, unless stale). */
export interface FailedEvent extends KeyFields {
  type: 'failed'
  cache: CacheState
  code: ExtensionSecretsErrorCode
  /** The extension's last non-200 status, when there was one. */
  status?: number
  attempts: number
  elapsedMs: number
}

/** `staleIfError`: the refresh failed, and the last good value was served instead. */
export interface StaleEvent extends KeyFields {
  type: 'stale'
  /** The code of the failure the stale value stands in for. */
  code: ExtensionSecretsErrorCode
  status?: number
  /** Time since the served value arrived from the extension (ms); never above `maxStale`. */
  ageMs: number
  attempts: number
  elapsedMs: number
}

/** `stages`: a previous or pending version the extension did not serve; the value has no such field. */
export interface StageMissingEvent extends KeyFields {
  type: 'stage-missing'
  stage: 'previous' | 'pending'
  status?: number
}

/** Cached values dropped on request; the next invocation fetches these keys from the extension. */
export interface InvalidatedEvent {
  type: 'invalidated'
  keys: string[]
  trigger: 'invalidate' | 'refreshOn'
}

/**
 * What the middleware did, one event per key and invocation (plus `invalidated`). Events carry names,
 * codes, counts and times: never a value, never the session token.
 */
export type ExtensionSecretsEvent =
  | HitEvent
  | FetchedEvent
  | FailedEvent
  | StaleEvent
  | StageMissingEvent
  | InvalidatedEvent

export type EventHook = (event: ExtensionSecretsEvent) => unknown

export type Emit = (event: ExtensionSecretsEvent) => void

const warningCode = 'MIDDY_EXTENSION_SECRETS_ON_EVENT'

/**
 * Wraps the user's hook so that observing can never fail an invocation: a throw or a rejected promise is
 * reported once per middleware as a process warning (the first one only, so a broken hook cannot flood
 * the logs) and otherwise ignored.
 */
export const createEmit = (hook: EventHook | undefined): Emit | undefined => {
  if (hook === undefined) return undefined
  let warned = false
  const report = (error: unknown) => {
    if (warned) return
    warned = true
    const what = error instanceof Error ? `${error.name}: ${error.message}` : typeof error
    process.emitWarning(`middy-extension-secrets: onEvent failed and is ignored (${what})`, {
      code: warningCode,
    })
  }
  return (event) => {
    try {
      const result = hook(event)
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        Promise.resolve(result).catch(report)
      }
    } catch (error) {
      report(error)
    }
  }
}
