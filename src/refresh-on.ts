import { describe } from './checks.js'
import type { RefreshOn } from './freshness.js'

// `refreshOn` runs in Middy's onError chain, where a throw would replace the handler's error and a
// returned value would become the response: every path here ends in a list of keys to drop.

/**
 * The keys a `refreshOn` answer asks to drop. An answer naming an unknown key, or not an answer at all,
 * drops every key (one extra fetch is the cost of being wrong that way; a stale credential is the cost
 * the other way), and a warning says why.
 */
const answerIndexes = (keys: readonly string[], answer: unknown): number[] => {
  const all = keys.map((_, index) => index)
  if (answer === true) return all
  if (answer === false || answer === undefined || answer === null) return []
  if (!Array.isArray(answer)) {
    warn(`refreshOn returned ${describe(answer)}, not a boolean or a key list; every key is refreshed`)
    return all
  }
  const indexes = answer.map((key) => (typeof key === 'string' ? keys.indexOf(key) : -1))
  if (indexes.includes(-1)) {
    warn(`refreshOn named a key that is not in fetchData (keys: ${keys.join(', ')}); every key is refreshed`)
    return all
  }
  return indexes
}

const refreshOnFailed = (keys: readonly string[], failure: unknown): number[] => {
  warn(
    `refreshOn threw (${failure instanceof Error ? failure.name : typeof failure}); every key is refreshed`,
  )
  return keys.map((_, index) => index)
}

/** Runs `refreshOn` (which may be async) and applies its answer; never throws, never rejects. */
export const runRefreshOn = (
  keys: readonly string[],
  refreshOn: RefreshOn,
  error: unknown,
  apply: (indexes: number[]) => void,
): undefined | Promise<undefined> => {
  let answer: unknown
  try {
    answer = refreshOn(error)
  } catch (failure) {
    apply(refreshOnFailed(keys, failure))
    return undefined
  }
  if (typeof (answer as PromiseLike<unknown> | null)?.then !== 'function') {
    apply(answerIndexes(keys, answer))
    return undefined
  }
  return Promise.resolve(answer).then(
    (settled) => {
      apply(answerIndexes(keys, settled))
      return undefined
    },
    (failure: unknown) => {
      apply(refreshOnFailed(keys, failure))
      return undefined
    },
  )
}

const warn = (message: string) =>
  process.emitWarning(`middy-extension-secrets: ${message}`, { code: 'MIDDY_EXTENSION_SECRETS_REFRESH_ON' })
