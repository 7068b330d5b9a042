import type { Options as RetryOptions } from 'p-retry'
import { type Answer, type Failure, loadRetry, optionError } from './extension.js'

// `coldStartRetry`: a second p-retry around the extension's request, for a value this process never had,
// while the layer's generic 400 comes as late as throttling makes it (docs/decisions/0015).

/** p-retry's options for `coldStartRetry`: no `maxRetryTime`, the invocation's deadline bounds it. */
export type ColdStartRetryOptions = Pick<
  RetryOptions,
  'retries' | 'factor' | 'minTimeout' | 'maxTimeout' | 'randomize'
>

class Throttled extends Error {}

/**
 * Asks again, with p-retry's schedule, while the layer answers its generic 400 only after its SDK retried
 * upstream: during a cold-start storm, that is Parameter Store's quota. Any other answer ends it at once,
 * and the deadline ends the wait with the last 400.
 */
export const askWhileThrottled = async (
  ask: () => Promise<Answer>,
  options: ColdStartRetryOptions,
  signal: AbortSignal | undefined,
  maxRetryTime: number | undefined,
): Promise<Answer> => {
  const started = performance.now()
  let attempts = 0
  let last: Answer | undefined
  let throttled: Answer | undefined
  try {
    await (await loadRetry()).default(
      async () => {
        const answer = await ask()
        attempts += answer.attempts
        // A request the deadline cut short says less than the 400 before it, which stays the answer;
        // any other answer, a value among them, is the answer even as the deadline comes.
        if (!(throttled && 'failure' in answer && answer.failure.code === 'TIMEOUT')) last = answer
        if ('failure' in answer && answer.failure.throttled) {
          throttled = answer
          throw new Throttled()
        }
      },
      {
        // Without a deadline (no Lambda context), the readiness budget bounds this wait too.
        maxRetryTime: signal ? undefined : maxRetryTime,
        ...options,
        signal,
        shouldRetry: ({ error }) => error instanceof Throttled,
      },
    )
  } catch (error) {
    if (!(error instanceof Throttled) && !signal?.aborted)
      throw optionError(error, 'coldStartRetry', attempts)
  }
  // p-retry makes no attempt once the signal has aborted: the plain request reports the deadline.
  if (last === undefined) return ask()
  const cut = signal?.aborted && 'failure' in last && last.failure.throttled
  return {
    ...(cut ? { failure: { ...(last as { failure: Failure }).failure, cutByDeadline: true } } : last),
    attempts,
    elapsedMs: Math.round(performance.now() - started),
  }
}
