// A cold-start storm with real processes: one Node process per execution environment, holding a handler
// built with this package as published, and one emulated layer per environment, all sharing one
// account's quotas. The model (model.ts) computes the same storm from the same scenario; both produce a
// StormResult, so the model can be checked against this on scenarios small enough to run here.
//
// What is measured, exactly:
// - Every environment i starts at t0 + startTimes(scenario)[i] (t0: 300 ms after the children are
//   ready). At that moment, as a timer in this process sees it, its layer's fault clock restarts
//   (`refuse` for refuseMs, then `not-ready` for notReadyMs, then serving) and its layer cache is
//   emptied, and the child is told to invoke.
// - The invocation's deadline is the scheduled start + timeoutMs, so `getRemainingTimeInMillis()` counts
//   down from the scheduled start, as a function's timeout does from the start of its first invocation.
// - handlerAfterMs: wall clock at the moment the middleware placed after this package's runs (the
//   handler's start) minus the scheduled start (wall clock), both sub-millisecond
//   (performance.timeOrigin + performance.now()). The timer's lateness and the IPC hop count in it; the
//   result's `timing` reports both, so a storm the machine could not keep up with is visible.
// - An invocation fails with: the middleware's error code (`FETCH_FAILED`'s first key error code, e.g.
//   UPSTREAM_ERROR, TIMEOUT), WRONG_VALUE (a value whose digest is not the served one's),
//   FUNCTION_TIMEOUT (the handler started after the deadline), NO_REPLY (no answer by the deadline plus
//   5 s) or EXITED (the process ended).
// - upstreamCalls / throttledCalls: every call of the shared account's `take` (each upstream attempt on a
//   layer cache miss, retries included) and those that returned false.
// - durationMs: from t0 to the arrival of the last reply in this process.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import {
  createAccount,
  type EmulatedAccount,
  type Emulator,
  startEmulator,
} from '../../src/emulator/index.js'
import type { EnvironmentOutcome, StormResult, StormScenario } from './scenario.js'
import { startTimes } from './scenario.js'

const root = new URL('../..', import.meta.url).pathname

/**
 * Beside the harness's work folder (node_modules/.cache/middy-extension-secrets-bench), not inside it:
 * the harness deletes its folder at each run. Inside the repository, so that @middy/core, @middy/util
 * and p-retry resolve from its node_modules up the tree, as for the harness's Middy 6 consumer.
 */
export const defaultConsumerDir = join(root, 'node_modules/.cache/middy-extension-secrets-storm')

// A dummy, never printed: the emulators check it, nothing else sees it.
const sessionToken = 'storm-session-token'
/** Children spawned at once: node boots are CPU-bound, and the machine has 2 cores. */
const spawnConcurrency = 6
/** The parent's lead over the first start, so every start timer is set before any fires. */
const leadMs = 300
/** Past an invocation's deadline, how long to wait for a reply before calling it lost. */
const replyGraceMs = 5_000
const readyTimeoutMs = 60_000

/** Extra readings of one run, to tell whether the machine kept up with the storm. */
export interface RealStormTiming {
  /** From the first spawn to the last child ready. */
  spawnMs: number
  /** How late this process's start timers fired (ms past the scheduled start): median, max. */
  timerLateMs: { p50: number; max: number }
  /** How late the start reached the child (timer + IPC): median, max. */
  deliveredLateMs: { p50: number; max: number }
  /** Children's RSS when ready, summed (MiB): what the idle environments hold. */
  childrenReadyRssMiB: number
  /** Children's peak RSS (MiB): sum and largest. */
  childrenPeakRssMiB: { sum: number; max: number }
  /** This process's peak RSS (MiB): the emulators live here. */
  parentPeakRssMiB: number
  /** Requests the layers received, by outcome (refused connections never reach them). */
  layerRequests: { total: number; byOutcome: Record<string, number> }
}

export interface RealStormResult extends StormResult {
  timing: RealStormTiming
}

export interface RealStormOptions {
  /** A folder prepared by prepareConsumer. */
  consumerDir: string
  /** The Node binary the environments run on. Default: this one. */
  node?: string
  log?: (line: string) => void
}

/** The values every environment fetches: fixed filler text, 40 characters, no real secret. */
export const stormValues = (scenario: Pick<StormScenario, 'values' | 'service'>) =>
  Array.from({ length: scenario.values }, (_, index) => ({
    name: scenario.service === 'secret' ? `storm/value-${index}` : `/storm/value-${index}`,
    text: `storm-value-${index}-`.padEnd(40, 'x'),
  }))

/**
 * Builds the package (npm run build) and installs it as published in `dir`: its package.json and dist
 * as node_modules/middy-extension-secrets, with env.mjs and settings.mjs beside a package.json of the
 * folder's own (type module). `dir` must be inside the repository, for the peer dependencies to resolve.
 */
export const prepareConsumer = (dir: string, log: (line: string) => void = () => {}): void => {
  const inside = relative(root, dir)
  if (inside.startsWith('..') || inside === '') {
    throw new Error(`${dir}: the consumer folder must be inside ${root}, for @middy/core to resolve`)
  }
  log('building the package as published (npm run build)')
  const built = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' })
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stdout}${built.stderr}`)
  const pkg = join(dir, 'node_modules/middy-extension-secrets')
  rmSync(pkg, { recursive: true, force: true })
  mkdirSync(pkg, { recursive: true })
  // Its own package scope, as a user's project has, so the package resolves to the copy, not to itself.
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'storm-consumer', private: true, type: 'module' }),
  )
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'))
  cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true })
  cpSync(join(root, 'bench/storm/env.mjs'), join(dir, 'env.mjs'))
  cpSync(join(root, 'bench/storm/settings.mjs'), join(dir, 'settings.mjs'))
  // Fails here, with the reason, rather than in hundreds of children.
  const check = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "await import('@middy/core'); await import('middy-extension-secrets'); await import('./settings.mjs')",
    ],
    { cwd: dir, encoding: 'utf8' },
  )
  if (check.status !== 0) throw new Error(`the consumer in ${dir} cannot load its modules: ${check.stderr}`)
}

/** The shared account, counting every upstream attempt and every throttled one. */
const countingAccount = (scenario: StormScenario) => {
  const shared = createAccount({
    getParameterPerSecond: scenario.parameterPerSecond,
    getSecretValuePerSecond: scenario.secretPerSecond,
  })
  const counts = { upstreamCalls: 0, throttledCalls: 0 }
  const account: EmulatedAccount = {
    region: shared.region,
    accountId: shared.accountId,
    take(service, now) {
      counts.upstreamCalls++
      const taken = shared.take(service, now)
      if (!taken) counts.throttledCalls++
      return taken
    },
  }
  return { account, counts }
}

interface Reply {
  handlerAfterMs?: number
  code?: string
  deliveredAfterMs?: number
  maxRssKiB?: number
}

interface Environment {
  child: ChildProcess
  readyRssKiB: number
  /** The one reply of the storm; set by `expect`. */
  reply?: Promise<Reply>
  deliver?: (reply: Reply) => void
}

/** Starts one child and resolves once it is ready; rejects if it ends or stays silent first. */
const spawnEnvironment = (
  node: string,
  dir: string,
  config: unknown,
  env: NodeJS.ProcessEnv,
  spawned: ChildProcess[],
) =>
  new Promise<Environment>((resolve, reject) => {
    const child = spawn(node, [join(dir, 'env.mjs'), JSON.stringify(config)], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    // Listed at once, so a failure anywhere still ends it.
    spawned.push(child)
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk).slice(-2_000)
    })
    const environment: Environment = { child, readyRssKiB: 0 }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`an environment was not ready after ${readyTimeoutMs} ms`))
    }, readyTimeoutMs)
    child.on('message', (message: { type: string; rssKiB?: number } & Reply) => {
      if (message.type === 'ready') {
        clearTimeout(timer)
        environment.readyRssKiB = message.rssKiB ?? 0
        resolve(environment)
      } else if (message.type === 'result') {
        environment.deliver?.(message)
      }
    })
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`an environment exited with ${code ?? signal}: ${stderr}`))
      environment.deliver?.({ code: 'EXITED' })
    })
  })

/**
 * Runs `work` on every item, at most `limit` at a time; results in the items' order. After a failure no
 * new work starts, and the work under way is waited for, so nothing is started behind the caller's back.
 */
const bounded = async <T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array(items.length)
  let next = 0
  let failed = false
  const lane = async () => {
    while (!failed && next < items.length) {
      const index = next++
      try {
        results[index] = await work(items[index] as T)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane))
  const failure = lanes.find((lane) => lane.status === 'rejected')
  if (failure) throw failure.reason
  return results
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number)
}

const round = (value: number) => Math.round(value * 10) / 10

export const runRealStorm = async (
  scenario: StormScenario,
  options: RealStormOptions,
): Promise<RealStormResult> => {
  const log = options.log ?? (() => {})
  const node = options.node ?? process.execPath
  const values = stormValues(scenario)
  const emulatorValues =
    scenario.service === 'secret'
      ? { secrets: Object.fromEntries(values.map((value) => [value.name, value.text])) }
      : { parameters: Object.fromEntries(values.map((value) => [value.name, value.text])) }
  const config = {
    service: scenario.service,
    names: values.map((value) => value.name),
    // Digests, not values: the child checks what it got without being given a value.
    digests: values.map((value) => createHash('sha256').update(value.text).digest('hex')),
    settings: scenario.settings,
  }
  const { account, counts } = countingAccount(scenario)
  const faults = [
    ...(scenario.refuseMs > 0 ? [{ action: 'refuse' as const, forMs: scenario.refuseMs }] : []),
    ...(scenario.notReadyMs > 0
      ? [{ action: 'not-ready' as const, afterMs: scenario.refuseMs, forMs: scenario.notReadyMs }]
      : []),
  ]

  const emulators: Emulator[] = []
  const spawned: ChildProcess[] = []
  const timers: NodeJS.Timeout[] = []
  try {
    // One layer per environment, each with its own cache, in this process: on Lambda the layer is a
    // process beside the function, not inside it.
    for (let i = 0; i < scenario.environments; i++) {
      emulators.push(
        await startEmulator({
          flavour: 'layer',
          values: emulatorValues,
          token: sessionToken,
          account,
          upstream: {
            parameterLatencyMs: scenario.upstreamLatencyMs,
            secretLatencyMs: scenario.upstreamLatencyMs,
            retryBackoffMs: scenario.sdkBackoffMs,
          },
          recordLimit: 0,
        }),
      )
    }

    log(`spawning ${scenario.environments} environments, ${spawnConcurrency} at a time`)
    const spawnStart = performance.now()
    // Environment i reads from emulator i.
    const environments = await bounded(emulators, spawnConcurrency, (emulator) =>
      spawnEnvironment(
        node,
        options.consumerDir,
        config,
        {
          // Only what a function's environment has that matters here: nothing from this shell's AWS set-up.
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(emulator.port),
          AWS_SESSION_TOKEN: sessionToken,
        },
        spawned,
      ),
    )
    const spawnMs = performance.now() - spawnStart
    log(`${environments.length} environments ready in ${(spawnMs / 1000).toFixed(1)} s`)
    if (counts.upstreamCalls !== 0) throw new Error('an environment called upstream before the storm')

    const offsets = startTimes(scenario)
    const t0 = performance.now() + leadMs
    const t0Wall = performance.timeOrigin + t0
    const timerLate: number[] = []
    const outcomes: EnvironmentOutcome[] = []
    const replies = environments.map((environment, i) => {
      const offset = offsets[i] as number
      const scheduled = t0 + offset
      const reply = new Promise<Reply>((resolve) => {
        environment.deliver = resolve
        timers.push(
          setTimeout(
            () => resolve({ code: 'NO_REPLY' }),
            scheduled - performance.now() + scenario.timeoutMs + replyGraceMs,
          ),
        )
      })
      timers.push(
        setTimeout(() => {
          timerLate.push(performance.now() - scheduled)
          const emulator = emulators[i] as Emulator
          emulator.setFaults(faults)
          emulator.clearCache()
          environment.child.send({
            type: 'invoke',
            scheduledAt: t0Wall + offset,
            deadline: t0Wall + offset + scenario.timeoutMs,
          })
        }, scheduled - performance.now()),
      )
      let lastReplyAt = t0
      return reply.then((received) => {
        lastReplyAt = performance.now()
        outcomes[i] = {
          startMs: offset,
          handlerAfterMs: received.handlerAfterMs,
          code: received.handlerAfterMs === undefined ? (received.code ?? 'UNEXPECTED') : undefined,
        }
        return { received, lastReplyAt }
      })
    })
    log(`storm: ${scenario.environments} starts over ${scenario.windowMs} ms`)
    const received = await Promise.all(replies)
    const durationMs = Math.max(...received.map((r) => r.lastReplyAt)) - t0

    const delivered = received.flatMap((r) =>
      r.received.deliveredAfterMs === undefined ? [] : [r.received.deliveredAfterMs],
    )
    const peaks = received.flatMap((r) =>
      r.received.maxRssKiB === undefined ? [] : [r.received.maxRssKiB / 1024],
    )
    const byOutcome: Record<string, number> = {}
    let total = 0
    for (const emulator of emulators) {
      total += emulator.counts.total
      for (const [outcome, count] of Object.entries(emulator.counts.byOutcome))
        byOutcome[outcome] = (byOutcome[outcome] ?? 0) + (count ?? 0)
    }
    return {
      scenario,
      outcomes,
      upstreamCalls: counts.upstreamCalls,
      throttledCalls: counts.throttledCalls,
      durationMs,
      timing: {
        spawnMs: round(spawnMs),
        timerLateMs: { p50: round(quantile(timerLate, 0.5)), max: round(Math.max(0, ...timerLate)) },
        deliveredLateMs: { p50: round(quantile(delivered, 0.5)), max: round(Math.max(0, ...delivered)) },
        childrenReadyRssMiB: round(environments.reduce((sum, e) => sum + e.readyRssKiB, 0) / 1024),
        childrenPeakRssMiB: {
          sum: round(peaks.reduce((a, b) => a + b, 0)),
          max: round(Math.max(0, ...peaks)),
        },
        parentPeakRssMiB: round(process.resourceUsage().maxRSS / 1024),
        layerRequests: { total, byOutcome },
      },
    }
  } finally {
    for (const timer of timers) clearTimeout(timer)
    await Promise.all([...spawned.map(stop), ...emulators.map((emulator) => emulator.close())])
  }
}

/** Ends a child and waits for it to be gone: SIGTERM, then SIGKILL if it lingers. */
const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve()
      return
    }
    const force = setTimeout(() => child.kill('SIGKILL'), 2_000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
