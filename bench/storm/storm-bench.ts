import middy from '@middy/core'
import { startEmulator } from '../../src/emulator/index.js'
import { ExtensionSecretsError, extensionSecrets, parameter } from '../../src/index.js'
import { type ModelledMiddleware, middlewareDefaults, simulateStorm } from './model.js'
import { plot } from './plot.js'
import { defaultConsumerDir, prepareConsumer, runRealStorm } from './real.js'
import { type StormScenario, type StormSummary, summarize } from './scenario.js'
import { middlewareOptions, recommendedColdStartRetry } from './settings.mjs'

// The storm bench: calibrates the model against real processes on the sizes this machine holds, runs the
// model over the fleet sizes it does not, and measures what a misconfiguration costs with each setting.
// Returns the generated parts of docs/scaling.md and its plot; main.ts writes them.

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

export const modelledMiddleware = (scenario: StormScenario): ModelledMiddleware =>
  scenario.settings === 'default'
    ? middlewareDefaults
    : {
        ...middlewareDefaults,
        // p-retry's own defaults for what the recommendation leaves out; randomize is on (options.ts).
        coldStartRetry: { factor: 2, randomize: true, ...recommendedColdStartRetry },
      }

const modelled = (scenario: StormScenario) => summarize(simulateStorm(scenario, modelledMiddleware(scenario)))

const percent = (share: number) => `${(100 * share).toFixed(share > 0 && share < 0.001 ? 2 : 1)} %`
const ms = (value: number | undefined) => (value === undefined ? '–' : `${Math.round(value)}`)
const count = (value: number) => value.toLocaleString('en-US')
const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, index) => (index === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
const windowLabel = (windowMs: number) => `${windowMs / 1000} s`

export interface StormBench {
  /** The page's generated blocks, by name (`<!-- storm:NAME -->`). */
  generated: Record<string, string>
  svg: string
  plotFile: string
}

export const runStormBench = async ({
  quick = false,
  log = () => {},
}: {
  quick?: boolean
  log?: (line: string) => void
}): Promise<StormBench> => {
  // ---------- 1. Calibration: the same scenarios as real processes and in the model
  const calibrationScenarios: StormScenario[] = (
    quick
      ? [{ environments: 4, values: 2 }]
      : [
          // At most about 50 starts a second: beyond that, this machine's two cores delay the starts
          // themselves (measured: timers late by hundreds of ms at 200 starts in one second).
          { environments: 50, values: 1 },
          { environments: 100, values: 5, windowMs: 2_000 },
          { environments: 100, values: 5, windowMs: 2_000, settings: 'recommended' as const },
          { environments: 100, values: 5, windowMs: 10_000 },
          { environments: 200, values: 1, windowMs: 4_000 },
          { environments: 200, values: 1, windowMs: 4_000, settings: 'recommended' as const },
          { environments: 50, values: 20, windowMs: 5_000, parameterPerSecond: 10_000 },
        ]
  ).map((change) => ({ ...baseScenario, ...change }))

  const seeds = quick ? 2 : 20
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length
  const modelMeans = (scenario: StormScenario) => {
    const runs = Array.from({ length: seeds }, (_, index) =>
      modelled({ ...scenario, seed: scenario.seed + index }),
    )
    const of = (pick: (summary: StormSummary) => number | undefined) => {
      const values = runs.map(pick).filter((value): value is number => value !== undefined)
      return values.length === 0 ? undefined : mean(values)
    }
    return {
      failedFirstShare: of((run) => run.failedFirstShare)!,
      failedMin: Math.min(...runs.map((run) => run.failedFirstShare)),
      failedMax: Math.max(...runs.map((run) => run.failedFirstShare)),
      p50HandlerMs: of((run) => run.p50HandlerMs),
      p99HandlerMs: of((run) => run.p99HandlerMs),
      upstreamCalls: of((run) => run.upstreamCalls)!,
      throttledCalls: of((run) => run.throttledCalls)!,
    }
  }

  log('building the package as published for the environments’ processes')
  prepareConsumer(defaultConsumerDir, log)
  const calibration: string[][] = []
  const errors = {
    failed: [] as number[],
    calls: [] as number[],
    throttled: [] as number[],
    p50: [] as number[],
  }
  for (const scenario of calibrationScenarios) {
    log(`real storm: ${describeScenario(scenario)}`)
    const run = await runRealStorm(scenario, { consumerDir: defaultConsumerDir, log })
    const real = summarize(run)
    const model = modelMeans(scenario)
    const failedGap = Math.abs(real.failedFirstShare - model.failedFirstShare)
    const callsGap = Math.abs(real.upstreamCalls - model.upstreamCalls) / Math.max(1, model.upstreamCalls)
    errors.failed.push(failedGap)
    errors.calls.push(callsGap)
    if (real.p50HandlerMs !== undefined && model.p50HandlerMs !== undefined)
      errors.p50.push(Math.abs(real.p50HandlerMs - model.p50HandlerMs))
    errors.throttled.push(
      Math.abs(real.throttledCalls - model.throttledCalls) / Math.max(1, model.upstreamCalls),
    )
    calibration.push([
      describeScenario(scenario),
      `${percent(real.failedFirstShare)} / ${percent(model.failedFirstShare)} (${percent(model.failedMin)}–${percent(model.failedMax)})`,
      `${ms(real.p50HandlerMs)} / ${ms(model.p50HandlerMs)}`,
      `${ms(real.p99HandlerMs)} / ${ms(model.p99HandlerMs)}`,
      `${count(real.upstreamCalls)} / ${count(Math.round(model.upstreamCalls))}`,
      `${count(real.throttledCalls)} / ${count(Math.round(model.throttledCalls))}`,
      // How late the latest start reached its process: this machine's own lag, in the real times.
      `${Math.round(run.timing.deliveredLateMs.max)}`,
    ])
  }
  const calibrationError = {
    failedPoints: 100 * Math.max(...errors.failed),
    failedMeanPoints: 100 * mean(errors.failed),
    calls: 100 * Math.max(...errors.calls),
    throttled: 100 * Math.max(...errors.throttled),
    p50: errors.p50.length === 0 ? 0 : Math.max(...errors.p50),
  }

  function describeScenario(scenario: StormScenario) {
    const store =
      scenario.service === 'secret'
        ? 'secrets'
        : scenario.parameterPerSecond > 40
          ? 'parameters, higher throughput'
          : 'parameters'
    return `${scenario.environments} × ${scenario.values} ${store}, ${windowLabel(scenario.windowMs)}, ${scenario.settings}`
  }

  // ---------- 2. The fleet: the model over every size, store and setting
  const fleetSizes = quick ? [10, 100] : [10, 100, 1_000, 10_000]
  const windows = [1_000, 10_000]
  const valueCounts = quick ? [1, 5] : [1, 5, 20]
  const stores = [
    {
      label: 'Parameter Store, standard throughput (40/s)',
      service: 'parameter' as const,
      parameterPerSecond: 40,
    },
    {
      label: 'Parameter Store, higher throughput (10,000/s)',
      service: 'parameter' as const,
      parameterPerSecond: 10_000,
    },
    {
      label: 'Secrets Manager (GetSecretValue 10,000/s)',
      service: 'secret' as const,
      parameterPerSecond: 40,
    },
  ]
  const fleet = new Map<string, StormSummary>()
  const fleetKey = (store: number, scenario: StormScenario) =>
    `${store}/${scenario.environments}/${scenario.windowMs}/${scenario.values}/${scenario.settings}`
  const fleetSections: string[] = []
  for (const [storeIndex, store] of stores.entries()) {
    const rows: string[][] = []
    for (const environments of fleetSizes)
      for (const windowMs of windows)
        for (const values of valueCounts) {
          const cells: string[] = [count(environments), windowLabel(windowMs), String(values)]
          for (const settings of ['default', 'recommended'] as const) {
            const scenario = { ...baseScenario, ...store, environments, windowMs, values, settings }
            const summary = modelled(scenario)
            fleet.set(fleetKey(storeIndex, scenario), summary)
            cells.push(
              percent(summary.failedFirstShare),
              `${ms(summary.p50HandlerMs)} / ${ms(summary.p99HandlerMs)}`,
              `${count(summary.upstreamCalls)} (${count(summary.throttledCalls)})`,
            )
          }
          rows.push(cells)
        }
    log(`modelled: ${store.label}`)
    fleetSections.push(
      `### ${store.label}\n\n${table(
        [
          'environments',
          'starting within',
          'values',
          'failed first invocations, default',
          'handler start p50 / p99 (ms)',
          'upstream calls (throttled)',
          'failed, recommended',
          'p50 / p99 (ms)',
          'calls (throttled)',
        ],
        rows,
      )}`,
    )
  }

  // ---------- The short answer: 5 values, by fleet size, and what to set
  const advice = (standard: StormSummary, retrying: StormSummary, higher: StormSummary) =>
    standard.failedFirst === 0
      ? 'nothing: the defaults hold'
      : retrying.failedFirst === 0
        ? '`coldStartRetry` (or higher throughput)'
        : higher.failedFirst === 0
          ? 'higher throughput, or fewer values per function'
          : 'fewer values per function, and higher throughput'
  const summaryRows: string[][] = []
  for (const environments of fleetSizes)
    for (const windowMs of windows) {
      const at = (store: number, settings: 'default' | 'recommended') =>
        fleet.get(fleetKey(store, { ...baseScenario, environments, windowMs, values: 5, settings }))!
      summaryRows.push([
        count(environments),
        windowLabel(windowMs),
        count(environments * 5),
        percent(at(0, 'default').failedFirstShare),
        percent(at(0, 'recommended').failedFirstShare),
        percent(at(1, 'default').failedFirstShare),
        percent(at(2, 'default').failedFirstShare),
        advice(at(0, 'default'), at(0, 'recommended'), at(1, 'default')),
      ])
    }

  // ---------- 3. The function's timeout: what the layer's own retries need
  const timeoutRows: string[][] = []
  for (const timeoutMs of [3_000, 10_000, 30_000])
    for (const settings of ['default', 'recommended'] as const) {
      const summary = modelled({ ...baseScenario, timeoutMs, settings })
      timeoutRows.push([
        `${timeoutMs / 1000} s`,
        settings,
        percent(summary.failedFirstShare),
        `${ms(summary.p50HandlerMs)} / ${ms(summary.p99HandlerMs)}`,
        `${count(summary.upstreamCalls)} (${count(summary.throttledCalls)})`,
      ])
    }

  // ---------- 4. The other way: a name that does not exist, with each setting (real HTTP, one process)
  const misconfiguration: string[][] = []
  for (const latencyMs of [20, 400])
    for (const settings of ['default', 'recommended'] as const) {
      const emulator = await startEmulator({
        token: 'storm-misconfiguration',
        upstream: { parameterLatencyMs: latencyMs },
      })
      try {
        const handler = middy()
          .use(
            extensionSecrets({
              fetchData: { missing: parameter('/storm/does-not-exist') },
              port: emulator.port,
              token: 'storm-misconfiguration',
              ...middlewareOptions(settings),
            }),
          )
          .handler(async () => 'started')
        const started = performance.now()
        const end = Date.now() + baseScenario.timeoutMs
        let code = 'none'
        try {
          await handler({}, { getRemainingTimeInMillis: () => end - Date.now() } as never)
        } catch (error) {
          code = error instanceof ExtensionSecretsError ? (error.errors?.[0]?.code ?? error.code) : 'other'
        }
        misconfiguration.push([
          `${latencyMs} ms`,
          settings,
          code,
          `${Math.round(performance.now() - started)} ms`,
          String(emulator.requests.length),
        ])
      } finally {
        await emulator.close()
      }
    }

  // ---------- The page
  const plotFile = 'scaling-storm.svg'
  // The plot: more sizes than the tables, 5 values starting within 10 s.
  const plotSizes = quick ? [10, 100] : [10, 30, 100, 200, 300, 500, 1_000, 3_000, 10_000]
  const plotLines = [
    { label: 'Parameter Store 40/s, default', change: { parameterPerSecond: 40 }, settings: 'default' },
    {
      label: 'Parameter Store 40/s, coldStartRetry',
      change: { parameterPerSecond: 40 },
      settings: 'recommended',
      dash: '6 4',
    },
    { label: 'Secrets Manager, default', change: { service: 'secret' }, settings: 'default', width: 7 },
    {
      label: 'Parameter Store 10,000/s, default',
      change: { parameterPerSecond: 10_000 },
      settings: 'default',
      dash: '2 3',
    },
  ] as const
  const svg = plot(
    plotSizes,
    plotLines.map(({ change, settings, ...line }) => ({
      ...line,
      points: plotSizes.map(
        (environments) =>
          modelled({ ...baseScenario, ...change, environments, windowMs: 10_000, values: 5, settings })
            .failedFirstShare,
      ),
    })),
    'Failed first invocations: 5 values, environments starting within 10 s, 10 s timeout (model)',
  )

  const generated: Record<string, string> = {
    summary: table(
      [
        'environments',
        'starting within',
        'first reads',
        'failed: Parameter Store 40/s',
        'with `coldStartRetry`',
        'higher throughput',
        'Secrets Manager',
        'what to set (parameters)',
      ],
      summaryRows,
    ),
    calibration: `${table(
      [
        'scenario (environments × values, starting within, settings)',
        'failed first invocations: real / model (model’s range)',
        'p50 ms: real / model',
        'p99 ms: real / model',
        'upstream calls: real / model',
        'throttled: real / model',
        'latest start, ms late (real)',
      ],
      calibration,
    )}\n\nCalibration error over these scenarios: failed first invocations within ${calibrationError.failedPoints.toFixed(1)} percentage points (mean ${calibrationError.failedMeanPoints.toFixed(1)}); upstream calls within ${calibrationError.calls.toFixed(0)} %, throttled calls within ${calibrationError.throttled.toFixed(0)} % of all calls. Handler start times differ more (up to ${Math.round(calibrationError.p50)} ms at the median): under throttling they split into fast starts and starts after the layer's retries, so a median of a few dozen successes jumps between the two; and where the storm does not throttle, the real processes add this machine's own lag (two cores for every process and layer). Model: mean of ${seeds} seeds; real: one run.`,
    fleet: `![${'Failed first invocations by fleet size'}](${plotFile})\n\n${fleetSections.join('\n\n')}`,
    timeout: table(
      [
        'function timeout',
        'settings',
        'failed first invocations',
        'p50 / p99 (ms)',
        'upstream calls (throttled)',
      ],
      timeoutRows,
    ),
    misconfiguration: table(
      ['upstream latency', 'settings', 'error', 'time to the error', 'requests to the layer'],
      misconfiguration,
    ),
  }
  return { generated, svg, plotFile }
}
