import { type CacheSlot, expiresAt, type ProducedValue, type ValueStore, valueStore } from './cache.js'
import type { ExtensionClient, Fetched } from './client/extension-client.js'
import { describeSource, ExtensionSecretsError } from './errors.js'
import type { ResolvedEntry, ResolvedOptions } from './options.js'
import { produceValue, RecipeFailure } from './parse.js'

/** Every key's value, in `entries` order. */
export type LoadedValues = ProducedValue[]

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

/**
 * Loads every `fetchData` value for one invocation: cached values when still fresh, and otherwise one
 * request per distinct source, all in parallel. `deadline` is a `performance.now()` time or undefined.
 */
export const createLoader = (options: ResolvedOptions, client: ExtensionClient) => {
  const { entries, cacheExpiry, cacheKey } = options

  const fetchInto = (
    indexes: number[],
    slots: (ProducedValue | Promise<ProducedValue>)[],
    deadline: number | undefined,
    store: ValueStore | undefined,
  ) => {
    const fetchedAt = Date.now()
    const requests = new Map<string, Promise<Fetched>>()
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
      slots[index] = promise
      if (store !== undefined) {
        const slot: CacheSlot = { promise, expiresAt: expiresAt(cacheExpiry, fetchedAt) }
        store.set(entry.key, slot)
        promise.then(
          (produced) => {
            slot.settled = produced
          },
          // A failure is never cached: only this key is fetched again next time.
          () => {
            if (store.get(entry.key) === slot) store.delete(entry.key)
          },
        )
      }
    }
  }

  return async function load(deadline: number | undefined): Promise<LoadedValues> {
    const store = cacheExpiry === 0 ? undefined : valueStore(cacheKey)
    const now = Date.now()
    const slots: (ProducedValue | Promise<ProducedValue>)[] = new Array(entries.length)
    const missing: number[] = []
    const shared: number[] = []
    for (let index = 0; index < entries.length; index++) {
      const slot = store?.get(entries[index]!.key)
      if (slot === undefined || slot.expiresAt <= now) {
        missing.push(index)
      } else if (slot.settled !== undefined) {
        slots[index] = slot.settled
      } else {
        // Fetched by a concurrent invocation and not settled yet: wait for it, within our own deadline.
        slots[index] = slot.promise
        shared.push(index)
      }
    }
    if (missing.length === 0 && shared.length === 0) return slots as ProducedValue[]
    if (missing.length > 0) fetchInto(missing, slots, deadline, store)
    return settle(slots, shared, deadline)
  }

  async function settle(
    slots: (ProducedValue | Promise<ProducedValue>)[],
    shared: number[],
    deadline: number | undefined,
  ): Promise<LoadedValues> {
    let timer: NodeJS.Timeout | undefined
    if (shared.length > 0 && deadline !== undefined) {
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - performance.now()), 'expired')
      })
      for (const index of shared) {
        const entry = entries[index]!
        slots[index] = Promise.race([slots[index]!, expired]).then((result) => {
          if (result !== 'expired') return result
          throw new ExtensionSecretsError(
            'TIMEOUT',
            `${keyLabel(entry)}: a concurrent invocation's fetch did not finish within this invocation's time`,
            { key: entry.key, source: entry.ref.service, name: entry.ref.name },
          )
        })
      }
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
