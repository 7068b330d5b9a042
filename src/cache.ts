import { getCache, processCache } from '@middy/util'
import type { KeyFetch } from './key-fetch.js'

/** A produced value, and whether `hideSecrets` keeps it off the context's enumerable keys. */
export interface ProducedValue {
  value: unknown
  sensitive: boolean
}

/**
 * One cached `fetchData` key. `value` is the last good value (with its arrival time) and `expiresAt`
 * says until when it is served without asking; `inFlight` is the fetch that concurrent invocations
 * share. An expired value is kept only for `staleIfError`; without it, a failed fetch removes the slot.
 */
export interface CacheSlot {
  value?: ProducedValue
  fetchedAt: number
  expiresAt: number
  inFlight?: Promise<KeyFetch>
}

export type ValueStore = Map<string, CacheSlot>

/**
 * The store of one `cacheKey`, held inside `@middy/util`'s cache so that its `clearCache()` empties it.
 * It is registered with `cacheExpiry: -1`, which never schedules a refresh timer: expiry is checked per
 * key when an invocation asks (see docs/decisions/0003-cache.md), so nothing runs between invocations.
 */
export const valueStore = (cacheKey: string): ValueStore =>
  // getCache returns the stored entry itself; processCache copies it on every hit, an allocation per
  // invocation, so it is only called to create the store.
  (getCache(cacheKey) as { value?: ValueStore }).value ??
  (processCache({ cacheKey, cacheExpiry: -1 }, () => new Map()).value as ValueStore)

/** Middy's convention: above 24 h, `cacheExpiry` is an absolute Unix-ms time rather than a duration. */
export const absoluteThreshold = 86_400_000

export const expiresAt = (cacheExpiry: number, fetchedAt: number): number => {
  if (cacheExpiry < 0) return Number.POSITIVE_INFINITY
  if (cacheExpiry > absoluteThreshold) return cacheExpiry
  return fetchedAt + cacheExpiry
}
