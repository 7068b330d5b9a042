import { calibrate } from './calibrate.js'
import { misconfiguration } from './misconfiguration.js'
import { type ModelledMiddleware, middlewareDefaults } from './model.js'
import {
  baseScenario,
  count,
  type Modelled,
  modelled,
  ms,
  percent,
  table,
  windowLabel,
  withRetry,
} from './modelled.js'
import { plot } from './plot.js'
import { recommended } from './settings.mjs'

// The storm bench: calibrates the model against real processes on the sizes this machine holds, runs the
// model over the fleet sizes it does not, compares retry schedules, and measures what a misconfiguration
// costs with each setting. Returns the generated parts of docs/scaling.md and its plot; main.ts writes them.

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
      misconfiguration: await misconfiguration(quick),
    },
    svg: plotFleet(quick, seedsFor),
    plotFile,
  }
}

const plotFile = 'scaling-storm.svg'

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
