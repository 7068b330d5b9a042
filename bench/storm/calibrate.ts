import { baseScenario, count, describeScenario, mean, modelled, ms, percent, table } from './modelled.js'
import { defaultConsumerDir, prepareConsumer, runRealStorm } from './real.js'
import { type StormScenario, type StormSummary, summarize } from './scenario.js'

// The model against real processes: the same scenarios, as many environments as this machine holds.

/** 1. The same scenarios as real processes (two runs each) and in the model (20 seeds). */
export const calibrate = async (quick: boolean, log: (line: string) => void) => {
  const scenarios: StormScenario[] = (
    quick
      ? [{ environments: 4, values: 2 }]
      : [
          // At most about 50 starts a second: beyond that, this machine's two cores delay the starts
          // themselves (measured: timers late by hundreds of ms at 200 starts in one second).
          { environments: 50, values: 1 },
          { environments: 100, values: 5, windowMs: 2_000 },
          { environments: 100, values: 5, windowMs: 2_000, settings: 'recommended' as const },
          { environments: 100, values: 5, windowMs: 10_000 },
          { environments: 100, values: 5, windowMs: 10_000, settings: 'recommended' as const },
          { environments: 200, values: 1, windowMs: 4_000 },
          // As many as this machine holds: about 300 processes.
          { environments: 300, values: 1, windowMs: 6_000 },
          { environments: 300, values: 1, windowMs: 6_000, settings: 'recommended' as const },
          { environments: 50, values: 20, windowMs: 5_000, parameterPerSecond: 10_000 },
        ]
  ).map((change) => ({ ...baseScenario, ...change }))
  const realRuns = quick ? 1 : 2
  const seeds = quick ? 2 : 20

  log('building the package as published for the environments’ processes')
  prepareConsumer(defaultConsumerDir, log)
  const rows: string[][] = []
  const gaps = { failed: [] as number[], calls: [] as number[], throttled: [] as number[] }
  for (const scenario of scenarios) {
    const runs: StormSummary[] = []
    let lateMs = 0
    for (let run = 0; run < realRuns; run++) {
      log(`real storm: ${describeScenario(scenario)}, run ${run + 1} of ${realRuns}`)
      // Each run draws other start times, as each model seed does.
      const result = await runRealStorm(
        { ...scenario, seed: scenario.seed + 100 * run },
        {
          consumerDir: defaultConsumerDir,
          log,
        },
      )
      runs.push(summarize(result))
      lateMs = Math.max(lateMs, result.timing.deliveredLateMs.max)
    }
    const real = {
      failed: mean(runs.map((run) => run.failedFirstShare)),
      calls: mean(runs.map((run) => run.upstreamCalls)),
      throttled: mean(runs.map((run) => run.throttledCalls)),
      p50: mean(runs.flatMap((run) => (run.p50HandlerMs === undefined ? [] : [run.p50HandlerMs]))),
      p99: mean(runs.flatMap((run) => (run.p99HandlerMs === undefined ? [] : [run.p99HandlerMs]))),
    }
    const model = modelled(scenario, seeds)
    // Scenarios that throttle nothing agree by construction: only the others measure the model.
    if (model.throttledCalls > 0 || real.throttled > 0) {
      gaps.failed.push(Math.abs(real.failed - model.failedFirstShare))
      gaps.calls.push(Math.abs(real.calls - model.upstreamCalls) / Math.max(1, model.upstreamCalls))
      gaps.throttled.push(Math.abs(real.throttled - model.throttledCalls) / Math.max(1, model.upstreamCalls))
    }
    rows.push([
      describeScenario(scenario),
      `${runs.map((run) => percent(run.failedFirstShare)).join(', ')} / ${percent(model.failedFirstShare)} (${percent(model.failedMin)}–${percent(model.failedMax)})`,
      `${count(real.calls)} / ${count(model.upstreamCalls)}`,
      `${count(real.throttled)} / ${count(model.throttledCalls)}`,
      `${ms(real.p50)} / ${ms(model.p50HandlerMs)}`,
      `${ms(real.p99)} / ${ms(model.p99HandlerMs)}`,
      // How late the latest start reached its process: this machine's own lag, in the real times.
      `${Math.round(lateMs)}`,
    ])
  }
  const worst = (values: number[]) => (values.length === 0 ? 0 : 100 * Math.max(...values))
  return `${table(
    [
      'scenario (environments × values, starting within, settings)',
      'failed first invocations: real runs / model mean (model’s range over seeds)',
      'upstream calls: real / model',
      'throttled: real / model',
      'handler start p50 ms: real / model',
      'p99 ms: real / model',
      'latest start, ms late (real)',
    ],
    rows,
  )}\n\nOver the ${gaps.failed.length} scenarios that throttle, the model's mean is within ${worst(gaps.failed).toFixed(1)} percentage points of the real runs' mean for failed first invocations (mean gap ${(100 * mean(gaps.failed.length ? gaps.failed : [0])).toFixed(1)}), within ${worst(gaps.calls).toFixed(0)} % for upstream calls and ${worst(gaps.throttled).toFixed(0)} % of all calls for throttled calls. Real: ${realRuns} run${realRuns === 1 ? '' : 's'} per scenario, each with its own start times; model: mean of ${seeds} seeds. One run of either moves by several points (the model's range), so the gap is read against that range. Handler start times agree less: under throttling they split into fast starts and starts after the layer's retries, and the real processes add this machine's own lag (two cores for every process and layer); read the model's start times as an order of magnitude.`
}
