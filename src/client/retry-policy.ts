/** p-retry's own option names, so users can carry settings over. */
export interface RetryOptions {
  /** Upper bound of the whole wait for one value, retries and backoff included (ms). */
  maxRetryTime: number
  /** Backoff before the second retry (ms); the first retry is immediate. */
  minTimeout: number
  /** Cap of one backoff (ms). */
  maxTimeout: number
  /** Growth of the backoff per retry. */
  factor: number
  /** Multiply each backoff by a random factor between 1 and 2 (applied before the `maxTimeout` cap). */
  randomize: boolean
}

/** See docs/decisions/0002-retry-budget.md for the reasoning behind each number. */
export const defaultRetry: RetryOptions = {
  maxRetryTime: 10_000,
  minTimeout: 10,
  maxTimeout: 20,
  factor: 2,
  randomize: true,
}

/** The outcome of one attempt that is worth repeating while time is left. */
export type RetryableOutcome =
  | { kind: 'refused' | 'reset' | 'connection' | 'timeout' | 'cut' }
  | { kind: 'not-ready' | 'retryable-status'; status: number; body: string }

/** Thrown by an attempt worth repeating; the caller keeps the outcomes it needs for its diagnosis. */
export class RetryableAttempt extends Error {
  override readonly name = 'RetryableAttempt'
}

type PRetry = typeof import('p-retry').default
let pRetryModule: Promise<PRetry> | undefined

// The retry machinery runs only while the extension is not ready, so it is loaded on the first failed
// attempt rather than on every cold start.
const loadPRetry = (): Promise<PRetry> => {
  pRetryModule ??= import('p-retry').then((module) => module.default)
  return pRetryModule
}

/**
 * Runs `attempt` until it succeeds, throws something other than a `RetryableAttempt`, or `deadline`
 * (a `performance.now()` time) passes. The first retry is immediate: the commonest first failure is a
 * keep-alive socket the extension closed between invocations, and a new connection fixes it at once.
 */
export const retryUntil = async <T>(
  attempt: () => Promise<T>,
  deadline: number,
  retry: RetryOptions,
): Promise<T> => {
  try {
    return await attempt()
  } catch (error) {
    if (!(error instanceof RetryableAttempt) || deadline - performance.now() <= 0) throw error
  }
  const pRetry = await loadPRetry()
  return pRetry(attempt, {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: retry.minTimeout,
    maxTimeout: retry.maxTimeout,
    factor: retry.factor,
    randomize: retry.randomize,
    maxRetryTime: Math.max(0, deadline - performance.now()),
    shouldRetry: ({ error }) => error instanceof RetryableAttempt,
  })
}
