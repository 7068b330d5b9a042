import { setMaxListeners } from 'node:events'
import { askWhileThrottled } from './cold-start.js'
import { ExtensionSecretsError, isThrottled, isTransientError } from './errors.js'
import type { ExtensionSecretsEvent } from './events.js'
import { type Connection, type Failure, getFromExtension, requestPath } from './extension.js'
import { addressOf } from './loopback.js'
import { type Address, absoluteAfter, type Entry, type Resolved } from './options.js'
import { produce, type RawValue, readBody, ValueFailure } from './value.js'

// One invocation: cached values when fresh, otherwise one request per distinct source, all in parallel,
// within the invocation's deadline; each key's error built once, and one FETCH_FAILED for the invocation.

/** A source's answer as read once, shared by every key and concurrent invocation that asked for it. */
type Fetched = ({ raw: RawValue } | { failure: Failure }) & { attempts: number; elapsedMs: number }

/** One cached source: the last good answer, its arrival (monotonic clock), the fetch in flight. */
export interface Slot {
  raw?: RawValue | undefined
  at: number
  inFlight?: Promise<Fetched> | undefined
}

/** A key's value, and whether `hideSecrets` keeps it off the context's enumerable keys. */
export interface Loaded {
  value: unknown
  sensitive: boolean
}

// A concurrent invocation's fetch that failed with these may have run out of *its* time.
const retryable = ['TIMEOUT', 'EXTENSION_NOT_READY', 'EXTENSION_UNREACHABLE']

const sleep = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))

/** A value made by user code (a schema, `when`), or `undefined` if `limit` comes first. */
const bounded = <T>(value: T | PromiseLike<T>, limit: Promise<undefined>) =>
  typeof (value as PromiseLike<T> | undefined)?.then === 'function' ? Promise.race([value, limit]) : value

/** Resolves with `undefined` when the signal aborts. */
const until = (signal: AbortSignal | undefined) =>
  new Promise<undefined>((resolve) => {
    if (signal?.aborted) resolve(undefined)
    signal?.addEventListener('abort', () => resolve(undefined), { once: true })
  })

export const createLoad = (
  options: Resolved,
  where: () => Address,
  /** This package's store in `@middy/util`'s cache (so `clearCache()` empties it); none with caching off. */
  storeOf: () => Map<string, Slot> | undefined,
  emit: ((event: ExtensionSecretsEvent) => void) | undefined,
) => {
  const { entries, cacheExpiry, staleIfError, coldStartRetry } = options
  /** Keys this middleware has made a value for in this process: `coldStartRetry` is for the others. */
  const had: boolean[] = []
  /** Per key: the answer its value was made from, so a hit parses and validates nothing. */
  const made: ({ raw: RawValue; loaded: Loaded | Promise<Loaded> } | undefined)[] = []
  /**
   * Keys whose next fetch skips the Secrets Manager Agent's cache, with a count of such calls: a fetch
   * that succeeds ends the bypass only if no call came while it ran. A version id never changes: no bypass.
   */
  const refreshNow = new Map<number, number>()
  let ids: string[] = []
  let idsFor: Address | undefined
  const bypassCalls = (index: number) =>
    entries[index]!.source.versionId === undefined ? refreshNow.get(index) : undefined
  const pathOf = (index: number) =>
    bypassCalls(index) === undefined ? entries[index]!.path : requestPath(entries[index]!.source, true)

  const isFresh = (slot: Slot, now: number) =>
    cacheExpiry === -1 ||
    (cacheExpiry > absoluteAfter ? Date.now() < cacheExpiry : now - slot.at < cacheExpiry)
  const about = (entry: Entry) => ({ key: entry.key, source: entry.source.service, name: entry.source.name })
  const keyError = (entry: Entry, failure: Failure, counts: object) =>
    new ExtensionSecretsError(
      failure.code,
      `${entry.key} (${entry.source.service} ${JSON.stringify(entry.source.name)}): ${failure.reason}`,
      {
        ...about(entry),
        sourceName: entry.source.name,
        ...counts,
        status: failure.status,
        body: failure.body,
        throttled: failure.throttled,
      },
    )

  /** parse → field → schema, once per answer and middleware. */
  const valueFrom = (index: number, raw: RawValue): Loaded | Promise<Loaded> => {
    const previous = made[index]
    if (previous?.raw === raw) return previous.loaded
    const value = produce(raw, entries[index]!.recipe)
    const loaded =
      value instanceof Promise
        ? value.then(
            (settled) => {
              const done = { value: settled, sensitive: raw.sensitive }
              // Settled once, kept settled: the next hit is served without a promise.
              if (made[index]?.loaded === loaded) made[index] = { raw, loaded: done }
              return done
            },
            (error: unknown) => {
              if (made[index]?.loaded === loaded) made[index] = undefined
              throw error
            },
          )
        : { value, sensitive: raw.sensitive }
    made[index] = { raw, loaded }
    return loaded
  }

  /** The load of the keys that are not fresh hits, with what they share: requests, deadline, store. */
  const loadPending = async (
    pending: number[],
    values: (Loaded | undefined)[],
    context: unknown,
    address: Address,
    store: Map<string, Slot> | undefined,
  ) => {
    const { getRemainingTimeInMillis } = ((context as { lambdaContext?: object } | null)?.lambdaContext ??
      context ??
      {}) as {
      getRemainingTimeInMillis?: () => number
    }
    // Middy's early-timeout guard covers only the handler, so `before` bounds its own wait: an
    // AbortSignal for p-retry and the waits, the same time on the monotonic clock for the last attempt.
    const remaining =
      typeof getRemainingTimeInMillis === 'function'
        ? getRemainingTimeInMillis() - options.deadlineMargin
        : Number.NaN
    const deadline = Number.isFinite(remaining) ? new AbortController() : undefined
    const signal = deadline?.signal
    // Every request and wait of the invocation listens to it: as many listeners as keys, not a leak.
    if (signal) setMaxListeners(0, signal)
    const deadlineAt = deadline ? performance.now() + Math.max(0, remaining) : Number.POSITIVE_INFINITY
    const timer = deadline && setTimeout(() => deadline.abort(new Error('deadline')), Math.max(0, remaining))
    const connection: Connection = {
      ...address,
      token: options.token ?? process.env.AWS_SESSION_TOKEN,
      requestTimeout: options.requestTimeout,
      retry: options.retry,
    }
    const requests = new Map<string, Promise<Fetched>>()

    /** This invocation's request for a key's source: made once, cached in its slot when caching is on. */
    const request = (index: number): Promise<Fetched> => {
      const entry = entries[index]!
      const calls = bypassCalls(index)
      const path = pathOf(index)
      let sent = requests.get(path)
      if (sent !== undefined) return sent
      const ask = () => getFromExtension(connection, path, signal, deadlineAt)
      sent = (
        coldStartRetry === undefined || had[index]
          ? ask()
          : askWhileThrottled(ask, coldStartRetry, signal, options.retry.maxRetryTime)
      ).then((answer) => {
        if ('failure' in answer) return answer
        try {
          return {
            raw: readBody(entry.source.service, answer.body),
            attempts: answer.attempts,
            elapsedMs: answer.elapsedMs,
          }
        } catch (error) {
          if (!(error instanceof ValueFailure)) throw error
          return { failure: error, attempts: answer.attempts, elapsedMs: answer.elapsedMs }
        }
      })
      requests.set(path, sent)
      const request = sent
      if (calls !== undefined)
        request.then(
          (fetched) => 'raw' in fetched && refreshNow.get(index) === calls && refreshNow.delete(index),
          noop,
        )
      if (store === undefined) return request
      const id = ids[index]!
      const slot: Slot = store.get(id) ?? { at: 0 }
      store.set(id, slot)
      slot.inFlight = request
      const settled = (fetched?: Fetched) => {
        if (slot.inFlight !== request) return
        slot.inFlight = undefined
        if (fetched !== undefined && 'raw' in fetched) {
          slot.raw = fetched.raw
          slot.at = performance.now()
        } else if (
          staleIfError === undefined ||
          fetched === undefined ||
          performance.now() - slot.at > staleIfError.maxStale
        ) {
          // A failure is never cached, and a value that can no longer stand in for one is not kept.
          slot.raw = undefined
          if (store.get(id) === slot) store.delete(id)
        }
      }
      request.then(settled, () => settled())
      return request
    }

    const loadKey = async (index: number): Promise<Loaded | undefined> => {
      const entry = entries[index]!
      const id = ids[index]!
      let slot = store?.get(id)
      // What a failure may fall back on: the last good answer as it was before this fetch.
      const lastGood = slot?.raw
      const lastAt = slot?.at ?? 0
      const started = performance.now()
      // Fresh in the cache, but this middleware has not made its value from that answer yet.
      const hit = lastGood !== undefined && slot!.inFlight === undefined && isFresh(slot!, started)
      let cache: 'off' | 'miss' | 'expired' | 'shared' =
        store === undefined ? 'off' : lastGood === undefined ? 'miss' : 'expired'
      let fetched: Fetched | undefined = hit ? { raw: lastGood, attempts: 0, elapsedMs: 0 } : undefined
      // Another key of this invocation already asks for the source: its request is this key's own.
      let shared = hit || requests.has(pathOf(index)) ? undefined : slot?.inFlight
      while (shared !== undefined) {
        const joined: Promise<Fetched> = shared
        cache = 'shared'
        shared = undefined
        fetched = await Promise.race([joined, until(signal)])
        if (fetched === undefined) {
          fetched = {
            failure: {
              code: 'TIMEOUT',
              reason: "a concurrent invocation's fetch did not end in this invocation's time",
            },
            attempts: 0,
            elapsedMs: 0,
          }
        } else if (
          'failure' in fetched &&
          (retryable.includes(fetched.failure.code) || fetched.failure.cutByDeadline) &&
          !signal?.aborted
        ) {
          // That invocation's time ran out, not this one's: ask again, once between all that waited.
          slot = store?.get(id)
          if (slot?.inFlight !== undefined && slot.inFlight !== joined) shared = slot.inFlight
          else fetched = undefined
        } else fetched = { ...fetched, attempts: 0, elapsedMs: Math.round(performance.now() - started) }
      }
      fetched ??= await request(index)
      const counts = { attempts: fetched.attempts, elapsedMs: fetched.elapsedMs }
      let failure: Failure
      if ('failure' in fetched) failure = fetched.failure
      else {
        try {
          // A schema is the user's code: an async one that never settles must not outlive the deadline.
          const loaded = await bounded(valueFrom(index, fetched.raw), until(signal))
          if (loaded === undefined)
            throw new ValueFailure('VALIDATION_ERROR', "the schema did not settle in the invocation's time")
          had[index] = true
          if (hit) emit?.({ type: 'hit', ...about(entry), ageMs: Math.round(started - lastAt) })
          else emit?.({ type: 'fetched', ...about(entry), cache, ...counts })
          return loaded
        } catch (error) {
          if (!(error instanceof ValueFailure)) throw error
          failure = error
        }
        // An answer that makes no value is not kept: the last good one comes back, or nothing.
        const current = store?.get(id)
        if (current?.raw === fetched.raw) {
          if (staleIfError !== undefined && lastGood !== undefined)
            Object.assign(current, { raw: lastGood, at: lastAt })
          else store!.delete(id)
        }
      }
      const error = keyError(entry, failure, counts)
      const { code, status } = error
      const reported = { ...about(entry), code, ...(status === undefined ? {} : { status }), ...counts }
      // The layer answers one 400 for a name that does not exist; the agent a 4xx of its own. Throttling
      // is not absence: neither the agent's, nor the layer's 400 that came as late as throttling does.
      if (entry.optional && code === 'UPSTREAM_ERROR' && status! < 500 && !isThrottled(error)) {
        emit?.({ type: 'missing', ...reported })
        return undefined
      }
      // staleIfError: the last good answer, unless clearCache() or invalidate() dropped it meanwhile.
      const ageMs = Math.round(performance.now() - lastAt)
      if (
        staleIfError !== undefined &&
        lastGood !== undefined &&
        ageMs <= staleIfError.maxStale &&
        storeOf()?.get(id) === slot
      ) {
        try {
          // A refresh that failed at the deadline leaves `when` a moment of the margin to answer.
          const limit = signal?.aborted ? sleep(Math.min(50, options.deadlineMargin)) : until(signal)
          if ((await bounded((staleIfError.when ?? isTransientError)(error), limit)) === true) {
            const loaded = await bounded(valueFrom(index, lastGood), limit)
            if (loaded !== undefined) {
              emit?.({ type: 'stale', ...reported, ageMs })
              return loaded
            }
          }
        } catch {
          // A predicate that fails, or a last answer that no longer makes a value, allows nothing.
        }
      }
      emit?.({ type: 'failed', ...reported })
      throw error
    }

    try {
      const results = await Promise.allSettled(pending.map(loadKey))
      const errors: ExtensionSecretsError[] = []
      results.forEach((result, position) => {
        if (result.status === 'fulfilled') values[pending[position]!] = result.value
        else if (result.reason instanceof ExtensionSecretsError) errors.push(result.reason)
        else throw result.reason
      })
      if (errors.length > 0)
        throw new ExtensionSecretsError(
          'FETCH_FAILED',
          `failed to fetch ${errors.length} of ${entries.length} values: ${errors.map((error) => `${error.code} ${error.reason}`).join('; ')}`,
          { errors },
        )
      return values
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * The handler's context sets the deadline; the values come back in `entries` order. The extension's
   * address is read again when something is to be fetched: a hit asks nothing of the environment.
   */
  const load = (context: unknown): (Loaded | undefined)[] | Promise<(Loaded | undefined)[]> => {
    const store = storeOf()
    const now = performance.now()
    const values: (Loaded | undefined)[] = new Array(entries.length)
    let pending: number[] | undefined
    for (let pass = idsFor === undefined ? 1 : 0; pass < 2; pass++) {
      if (pass === 1) {
        const address = where()
        if (address === idsFor) break
        idsFor = address
        ids = entries.map((entry) => addressOf(address.host, address.port) + entry.path)
        pending = undefined
      }
      for (let index = 0; index < entries.length; index++) {
        const slot = store?.get(ids[index]!)
        const loaded = made[index]
        // The common warm path: fresh, made from this very answer, no promise made.
        if (
          slot?.raw !== undefined &&
          slot.inFlight === undefined &&
          loaded?.raw === slot.raw &&
          !(loaded.loaded instanceof Promise) &&
          isFresh(slot, now)
        ) {
          values[index] = loaded.loaded
        } else {
          values[index] = undefined
          pending ??= []
          pending.push(index)
        }
      }
      if (pending === undefined) break
    }
    if (emit !== undefined) {
      for (let index = 0; index < entries.length; index++) {
        if (pending?.includes(index)) continue
        const slot = store!.get(ids[index]!)!
        emit({ type: 'hit', ...about(entries[index]!), ageMs: Math.round(now - slot.at) })
      }
    }
    return pending === undefined ? values : loadPending(pending, values, context, idsFor!, store)
  }

  /** Drops the cached values of these keys; with `refreshNow`, their next fetch skips the agent's cache. */
  const invalidate = (indexes: readonly number[], bypass: boolean) => {
    const store = storeOf()
    for (const index of indexes) {
      // Under the address its cached values came from; the next load reads the address again.
      made[index] = undefined
      if (idsFor !== undefined) store?.delete(ids[index]!)
      if (bypass) refreshNow.set(index, (refreshNow.get(index) ?? 0) + 1)
    }
  }

  return { load, invalidate }
}

const noop = () => undefined
