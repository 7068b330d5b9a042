interface RemainingTime {
  getRemainingTimeInMillis?: () => number
  lambdaContext?: { getRemainingTimeInMillis?: () => number }
}

/**
 * The `performance.now()` time by which fetching must end: the invocation's remaining time minus the
 * margin. Middy's early-timeout guard covers only the handler, so the middleware bounds itself. Middy 7's
 * durable mode keeps the Lambda context under `lambdaContext`. Without either (plain tests), undefined.
 */
export const invocationDeadline = (context: unknown, margin: number): number | undefined => {
  const candidate = context as RemainingTime | null | undefined
  const owner =
    typeof candidate?.getRemainingTimeInMillis === 'function'
      ? candidate
      : typeof candidate?.lambdaContext?.getRemainingTimeInMillis === 'function'
        ? candidate.lambdaContext
        : undefined
  if (owner === undefined) return undefined
  const remaining = owner.getRemainingTimeInMillis!()
  return Number.isFinite(remaining) ? performance.now() + remaining - margin : undefined
}
