import { type CacheSlot, expiresAt, type ProducedValue, type ValueStore, valueStore } from './cache.js'
import type { ExtensionClient, Fetched } from './client/extension-client.js'
import { describeSource, ExtensionSecretsError, type ExtensionSecretsErrorCode } from './errors.js'
import type { ResolvedEntry, ResolvedOptions } from './options.js'
import { produceValue, RecipeFailure } from './parse.js'

/** Every key's value, in `entries` order. */
export type LoadedValues = ProducedValue[]

type Pending = ProducedValue | Promise<ProducedValue>

const keyLabel = (entry: ResolvedEntry) =>
  `\`${entry.key}\` (${describeSource(entry.ref.service, entry.ref.name)})`

/** The client's error is about a request; the key's error also names the key it was meant for. */
const keyError = (entry: ResolvedEntry, error: unknown, fetched?: Fetched): ExtensionSecretsError => {
  const details = { key: entry.key, source: entry.ref.service, name: entry.ref.name }
  if (error instanceof ExtensionSecretsError) {
    return new ExtensionSecretsError(error.code, `${entry.key}: ${error.reason}`, {
      ...details,
      attempts: error.attempts,
      elapsedMs: error.elapsedMs,
      status: error.status,
      body: error.body,
      cause: error,
    })
  }
  if (error instanceof RecipeFailure) {
    return new ExtensionSecretsError(error.code, `${keyLabel(entry)}: ${error.message}`, {
      ...details,
      attempts: fetched?.attempts,
      elapsedMs: fetched?.elapsedMs,
    })
  }
  // Not a failure this package knows: keep it as the cause, unread, since it may quote anything.
  return new ExtensionSecretsError('FETCH_FAILED', `${keyLabel(entry)}: unexpected failure`, {
    ...details,
    cause: error,
  })
}

const produce = async (entry: ResolvedEntry, fetched: Fetched): Promise<ProducedValue> => {
  try {
    return { value: await produceValue(fetched.value, entry), sensitive: fetched.value.sensitive }
  } catch (error) {
    throw keyError(entry, error, fetched)
  }
}

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

/**
 * Loads every `fetchData` value for one invocation: cached values when still fresh, and otherwise one
 * request per distinct source, all in parallel. `deadline` is a `performance.now()` time or undefined.
 */
export const createLoader = (options: ResolvedOptions, client: ExtensionClient) => {
  const { entries, cacheExpiry, cacheKey } = options

  /** Starts the requests for `indexes` (one per distinct source) and caches each key's promise. */
  const fetchKeys = (indexes: number[], deadline: number | undefined, store: ValueStore | undefined) => {
    const requests = new Map<string, Promise<Fetched>>()
    const started = new Map<number, Promise<ProducedValue>>()
    for (const index of indexes) {
      const entry = entries[index]!
      let request = requests.get(entry.sourceId)
      if (request === undefined) {
        request = client.get(entry.ref, deadline === undefined ? {} : { deadline })
        requests.set(entry.sourceId, request)
      }
      const promise = request.then(
        (fetched) => produce(entry, fetched),
        (error: unknown) => {
          throw keyError(entry, error)
        },
      )
      started.set(index, promise)
      if (store !== undefined) {
        // In flight, the slot never expires, so concurrent invocations share it whatever cacheExpiry is;
        // the lifetime counts from the value's arrival.
        const slot: CacheSlot = { promise, expiresAt: Number.POSITIVE_INFINITY }
        store.set(entry.cacheId, slot)
        promise.then(
          (produced) => {
            slot.settled = produced
            slot.expiresAt = expiresAt(cacheExpiry, Date.now())
          },
          // A failure is never cached: only this key is fetched again next time.
          () => {
            if (store.get(entry.cacheId) === slot) store.delete(entry.cacheId)
          },
        )
      }
    }
    return started
  }

  /**
   * Values straight from the cache when every key is fresh (no promise: a cache hit costs no more than
   * reading the store), else a promise of them.
   */
  return function load(deadline: number | undefined): LoadedValues | Promise<LoadedValues> {
    const store = cacheExpiry === 0 ? undefined : valueStore(cacheKey)
    const now = Date.now()
    const slots: Pending[] = new Array(entries.length)
    let missing: number[] | undefined
    let shared: number[] | undefined
    for (let index = 0; index < entries.length; index++) {
      const slot = store?.get(entries[index]!.cacheId)
      if (slot === undefined || slot.expiresAt <= now) {
        if (missing === undefined) missing = [index]
        else missing.push(index)
      } else if (slot.settled !== undefined) {
        slots[index] = slot.settled
      } else {
        // Being fetched by a concurrent invocation: wait for it, within our own deadline.
        slots[index] = slot.promise
        if (shared === undefined) shared = [index]
        else shared.push(index)
      }
    }
    if (missing === undefined && shared === undefined) return slots as ProducedValue[]
    if (missing !== undefined) {
      for (const [index, promise] of fetchKeys(missing, deadline, store)) slots[index] = promise
    }
    return settle(slots, shared ?? [], deadline, store)
  }

  async function settle(
    slots: Pending[],
    shared: number[],
    deadline: number | undefined,
    store: ValueStore | undefined,
  ) {
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    let expired: Promise<'expired'> | undefined
    if (shared.length > 0 && deadline !== undefined) {
      expired = new Promise((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - performance.now()), 'expired')
      })
    }
    for (const index of shared) {
      const entry = entries[index]!
      const inFlight = slots[index] as Promise<ProducedValue>
      const own: Promise<ProducedValue | 'expired'> =
        expired === undefined ? inFlight : Promise.race([inFlight, expired])
      slots[index] = own.then(
        (result) => {
          if (result !== 'expired') return result
          throw new ExtensionSecretsError(
            'TIMEOUT',
            `${keyLabel(entry)}: a concurrent invocation's fetch of this value did not finish within this invocation's time`,
            {
              key: entry.key,
              source: entry.ref.service,
              name: entry.ref.name,
              attempts: 0,
              elapsedMs: Math.round(performance.now() - started),
            },
          )
        },
        (error: unknown) => {
          if (error instanceof ExtensionSecretsError && budgetCodes.has(error.code) && timeLeft(deadline)) {
            return fetchKeys([index], deadline, store).get(index)!
          }
          throw error
        },
      )
    }
    try {
      const results = await Promise.allSettled(slots)
      const errors: ExtensionSecretsError[] = []
      const values: LoadedValues = []
      for (const result of results) {
        if (result.status === 'fulfilled') values.push(result.value)
        else errors.push(result.reason as ExtensionSecretsError)
      }
      if (errors.length > 0) throw fetchFailed(errors, entries.length)
      return values
    } finally {
      clearTimeout(timer)
    }
  }
}
