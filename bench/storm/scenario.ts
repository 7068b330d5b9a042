// What one storm is, and what it produced: shared by the real processes (real.ts) and the model (model.ts),
// so the two are run with the same inputs and compared on the same outputs.

export type Settings = 'default' | 'recommended'

export interface StormScenario {
  /** Execution environments, each with its own layer (and layer cache) and its own handler process. */
  environments: number
  /** Environments start at times drawn uniformly from [0, windowMs). */
  windowMs: number
  /** Values each function fetches at its first invocation. */
  values: number
  service: 'parameter' | 'secret'
  /** Parameter Store throughput of the account and region: 40 standard, 10 000 higher throughput. */
  parameterPerSecond: number
  /** Secrets Manager GetSecretValue quota: 10 000. */
  secretPerSecond: number
  /** The middleware's settings: its defaults, or the ones docs/scaling.md recommends. */
  settings: Settings
  /** The function's timeout: `getRemainingTimeInMillis()` at the first invocation's start. */
  timeoutMs: number
  /** One upstream attempt (GetParameter / GetSecretValue) on a layer cache miss. */
  upstreamLatencyMs: number
  /** The layer's SDK backoff after a throttled attempt: attempt n waits up to this × 2^n ms (3 attempts). */
  sdkBackoffMs: number
  /** After an environment starts, its layer refuses connections for this long... */
  refuseMs: number
  /** ...then answers `not ready` for this long, then serves. */
  notReadyMs: number
  /** Seeds the start times. */
  seed: number
}

/** One environment's first invocation. */
export interface EnvironmentOutcome {
  /** When it started, ms after the storm's start. */
  startMs: number
  /** ms from its start to its handler starting; undefined when the invocation failed. */
  handlerAfterMs?: number | undefined
  /** The error code when it failed (`FETCH_FAILED`'s first key error code). */
  code?: string | undefined
}

export interface StormResult {
  scenario: StormScenario
  outcomes: EnvironmentOutcome[]
  /** Upstream attempts that took a request from the account's quota, or were throttled. */
  upstreamCalls: number
  throttledCalls: number
  /** Wall-clock ms from the storm's start to the last outcome. */
  durationMs: number
}

export interface StormSummary {
  environments: number
  failedFirst: number
  failedFirstShare: number
  p50HandlerMs: number | undefined
  p99HandlerMs: number | undefined
  upstreamCalls: number
  throttledCalls: number
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]

export const summarize = (result: StormResult): StormSummary => {
  const times = result.outcomes
    .flatMap((outcome) => (outcome.handlerAfterMs === undefined ? [] : [outcome.handlerAfterMs]))
    .sort((a, b) => a - b)
  const failedFirst = result.outcomes.filter((outcome) => outcome.handlerAfterMs === undefined).length
  return {
    environments: result.outcomes.length,
    failedFirst,
    failedFirstShare: failedFirst / result.outcomes.length,
    p50HandlerMs: quantile(times, 0.5),
    p99HandlerMs: quantile(times, 0.99),
    upstreamCalls: result.upstreamCalls,
    throttledCalls: result.throttledCalls,
  }
}

/** A small seeded generator (mulberry32): the same seed gives both runs the same start times. */
export const random = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The environments' start times, sorted, ms after the storm's start. */
export const startTimes = (scenario: StormScenario): number[] => {
  const next = random(scenario.seed)
  return Array.from({ length: scenario.environments }, () => next() * scenario.windowMs).sort((a, b) => a - b)
}
