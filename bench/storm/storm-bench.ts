import middy from '@middy/core'
import { startEmulator } from '../../src/emulator/index.js'
import { ExtensionSecretsError, extensionSecrets, parameter } from '../../src/index.js'
import { type ModelledMiddleware, middlewareDefaults, simulateStorm } from './model.js'
import { plot } from './plot.js'
import { defaultConsumerDir, prepareConsumer, runRealStorm } from './real.js'
import { type StormScenario, type StormSummary, summarize } from './scenario.js'
import { middlewareOptions, recommended } from './settings.mjs'

// The storm bench: calibrates the model against real processes on the sizes this machine holds, runs the
// model over the fleet sizes it does not, compares retry schedules, and measures what a misconfiguration
// costs with each setting. Returns the generated parts of docs/scaling.md and its plot; main.ts writes them.

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

type Schedule = { retries: number; minTimeout: number; maxTimeout: number }

/** The middleware the model follows: its defaults, or them with a request timeout and a schedule. */
const withRetry = (schedule: Schedule, requestTimeout = middlewareDefaults.requestTimeout) => ({
  ...middlewareDefaults,
  requestTimeout,
  // p-retry's own default factor; randomize is on unless set (options.ts).
  coldStartRetry: { factor: 2, randomize: true, ...schedule },
})

export const modelledMiddleware = (scenario: StormScenario): ModelledMiddleware =>
  scenario.settings === 'default'
    ? middlewareDefaults
    : withRetry(recommended.coldStartRetry, recommended.requestTimeout)

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length

/** The model's mean over seeds, and the range of failed first invocations. */
interface Modelled extends StormSummary {
  failedMin: number
  failedMax: number
  seeds: number
}

const modelled = (
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

const percent = (share: number) => `${(100 * share).toFixed(share > 0 && share < 0.001 ? 2 : 1)} %`
const ms = (value: number | undefined) => (value === undefined ? '–' : `${Math.round(value)}`)
const count = (value: number) => Math.round(value).toLocaleString('en-US')
const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, index) => (index === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
const windowLabel = (windowMs: number) => `${windowMs / 1000} s`
const describeScenario = (scenario: StormScenario) => {
  const store =
    scenario.service === 'secret'
      ? 'secrets'
      : scenario.parameterPerSecond > 40
        ? 'parameters, higher throughput'
        : 'parameters'
  return `${scenario.environments} × ${scenario.values} ${store}, ${windowLabel(scenario.windowMs)}, ${scenario.settings}`
}

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
  // The model's spread between seeds shrinks with the fleet: fewer seeds for the largest sizes.
  const seedsFor = (environments: number) => (quick ? 2 : environments >= 10_000 ? 1 : 5)
  return {
    generated: {
      calibration: await calibrate(quick, log),
      ...fleet(quick, seedsFor, log),
      schedules: schedules(quick),
      timeout: timeouts(seedsFor),
      misconfiguration: await misconfiguration(),
    },
    svg: plotFleet(quick, seedsFor),
    plotFile,
  }
}

const plotFile = 'scaling-storm.svg'

/** 1. The same scenarios as real processes (two runs each) and in the model (20 seeds). */
const calibrate = async (quick: boolean, log: (line: string) => void) => {
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

const stores = [
  { label: 'Parameter Store, standard throughput (40/s)', service: 'parameter', parameterPerSecond: 40 },
  {
    label: 'Parameter Store, higher throughput (10,000/s)',
    service: 'parameter',
    parameterPerSecond: 10_000,
  },
  { label: 'Secrets Manager (GetSecretValue 10,000/s)', service: 'secret', parameterPerSecond: 40 },
] as const

/** 2. The model over every size, store and setting, and the short answer from the same numbers. */
const fleet = (quick: boolean, seedsFor: (environments: number) => number, log: (line: string) => void) => {
  const sizes = quick ? [10, 100] : [10, 100, 1_000, 10_000]
  const windows = [1_000, 10_000]
  const valueCounts = quick ? [1, 5] : [1, 5, 20]
  const results = new Map<string, Modelled>()
  const key = (store: number, environments: number, windowMs: number, values: number, settings: string) =>
    `${store}/${environments}/${windowMs}/${values}/${settings}`
  const sections = stores.map(({ label, ...store }, storeIndex) => {
    const rows: string[][] = []
    for (const environments of sizes)
      for (const windowMs of windows)
        for (const values of valueCounts) {
          const cells = [count(environments), windowLabel(windowMs), String(values)]
          for (const settings of ['default', 'recommended'] as const) {
            const scenario = { ...baseScenario, ...store, environments, windowMs, values, settings }
            const summary = modelled(scenario, seedsFor(environments))
            results.set(key(storeIndex, environments, windowMs, values, settings), summary)
            cells.push(
              percent(summary.failedFirstShare),
              `${ms(summary.p50HandlerMs)} / ${ms(summary.p99HandlerMs)}`,
              `${count(summary.upstreamCalls)} (${count(summary.throttledCalls)})`,
            )
          }
          rows.push(cells)
        }
    log(`modelled: ${label}`)
    return `### ${label}\n\n${table(
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
    )}`
  })

  // What to set: the first answer, in the order docs/scaling.md gives them, that leaves under 1 % failed.
  const fine = (summary: Modelled) => summary.failedFirstShare < 0.01
  const summaryRows: string[][] = []
  for (const environments of sizes)
    for (const windowMs of windows) {
      const at = (store: number, settings: 'default' | 'recommended') =>
        results.get(key(store, environments, windowMs, 5, settings))!
      const advice = fine(at(0, 'default'))
        ? 'nothing: the defaults hold'
        : fine(at(0, 'recommended'))
          ? 'the recommended settings (or higher throughput)'
          : fine(at(1, 'default'))
            ? 'higher throughput, or fewer values per function'
            : 'fewer values per function, and higher throughput'
      summaryRows.push([
        count(environments),
        windowLabel(windowMs),
        count(environments * 5),
        percent(at(0, 'default').failedFirstShare),
        percent(at(0, 'recommended').failedFirstShare),
        percent(at(1, 'default').failedFirstShare),
        percent(at(2, 'default').failedFirstShare),
        advice,
      ])
    }
  return {
    summary: `${table(
      [
        'environments',
        'starting within',
        'first reads',
        'failed: Parameter Store 40/s, defaults',
        'recommended settings',
        'higher throughput',
        'Secrets Manager',
        'what to set (parameters)',
      ],
      summaryRows,
    )}\n\nModel: mean of ${seedsFor(10)} seeds up to 1,000 environments, ${seedsFor(10_000)} at 10,000 (where one run varies little).`,
    fleet: `![Failed first invocations by fleet size](${plotFile})\n\n${sections.join('\n\n')}`,
  }
}

/** 3. Retry schedules and request timeouts compared on the same storms: what the recommendation trades. */
const schedules = (quick: boolean) => {
  const storms = (
    quick
      ? [{ environments: 50 }]
      : [
          { environments: 100, windowMs: 1_000 },
          { environments: 100, windowMs: 10_000 },
          { environments: 200, windowMs: 10_000 },
          { environments: 1_000, windowMs: 10_000, values: 1 },
          { environments: 300, windowMs: 10_000, timeoutMs: 30_000 },
        ]
  ).map((change) => ({ ...baseScenario, ...change }))
  const candidates: [string, ModelledMiddleware][] = [
    ['defaults (off)', middlewareDefaults],
    ['`requestTimeout: 7000` alone', { ...middlewareDefaults, requestTimeout: 7_000 }],
    ['3 retries, 500 ms, at most 4 s', withRetry({ retries: 3, minTimeout: 500, maxTimeout: 4_000 })],
    ['5 retries, 1 s, at most 4 s', withRetry({ retries: 5, minTimeout: 1_000, maxTimeout: 4_000 })],
    ['10 retries, 250 ms, at most 1 s', withRetry({ retries: 10, minTimeout: 250, maxTimeout: 1_000 })],
    ['5 retries, 2 s, at most 8 s', withRetry({ retries: 5, minTimeout: 2_000, maxTimeout: 8_000 })],
    [
      '5 retries, 1 s, at most 4 s; `requestTimeout: 7000`',
      withRetry({ retries: 5, minTimeout: 1_000, maxTimeout: 4_000 }, 7_000),
    ],
    [
      '**recommended**: 5 retries, 2 s, at most 8 s; `requestTimeout: 7000`',
      withRetry(recommended.coldStartRetry, recommended.requestTimeout),
    ],
  ]
  const seeds = quick ? 1 : 6
  const rows = candidates.map(([label, middleware]) => [
    label,
    ...storms.map((storm) => {
      const summary = modelled(storm, seeds, middleware)
      return `${percent(summary.failedFirstShare)}, ${count(summary.upstreamCalls)}`
    }),
  ])
  return `${table(
    [
      '`coldStartRetry` (p-retry: retries, first delay, cap)',
      ...storms.map(
        (storm) =>
          `${count(storm.environments)} × ${storm.values} within ${windowLabel(storm.windowMs)}${storm.timeoutMs === baseScenario.timeoutMs ? '' : `, ${storm.timeoutMs / 1000} s timeout`}`,
      ),
    ],
    rows,
  )}\n\nEach cell: failed first invocations, upstream calls (model, mean of ${seeds} seeds). All with jitter (\`randomize\`).`
}

/** 4. The function's timeout: what the layer's own retries need. */
const timeouts = (seedsFor: (environments: number) => number) => {
  const rows: string[][] = []
  for (const timeoutMs of [3_000, 10_000, 30_000])
    for (const settings of ['default', 'recommended'] as const) {
      const summary = modelled({ ...baseScenario, timeoutMs, settings }, seedsFor(baseScenario.environments))
      rows.push([
        `${timeoutMs / 1000} s`,
        settings,
        percent(summary.failedFirstShare),
        `${ms(summary.p50HandlerMs)} / ${ms(summary.p99HandlerMs)}`,
        `${count(summary.upstreamCalls)} (${count(summary.throttledCalls)})`,
      ])
    }
  return table(
    [
      'function timeout',
      'settings',
      'failed first invocations',
      'p50 / p99 (ms)',
      'upstream calls (throttled)',
    ],
    rows,
  )
}

/** 5. The other way: a name that does not exist, with each setting (real HTTP, one process). */
const misconfiguration = async () => {
  const cases = [
    { label: 'one value, 20 ms upstream', latencyMs: 20, others: 0 },
    { label: 'with 20 other values, 40 ms upstream', latencyMs: 40, others: 20 },
    { label: 'one value, 1,200 ms upstream (slower than the 1 s rule)', latencyMs: 1_200, others: 0 },
  ]
  const rows: string[][] = []
  for (const { label, latencyMs, others } of cases)
    for (const settings of ['default', 'recommended'] as const) {
      const names = Array.from({ length: others }, (_, index) => `/storm/present-${index}`)
      const emulator = await startEmulator({
        token: 'storm-misconfiguration',
        values: { parameters: Object.fromEntries(names.map((name) => [name, 'present'])) },
        upstream: { parameterLatencyMs: latencyMs },
      })
      try {
        const fetchData = Object.fromEntries(names.map((name, index) => [`v${index}`, parameter(name)]))
        const handler = middy()
          .use(
            extensionSecrets({
              fetchData: { ...fetchData, missing: parameter('/storm/does-not-exist') },
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
        const asked = emulator.requests.filter((request) => request.query.name === '/storm/does-not-exist')
        rows.push([
          label,
          settings,
          code,
          `${Math.round(performance.now() - started)} ms`,
          String(asked.length),
        ])
      } finally {
        await emulator.close()
      }
    }
  return table(
    ['a missing name…', 'settings', 'error', 'time to the error', 'requests for the missing name'],
    rows,
  )
}

/** The plot: more sizes than the tables, 5 values starting within 10 s. */
const plotFleet = (quick: boolean, seedsFor: (environments: number) => number) => {
  const sizes = quick ? [10, 100] : [10, 30, 100, 200, 300, 500, 1_000, 3_000, 10_000]
  const lines = [
    { label: 'Parameter Store 40/s, defaults', change: { parameterPerSecond: 40 }, settings: 'default' },
    {
      label: 'Parameter Store 40/s, recommended',
      change: { parameterPerSecond: 40 },
      settings: 'recommended',
      dash: '6 4',
    },
    { label: 'Secrets Manager, defaults', change: { service: 'secret' }, settings: 'default', width: 7 },
    {
      label: 'Parameter Store 10,000/s, defaults',
      change: { parameterPerSecond: 10_000 },
      settings: 'default',
      dash: '2 3',
    },
  ] as const
  return plot(
    sizes,
    lines.map(({ change, settings, ...line }) => ({
      ...line,
      points: sizes.map(
        (environments) =>
          modelled(
            { ...baseScenario, ...change, environments, windowMs: 10_000, values: 5, settings },
            seedsFor(environments),
          ).failedFirstShare,
      ),
    })),
    'Failed first invocations: 5 values, environments starting within 10 s, 10 s timeout (model)',
  )
}
