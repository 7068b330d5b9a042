import { describe, expect, it } from 'vitest'
import { middlewareDefaults, simulateStorm } from '../bench/storm/model.js'
import { baseScenario, modelledMiddleware } from '../bench/storm/modelled.js'
import { type StormScenario, startTimes, summarize } from '../bench/storm/scenario.js'

// The storm model's bookkeeping, on small fleets: what it must conserve whatever the numbers. How close
// it comes to real processes is measured by `npm run bench:storm` (docs/scaling.md), not asserted here.

const scenario = (change: Partial<StormScenario>): StormScenario => ({ ...baseScenario, ...change })

describe('the cold-start storm model', () => {
  it('under the quota: every environment starts, one upstream call per value, none throttled', () => {
    const result = simulateStorm(scenario({ environments: 20, values: 5, windowMs: 10_000 }))
    const summary = summarize(result)
    expect(summary.failedFirst).toBe(0)
    expect(result.upstreamCalls).toBe(100)
    expect(result.throttledCalls).toBe(0)
    // Five values through three connections: two rounds of 20 ms, after the 50 ms not-ready window.
    for (const outcome of result.outcomes) expect(outcome.handlerAfterMs).toBeGreaterThanOrEqual(90)
  })

  it('over the quota: failures are the layer’s 400, and every success had its values read', () => {
    const result = simulateStorm(scenario({ environments: 100, values: 5 }))
    const summary = summarize(result)
    expect(result.outcomes).toHaveLength(100)
    expect(summary.failedFirst).toBeGreaterThan(0)
    expect(result.throttledCalls).toBeGreaterThan(0)
    expect(result.throttledCalls).toBeLessThan(result.upstreamCalls)
    // A throttled read is attempted three times by the layer before its 400.
    const failed = result.outcomes.filter((outcome) => outcome.code !== undefined)
    expect(new Set(failed.map((outcome) => outcome.code))).toEqual(new Set(['UPSTREAM_ERROR']))
    const succeeded = result.outcomes.length - failed.length
    expect(result.upstreamCalls - result.throttledCalls).toBeGreaterThanOrEqual(succeeded * 5)
    // The starts are the scenario's own, in order.
    expect(result.outcomes.map((outcome) => outcome.startMs)).toEqual(startTimes(result.scenario))
  })

  it('the same seed gives the same storm; another seed another', () => {
    const one = summarize(simulateStorm(scenario({ seed: 7 })))
    expect(summarize(simulateStorm(scenario({ seed: 7 })))).toEqual(one)
    expect(simulateStorm(scenario({ seed: 8 })).outcomes[0]!.startMs).not.toBe(
      simulateStorm(scenario({ seed: 7 })).outcomes[0]!.startMs,
    )
  })

  it('coldStartRetry asks again: more upstream calls, no more failures over a wide window', () => {
    const storm = scenario({ environments: 100, values: 5, windowMs: 10_000, seed: 3 })
    const off = simulateStorm(storm, middlewareDefaults)
    const on = simulateStorm(
      { ...storm, settings: 'recommended' },
      modelledMiddleware({ ...storm, settings: 'recommended' }),
    )
    expect(summarize(on).failedFirst).toBeLessThanOrEqual(summarize(off).failedFirst)
    expect(on.upstreamCalls).toBeGreaterThanOrEqual(off.upstreamCalls)
  })

  it('a timeout shorter than the layer’s retries: values time out or fail, none waits past it', () => {
    const result = simulateStorm(scenario({ environments: 100, values: 5, timeoutMs: 2_000 }))
    for (const outcome of result.outcomes)
      if (outcome.handlerAfterMs !== undefined) expect(outcome.handlerAfterMs).toBeLessThan(2_000)
    expect(summarize(result).failedFirst).toBeGreaterThan(0)
  })
})

describe('the recommended settings', () => {
  it('are the ones the docs show: the storm bench measures what users copy', async () => {
    const { readFileSync } = await import('node:fs')
    const { recommended } = await import('../bench/storm/settings.mjs')
    const example = readFileSync(new URL('../examples/docs/options.ts', import.meta.url), 'utf8')
    const region = example.slice(
      example.indexOf('#region cold-start-retry'),
      example.indexOf('#endregion cold-start-retry'),
    )
    const number = (name: string) =>
      Number(new RegExp(`${name}: ([\\d_]+)`).exec(region)?.[1]?.replaceAll('_', ''))
    expect({
      coldStartRetry: {
        retries: number('retries'),
        minTimeout: number('minTimeout'),
        maxTimeout: number('maxTimeout'),
      },
      requestTimeout: number('requestTimeout'),
    }).toEqual(recommended)
  })
})
