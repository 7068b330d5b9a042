import { setMaxListeners } from 'node:events'
import { ExtensionSecretsError, type ExtensionSecretsErrorCode, isTransientError } from './errors.js'
import { type Connection, type Failure, getFromExtension, requestPath } from './extension.js'
import { absoluteAfter, type Entry, type Resolved } from './options.js'
import { produce, type RawValue, readBody, ValueFailure } from './value.js'

// One invocation: cached values when fresh, otherwise one request per distinct source, all in parallel,
// within the invocation's deadline; each key's error built once, and one FETCH_FAILED for the invocation.

/** A source's answer as read once, shared by every key and concurrent invocation that asked for it. */
type Fetched = ({ raw: RawValue } | { failure: Failure }) & { attempts: number; elapsedMs: number }

/** One cached source. `raw` is the last good answer, `at` its arrival (monotonic clock). */
export interface Slot {
  raw?: RawValue
  at: number
  inFlight?: Promise<Fetched>
}

/** A key's value, and whether `hideSecrets` keeps it off the context's enumerable keys. */
export interface Loaded {
  value: unknown
  sensitive: boolean
}

/** This package's store in `@middy/util`'s cache, so that its `clearCache()` empties it. */
export type StoreOf = () => Map<string, Slot> | undefined

// A concurrent invocation's fetch may fail because *its* time ran out: an invocation with time left asks again.
const budgetCodes = new Set<ExtensionSecretsErrorCode>([
  'TIMEOUT',
  'EXTENSION_NOT_READY',
  'EXTENSION_UNREACHABLE',
])

const fetchSource = async (
  connection: Connection,
  service: Entry['source']['service'],
  path: string,
  signal: AbortSignal | undefined,
  deadlineAt: number,
): Promise<Fetched> => {
  const answer = await getFromExtension(connection, path, signal, deadlineAt)
  if ('failure' in answer) return answer
  try {
    return { raw: readBody(service, answer.body), attempts: answer.attempts, elapsedMs: answer.elapsedMs }
  } catch (error) {
    if (!(error instanceof ValueFailure)) throw error
    return { failure: error, attempts: answer.attempts, elapsedMs: answer.elapsedMs }
  }
}

/** Resolves with `undefined` when the signal aborts. */
const until = (signal: AbortSignal | undefined) =>
  new Promise<undefined>((resolve) => {
    if (signal?.aborted) resolve(undefined)
    signal?.addEventListener('abort', () => resolve(undefined), { once: true })
  })

export const createLoad = (options: Resolved, connection: () => Connection, storeOf: StoreOf | undefined) => {
  const { entries, cacheExpiry, staleIfError } = options
  const emit = options.onEvent
  /** Per key: the raw answer its value was made from, so a hit does not parse and validate again. */
  const made: ({ raw: RawValue; value: unknown } | undefined)[] = []
  /**
   * Keys whose next fetch skips the Secrets Manager Agent's cache (`invalidate(keys, { refreshNow })`), each
   * with a count of such calls: a fetch that succeeds ends the bypass only if no call came while it ran.
   */
  const refreshNow = new Map<number, number>()

  const isFresh = (slot: Slot) =>
    cacheExpiry === -1 ||
    (cacheExpiry > absoluteAfter ? Date.now() < cacheExpiry : performance.now() - slot.at < cacheExpiry)

  const about = (entry: Entry) => ({ key: entry.key, source: entry.source.service, name: entry.source.name })

  const keyError = (entry: Entry, failure: Failure, counts: { attempts: number; elapsedMs: number }) => {
    const { code, reason, status, body } = failure
    return new ExtensionSecretsError(
      code,
      `${entry.key} (${entry.source.service} ${JSON.stringify(entry.source.name)}): ${reason}`,
      {
        ...about(entry),
        sourceName: entry.source.name,
        ...counts,
        status,
        body,
      },
    )
  }

  /** The value of a key from a raw answer: parse → field → schema, once per answer. */
  const valueFrom = async (index: number, raw: RawValue): Promise<Loaded> => {
    const previous = made[index]
    if (previous?.raw === raw) return { value: await previous.value, sensitive: raw.sensitive }
    const value = produce(raw, entries[index]!.recipe)
    made[index] = { raw, value }
    try {
      const settled = await value
      // Settled once, kept settled: the next hit is served without a promise.
      if (made[index]?.value === value) made[index] = { raw, value: settled }
      return { value: settled, sensitive: raw.sensitive }
    } catch (error) {
      if (made[index]?.value === value) made[index] = undefined
      throw error
    }
  }

  /** Everything one invocation's keys share: where to ask, the deadline, one request per source. */
  const invocation = (context: unknown) => {
    const { getRemainingTimeInMillis } = ((context as { lambdaContext?: object } | null)?.lambdaContext ??
      context ??
      {}) as {
      getRemainingTimeInMillis?: () => number
    }
    const requests = new Map<string, Promise<Fetched>>()
    let deadline: AbortController | undefined
    let timer: NodeJS.Timeout | undefined
    // Middy's early-timeout guard covers only the handler, so `before` bounds its own wait.
    const remaining =
      typeof getRemainingTimeInMillis === 'function'
        ? getRemainingTimeInMillis() - options.deadlineMargin
        : Number.NaN
    if (Number.isFinite(remaining)) {
      deadline = new AbortController()
      // Every request and wait of the invocation listens to it: as many listeners as keys, not a leak.
      setMaxListeners(0, deadline.signal)
      timer = setTimeout(() => deadline!.abort(new Error('deadline')), Math.max(0, remaining))
      if (remaining < 1) deadline.abort(new Error('deadline'))
    }
    // The same deadline on the monotonic clock: the client cuts its last attempt's timeout to it.
    const deadlineAt = Number.isFinite(remaining)
      ? performance.now() + Math.max(0, remaining)
      : Number.POSITIVE_INFINITY
    return { requests, signal: deadline?.signal, deadlineAt, end: () => clearTimeout(timer) }
  }

  /** The refreshNow calls a key's next fetch answers to; a version id never changes: nothing to refresh. */
  const bypassCalls = (index: number) =>
    entries[index]!.source.versionId === undefined ? refreshNow.get(index) : undefined

  const start = (
    index: number,
    round: ReturnType<typeof invocation>,
    conn: Connection,
    store: Map<string, Slot> | undefined,
    id: string,
  ) => {
    const entry = entries[index]!
    const calls = bypassCalls(index)
    const path = calls === undefined ? entry.path : requestPath(entry.source, true)
    let request = round.requests.get(path)
    if (request !== undefined) return request
    request = fetchSource(conn, entry.source.service, path, round.signal, round.deadlineAt)
    round.requests.set(path, request)
    if (calls !== undefined)
      request.then(
        (fetched) => 'raw' in fetched && refreshNow.get(index) === calls && refreshNow.delete(index),
        () => undefined,
      )
    if (store === undefined) return request
    const slot = store.get(id) ?? { at: 0 }
    store.set(id, slot)
    slot.inFlight = request
    const settled = (fetched: Fetched) => {
      if (slot.inFlight !== request) return
      slot.inFlight = undefined
      if ('raw' in fetched) {
        slot.raw = fetched.raw
        slot.at = performance.now()
      } else if (staleIfError === undefined || performance.now() - slot.at > staleIfError.maxStale) {
        // A failure is never cached, and a value that can no longer stand in for one is not kept.
        slot.raw = undefined
        if (store.get(id) === slot) store.delete(id)
      }
    }
    request.then(settled, () => undefined)
    return request
  }

  /** `staleIfError`: the last good value, if `when` allows it for this failure within the deadline. */
  const stale = async (
    error: ExtensionSecretsError,
    slot: Slot | undefined,
    live: boolean,
    signal: AbortSignal | undefined,
  ) => {
    if (staleIfError === undefined || slot?.raw === undefined || !live) return undefined
    const ageMs = Math.round(performance.now() - slot.at)
    if (ageMs > staleIfError.maxStale) return undefined
    const raw = slot.raw
    let allowed: boolean | undefined
    try {
      allowed = await Promise.race([(staleIfError.when ?? isTransientError)(error), until(signal)])
    } catch {
      // A predicate that fails allows nothing: the failure is reported as it is.
    }
    return allowed === true ? { raw, ageMs } : undefined
  }

  const loadKey = async (
    index: number,
    round: ReturnType<typeof invocation>,
    conn: Connection,
    store: Map<string, Slot> | undefined,
    id: string,
  ): Promise<Loaded | undefined> => {
    const entry = entries[index]!
    let slot = store?.get(id)
    const started = performance.now()
    let cache: 'off' | 'miss' | 'expired' | 'shared' =
      store === undefined ? 'off' : slot?.raw === undefined ? 'miss' : 'expired'
    let fetched: Fetched | undefined
    if (slot?.raw !== undefined && slot.inFlight === undefined && isFresh(slot)) {
      // Fresh in the cache, but this middleware has not made its value from that answer yet.
      try {
        const loaded = await valueFrom(index, slot.raw)
        emit?.({ type: 'hit', ...about(entry), ageMs: Math.round(performance.now() - slot.at) })
        return loaded
      } catch (failure) {
        if (!(failure instanceof ValueFailure)) throw failure
        emit?.({ type: 'failed', ...about(entry), code: failure.code, attempts: 0, elapsedMs: 0 })
        throw keyError(entry, failure, { attempts: 0, elapsedMs: 0 })
      }
    }
    // A key of a source this invocation already asks for (another key, same source) takes that request
    // as its own, not as a concurrent invocation's: same answer, same path, for every key of the source.
    const own =
      bypassCalls(index) === undefined
        ? round.requests.get(entry.path)
        : round.requests.get(requestPath(entry.source, true))
    let shared = own === undefined ? slot?.inFlight : undefined
    while (shared !== undefined) {
      cache = 'shared'
      const joined = shared
      fetched = await Promise.race([joined, until(round.signal)])
      shared = undefined
      if (fetched === undefined) {
        fetched = {
          failure: {
            code: 'TIMEOUT',
            reason: "a concurrent invocation's fetch did not end within this invocation's time",
          },
          attempts: 0,
          elapsedMs: 0,
        }
      } else if ('failure' in fetched && budgetCodes.has(fetched.failure.code) && !round.signal?.aborted) {
        // Its time ran out, not this one's: ask again, once between all the invocations that waited.
        const current = store?.get(id)
        if (current?.inFlight !== undefined && current.inFlight !== joined) {
          slot = current
          shared = current.inFlight
        } else fetched = await start(index, round, conn, store, id)
      } else {
        fetched = { ...fetched, attempts: 0, elapsedMs: Math.round(performance.now() - started) }
      }
    }
    fetched ??= await start(index, round, conn, store, id)
    const counts = { attempts: fetched.attempts, elapsedMs: fetched.elapsedMs }
    let error: ExtensionSecretsError
    if ('raw' in fetched) {
      try {
        const loaded = await valueFrom(index, fetched.raw)
        emit?.({ type: 'fetched', ...about(entry), cache, ...counts })
        return loaded
      } catch (failure) {
        if (!(failure instanceof ValueFailure)) throw failure
        error = keyError(entry, failure, counts)
      }
    } else {
      error = keyError(entry, fetched.failure, counts)
    }
    const { code, status } = error
    const reported = { ...about(entry), code, ...(status === undefined ? {} : { status }), ...counts }
    // The layer answers one 400 for a name that does not exist; the agent a 4xx of its own.
    if (
      entry.optional &&
      code === 'UPSTREAM_ERROR' &&
      status !== undefined &&
      status < 500 &&
      status !== 429
    ) {
      emit?.({ type: 'missing', ...reported })
      return undefined
    }
    const standIn = await stale(
      error,
      slot,
      store !== undefined && storeOf?.()?.get(id) === slot,
      round.signal,
    )
    if (standIn !== undefined) {
      const loaded = await valueFrom(index, standIn.raw)
      emit?.({ type: 'stale', ...reported, ageMs: standIn.ageMs })
      return loaded
    }
    emit?.({ type: 'failed', ...reported })
    throw error
  }

  /** The handler's context sets the deadline; the values come back in `entries` order. */
  const load = (context: unknown): (Loaded | undefined)[] | Promise<(Loaded | undefined)[]> => {
    const conn = connection()
    const store = storeOf?.()
    const values: (Loaded | undefined)[] = new Array(entries.length)
    const address = `${conn.host}:${conn.port}`
    let pending: number[] | undefined
    for (let index = 0; index < entries.length; index++) {
      const slot = store?.get(address + entries[index]!.path)
      const previous = made[index]
      // The common warm path: fresh, made from this very answer, no promise made.
      if (
        slot?.raw !== undefined &&
        slot.inFlight === undefined &&
        previous?.raw === slot.raw &&
        !(previous.value instanceof Promise) &&
        isFresh(slot)
      ) {
        values[index] = { value: previous.value, sensitive: slot.raw.sensitive }
        emit?.({ type: 'hit', ...about(entries[index]!), ageMs: Math.round(performance.now() - slot.at) })
      } else {
        pending ??= []
        pending.push(index)
      }
    }
    if (pending === undefined) return values
    const round = invocation(context)
    const work = pending.map((index) => loadKey(index, round, conn, store, address + entries[index]!.path))
    return Promise.allSettled(work).then((results) => {
      round.end()
      const errors: ExtensionSecretsError[] = []
      results.forEach((result, position) => {
        if (result.status === 'fulfilled') values[pending[position]!] = result.value
        else if (result.reason instanceof ExtensionSecretsError) errors.push(result.reason)
        else throw result.reason
      })
      if (errors.length > 0) {
        const list = errors.map((error) => `${error.code} ${error.reason}`).join('; ')
        throw new ExtensionSecretsError(
          'FETCH_FAILED',
          `failed to fetch ${errors.length} of ${entries.length} values: ${list}`,
          { errors },
        )
      }
      return values
    })
  }

  /** Drops the cached values of these keys; with `refreshNow`, their next fetch skips the agent's cache. */
  const invalidate = (indexes: readonly number[], bypass: boolean) => {
    const store = storeOf?.()
    const { host, port } = connection()
    for (const index of indexes) {
      made[index] = undefined
      store?.delete(`${host}:${port}${entries[index]!.path}`)
      if (bypass) refreshNow.set(index, (refreshNow.get(index) ?? 0) + 1)
    }
  }

  return { load, invalidate }
}
