import { type CacheSlot, expiresAt, type ProducedValue, type ValueStore, valueStore } from './cache.js'
import type { ExtensionClient, Fetched } from './client/extension-client.js'
import { requestPath, type SourceRef } from './client/source-ref.js'
import { invocationDeadline } from './deadline.js'
import { ExtensionSecretsError, type ExtensionSecretsErrorCode } from './errors.js'
import type { CacheState } from './events.js'
import { createInvalidations } from './invalidations.js'
import { fetchKey, type KeyFetch, keyLabel } from './key-fetch.js'
import type { ResolvedOptions } from './options.js'

/** Every key's value, in `entries` order. */
export type LoadedValues = ProducedValue[]

const fetchFailed = (errors: ExtensionSecretsError[], total: number): ExtensionSecretsError => {
  const list = errors.map((error) => `${error.code} ${error.reason}`).join('; ')
  return new ExtensionSecretsError(
    'FETCH_FAILED',
    `failed to fetch ${errors.length} of ${total} values: ${list}`,
    { errors },
  )
}

// A fetch shared with a concurrent invocation may fail because *its* time ran out; an invocation with
// more time left fetches again rather than inherit that failure.
const budgetCodes: ReadonlySet<ExtensionSecretsErrorCode> = new Set([
  'TIMEOUT',
  'EXTENSION_NOT_READY',
  'EXTENSION_UNREACHABLE',
])

const timeLeft = (deadline: number | undefined) => deadline === undefined || deadline - performance.now() >= 1

/** Raced against a shared fetch: this invocation's own deadline passed first. */
const expired = Symbol('expired')

/** What the keys one invocation still has to load share. */
interface Round {
  /** One request per distinct source in this invocation. */
  request: (ref: SourceRef) => Promise<Fetched>
  store: ValueStore | undefined
  deadline: number | undefined
  /** Settles with `expired` at the deadline; made only once a key waits on another invocation. */
  waitUntil?: Promise<typeof expired>
}

const keyFields = (entry: ResolvedOptions['entries'][number]) => ({
  key: entry.key,
  source: entry.ref.service,
  name: entry.ref.name,
})

/**
 * Loads every `fetchData` value for one invocation: cached values when still fresh, and otherwise one
 * request per distinct source, all in parallel, within the invocation's deadline (a `performance.now()`
 * time, or undefined without a Lambda context).
 * Also keeps what `invalidate()` asked for: which keys to fetch again, and past the extension's cache.
 */
export const createLoader = (options: ResolvedOptions, client: ExtensionClient) => {
  const { entries, cacheExpiry, cacheKey, emit, staleIfError, bypassExtensionCache, deadlineMargin } = options
  const invalidations = createInvalidations(entries, bypassExtensionCache)

  /** One request per distinct source and invocation, whichever keys ask for it. */
  const requester = (deadline: number | undefined) => {
    const requests = new Map<string, Promise<Fetched>>()
    return (ref: SourceRef): Promise<Fetched> => {
      const path = requestPath(ref)
      let request = requests.get(path)
      if (request === undefined) {
        request = client.get(ref, deadline === undefined ? {} : { deadline })
        requests.set(path, request)
      }
      return request
    }
  }

  /** Starts the fetch of one key, in the cache when there is one, so concurrent invocations share it. */
  const startFetch = (index: number, { request, store }: Round): Promise<KeyFetch> => {
    const entry = entries[index]!
    const { ref, succeeded } = invalidations.begin(index)
    const promise = fetchKey(entry, ref, request)
    if (succeeded !== undefined) promise.then(succeeded, noop)
    if (store === undefined) return promise
    let slot = store.get(entry.cacheId)
    if (slot === undefined) {
      slot = { fetchedAt: 0, expiresAt: 0 }
      store.set(entry.cacheId, slot)
    }
    // The last good value outlives its expiry only to stand in for a failed refresh.
    if (staleIfError === undefined) slot.value = undefined
    const current = slot
    current.inFlight = promise
    promise.then(
      (fetched) => {
        if (current.inFlight !== promise) return
        current.inFlight = undefined
        current.value = fetched.produced
        current.fetchedAt = Date.now()
        // In flight, the slot is shared whatever cacheExpiry is; its lifetime counts from the arrival.
        current.expiresAt = expiresAt(cacheExpiry, current.fetchedAt)
      },
      () => {
        if (current.inFlight !== promise) return
        current.inFlight = undefined
        // A value past maxStale can never be served again: it is not kept in memory either.
        if (staleIfError !== undefined && Date.now() - current.fetchedAt > staleIfError.maxStale) {
          current.value = undefined
        }
        // A failure is never cached: only this key is fetched again next time.
        if (current.value === undefined && store.get(entry.cacheId) === current) store.delete(entry.cacheId)
      },
    )
    return promise
  }

  /** `staleIfError`: the last good value, if the failure is one it may hide and the value is young enough. */
  const staleValue = (index: number, slot: CacheSlot | undefined, error: ExtensionSecretsError) => {
    if (staleIfError === undefined || slot?.value === undefined) return undefined
    // clearCache() during the refresh replaced the store: the slot read before it is no longer cached.
    if (valueStore(cacheKey).get(entries[index]!.cacheId) !== slot) return undefined
    const ageMs = Date.now() - slot.fetchedAt
    if (ageMs > staleIfError.maxStale) return undefined
    let allowed = false
    try {
      allowed = staleIfError.when(error) === true
    } catch {
      // A predicate that throws allows nothing: the failure is reported as it is.
    }
    return allowed ? { produced: slot.value, ageMs } : undefined
  }

  /** One key that is not a fresh cache hit: fetched, or joined, then reported. */
  const resolveKey = async (
    index: number,
    state: CacheState,
    slot: CacheSlot | undefined,
    round: Round,
  ): Promise<ProducedValue> => {
    const entry = entries[index]!
    const started = performance.now()
    let fetched: KeyFetch
    try {
      if (state === 'shared') {
        fetched = await joinShared(index, slot!.inFlight!, started, round)
      } else {
        fetched = await startFetch(index, round)
      }
    } catch (error) {
      const failure = error as ExtensionSecretsError
      const stale = staleValue(index, slot, failure)
      const fields = keyFields(entry)
      const status = failure.status === undefined ? {} : { status: failure.status }
      const counts = { attempts: failure.attempts ?? 0, elapsedMs: failure.elapsedMs ?? 0 }
      if (stale !== undefined) {
        emit?.({ type: 'stale', ...fields, code: failure.code, ...status, ageMs: stale.ageMs, ...counts })
        return stale.produced
      }
      emit?.({ type: 'failed', ...fields, cache: state, code: failure.code, ...status, ...counts })
      throw failure
    }
    if (emit !== undefined) {
      const fields = keyFields(entry)
      emit({
        type: 'fetched',
        ...fields,
        cache: state,
        attempts: fetched.attempts,
        elapsedMs: fetched.elapsedMs,
        readinessWaitMs: fetched.readinessWaitMs,
      })
      for (const { stage, status } of fetched.missingStages ?? []) {
        emit({ type: 'stage-missing', ...fields, stage, ...(status === undefined ? {} : { status }) })
      }
    }
    return fetched.produced
  }

  /** Waits for a concurrent invocation's fetch, within this invocation's own deadline. */
  const joinShared = async (
    index: number,
    inFlight: Promise<KeyFetch>,
    started: number,
    round: Round,
  ): Promise<KeyFetch> => {
    const entry = entries[index]!
    const { store, deadline, waitUntil } = round
    let result: KeyFetch | typeof expired
    try {
      result = await (waitUntil === undefined ? inFlight : Promise.race([inFlight, waitUntil]))
    } catch (error) {
      if (error instanceof ExtensionSecretsError && budgetCodes.has(error.code) && timeLeft(deadline)) {
        // The first waiter to get here fetches again; the others join that fetch (or take its value)
        // rather than each starting a retry loop of its own.
        const next = store?.get(entry.cacheId)
        if (next?.inFlight !== undefined && next.inFlight !== inFlight) {
          return joinShared(index, next.inFlight, started, round)
        }
        if (next?.value !== undefined && next.inFlight === undefined && next.expiresAt > Date.now()) {
          const elapsedMs = Math.round(performance.now() - started)
          return { produced: next.value, attempts: 0, elapsedMs, readinessWaitMs: 0 }
        }
        return startFetch(index, round)
      }
      throw error
    }
    // This invocation sent nothing: its event reports its own wait, not the other invocation's requests.
    if (result !== expired) {
      return {
        ...result,
        attempts: 0,
        elapsedMs: Math.round(performance.now() - started),
        readinessWaitMs: 0,
      }
    }
    throw new ExtensionSecretsError(
      'TIMEOUT',
      `${keyLabel(entry)}: a concurrent invocation's fetch of this value did not finish within this invocation's time`,
      {
        ...keyFields(entry),
        attempts: 0,
        elapsedMs: Math.round(performance.now() - started),
      },
    )
  }

  /**
   * `context` is the handler's: its remaining time sets the deadline, read only when something is to
   * be fetched (a cache hit asks for no time).
   */
  const load = (context: unknown): LoadedValues | Promise<LoadedValues> => {
    const store = cacheExpiry === 0 ? undefined : valueStore(cacheKey)
    const now = Date.now()
    const values: ProducedValue[] = new Array(entries.length)
    let pending: number[] | undefined
    for (let index = 0; index < entries.length; index++) {
      const slot = store?.get(entries[index]!.cacheId)
      if (
        slot !== undefined &&
        slot.value !== undefined &&
        slot.expiresAt > now &&
        slot.inFlight === undefined
      ) {
        values[index] = slot.value
        if (emit !== undefined) {
          const entry = entries[index]!
          const ageMs = now - slot.fetchedAt
          emit({ type: 'hit', ...keyFields(entry), ageMs })
        }
      } else {
        if (pending === undefined) pending = []
        pending.push(index)
      }
    }
    // The common warm path: every key cached and fresh, no promise made.
    if (pending === undefined) return values
    return loadPending(values, pending, store, invocationDeadline(context, deadlineMargin))
  }

  const loadPending = async (
    values: ProducedValue[],
    pending: number[],
    store: ValueStore | undefined,
    deadline: number | undefined,
  ): Promise<LoadedValues> => {
    const round: Round = { request: requester(deadline), store, deadline }
    let timer: NodeJS.Timeout | undefined
    const work = pending.map((index) => {
      const slot = store?.get(entries[index]!.cacheId)
      let state: CacheState
      // A fetch in flight started after any invalidation (which drops the slot): joining it is right.
      if (slot?.inFlight !== undefined) state = 'shared'
      else if (invalidations.isPending(index)) state = 'invalidated'
      else if (store === undefined) state = 'off'
      else if (slot?.value !== undefined) state = 'expired'
      else state = 'miss'
      if (state === 'shared' && round.waitUntil === undefined && deadline !== undefined) {
        round.waitUntil = new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - performance.now()), expired)
        })
      }
      return resolveKey(index, state, slot, round)
    })
    try {
      const results = await Promise.allSettled(work)
      const errors: ExtensionSecretsError[] = []
      for (let position = 0; position < results.length; position++) {
        const result = results[position]!
        if (result.status === 'fulfilled') values[pending[position]!] = result.value
        else errors.push(result.reason as ExtensionSecretsError)
      }
      if (errors.length > 0) throw fetchFailed(errors, entries.length)
      return values
    } finally {
      clearTimeout(timer)
    }
  }

  /** Drops the cached values of `indexes` (and their last good values), so the next load fetches them. */
  const invalidate = (indexes: readonly number[]) => {
    const store = cacheExpiry === 0 ? undefined : valueStore(cacheKey)
    for (const index of indexes) {
      const id = entries[index]!.cacheId
      const slot = store?.get(id)
      if (slot !== undefined) {
        // An invalidated value is suspect: it must not come back as a stale stand-in either.
        slot.value = undefined
        store!.delete(id)
      }
      invalidations.mark(index)
    }
  }

  return { load, invalidate }
}

const noop = () => undefined
