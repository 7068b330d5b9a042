import { type ModelledMiddleware, middlewareDefaults, simulateStorm } from './model.js'
import { type StormScenario, type StormSummary, summarize } from './scenario.js'
import { recommended } from './settings.mjs'

// The model as the storm bench reads it: the base scenario, the middleware each setting stands for,
// means over seeds, and the formatting of the tables.

/** Every scenario's defaults: a function with a 10 s timeout reading from a layer on a Lambda network. */
export const baseScenario: StormScenario = {
  environments: 100,
  windowMs: 1_000,
  values: 5,
  service: 'parameter',
  parameterPerSecond: 40,
  secretPerSecond: 10_000,
  settings: 'default',
  timeoutMs: 10_000,
  upstreamLatencyMs: 20,
  sdkBackoffMs: 1_000,
  refuseMs: 0,
  notReadyMs: 50,
  seed: 1,
}

export type Schedule = { retries: number; minTimeout: number; maxTimeout: number }

/** The middleware the model follows: its defaults, or them with a request timeout and a schedule. */
export const withRetry = (schedule: Schedule, requestTimeout = middlewareDefaults.requestTimeout) => ({
  ...middlewareDefaults,
  requestTimeout,
  // p-retry's own default factor; randomize is on unless set (options.ts).
  coldStartRetry: { factor: 2, randomize: true, ...schedule },
})

export const modelledMiddleware = (scenario: StormScenario): ModelledMiddleware =>
  scenario.settings === 'default'
    ? middlewareDefaults
    : withRetry(recommended.coldStartRetry, recommended.requestTimeout)

export const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length

/** The model's mean over seeds, and the range of failed first invocations. */
export interface Modelled extends StormSummary {
  failedMin: number
  failedMax: number
  seeds: number
}

export const modelled = (
  scenario: StormScenario,
  seeds: number,
  middleware: ModelledMiddleware = modelledMiddleware(scenario),
): Modelled => {
  const runs = Array.from({ length: seeds }, (_, index) =>
    summarize(simulateStorm({ ...scenario, seed: scenario.seed + index }, middleware)),
  )
  const of = (pick: (summary: StormSummary) => number | undefined) => {
    const values = runs.map(pick).filter((value): value is number => value !== undefined)
    return values.length === 0 ? undefined : mean(values)
  }
  return {
    environments: scenario.environments,
    failedFirst: of((run) => run.failedFirst)!,
    failedFirstShare: of((run) => run.failedFirstShare)!,
    failedMin: Math.min(...runs.map((run) => run.failedFirstShare)),
    failedMax: Math.max(...runs.map((run) => run.failedFirstShare)),
    p50HandlerMs: of((run) => run.p50HandlerMs),
    p99HandlerMs: of((run) => run.p99HandlerMs),
    upstreamCalls: of((run) => run.upstreamCalls)!,
    throttledCalls: of((run) => run.throttledCalls)!,
    seeds,
  }
}

export const percent = (share: number) => `${(100 * share).toFixed(share > 0 && share < 0.001 ? 2 : 1)} %`
export const ms = (value: number | undefined) => (value === undefined ? '–' : `${Math.round(value)}`)
export const count = (value: number) => Math.round(value).toLocaleString('en-US')
export const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, index) => (index === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
export const windowLabel = (windowMs: number) => `${windowMs / 1000} s`
export const describeScenario = (scenario: StormScenario) => {
  const store =
    scenario.service === 'secret'
      ? 'secrets'
      : scenario.parameterPerSecond > 40
        ? 'parameters, higher throughput'
        : 'parameters'
  return `${scenario.environments} × ${scenario.values} ${store}, ${windowLabel(scenario.windowMs)}, ${scenario.settings}`
}
