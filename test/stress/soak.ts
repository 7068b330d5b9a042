import { type ChildProcess, fork } from 'node:child_process'
import { cpus } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { inspect } from 'node:util'
import middy from '@middy/core'
import type { FaultRule } from '../../src/emulator/index.js'
import { ExtensionSecretsError, extensionSecrets, parameter, secret } from '../../src/index.js'
import { activeTimers, clientSockets, maxFreeSockets } from '../leaks.js'

// npm run test:stress: 100,000 invocations against the emulator (in its own process) with values
// rotating and occasional faults. Fails (exit 1) on a wrong value, an undocumented error code, heap
// growth of 2 MB or more after gc() between invocation 20,000 and the end, a timer left between
// invocations, or sockets beyond the agent's free-socket limit. RSS and event-loop delay are reported.

const total = Number(process.env.SOAK_INVOCATIONS ?? 100_000)
const heapFrom = Math.min(20_000, Math.floor(total / 5))
const concurrency = 8
const rotateEvery = 1_000
const maxHeapGrowthBytes = 2 * 1024 * 1024
const token = 'SOAK-TOKEN-MARKER-5c2e'
const marker = 'SOAK-SECRET-MARKER-91af'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error('run with node --expose-gc (npm run test:stress does)')
  process.exit(2)
}

// --- the emulator process ---------------------------------------------------------------------------

const child: ChildProcess = fork(new URL('./emulator-process.ts', import.meta.url), {
  execArgv: ['--import', 'tsx'],
  env: { ...process.env, SOAK_TOKEN: token },
})
let nextId = 0
const pending = new Map<number, (reply: unknown) => void>()
const port = await new Promise<number>((resolve, reject) => {
  child.once('error', reject)
  child.on('message', (message: { port?: number; id?: number; reply?: unknown }) => {
    if (message.port !== undefined) resolve(message.port)
    if (message.id !== undefined) pending.get(message.id)?.(message.reply)
  })
})
const tell = (message: object) =>
  new Promise<unknown>((resolve) => {
    const id = nextId++
    pending.set(id, (reply) => {
      pending.delete(id)
      resolve(reply)
    })
    child.send({ ...message, id })
  })

// --- values that rotate -----------------------------------------------------------------------------

const secretValue = (generation: number) => `${marker}-secret-${generation}`
const passwordValue = (generation: number) => `${marker}-password-${generation}`
const urlValue = (generation: number) => `https://api.example.com/v${generation}`
const valuesFor = (generation: number) => ({
  parameters: {
    '/soak/url': urlValue(generation),
    '/soak/key': { type: 'SecureString', value: secretValue(generation) },
  },
  secrets: {
    'soak/plain': secretValue(generation),
    'soak/db': { json: { username: 'app', password: passwordValue(generation) } },
  },
})

// Faults that come and go: each lasts a few requests. The generic 400 fails the invocations it hits
// with UPSTREAM_ERROR, as documented; every other one is retried to the value within the budget.
const faultCycle: FaultRule[][] = [
  [{ action: 'reset', times: 1 }],
  [{ action: 'not-ready', times: 3 }],
  [{ action: 'respond', status: 503, body: 'busy', times: 2 }],
  [{ action: 'reset-mid-body', times: 1 }],
  [{ action: 'truncate', times: 1 }],
  [{ action: 'close-after', times: 20 }],
  [{ action: 'delay', ms: 20, times: 5 }],
  [{ action: 'respond', status: 429, body: 'Connection limit exceeded', times: 2 }],
  [
    {
      action: 'respond',
      status: 400,
      body: 'an unexpected error occurred while executing request',
      times: 1,
    },
  ],
]
const expectedCodes = new Set(['UPSTREAM_ERROR'])

// --- the handlers -----------------------------------------------------------------------------------

const fetchData = {
  plain: secret('soak/plain'),
  password: secret('soak/db', { field: 'password' }),
  url: parameter('/soak/url'),
  key: parameter('/soak/key'),
}
const common = { fetchData, port, token, retry: { maxRetryTime: 2_000 } }
/** Asks the extension every invocation: values must be the current generation exactly. */
const uncached = middy()
  .use(extensionSecrets(common))
  .handler(async (_event, context) => [context.plain, context.password, context.url, context.key])
/** Caches for 50 ms: values may be one generation old, never older, never mixed up. */
const cached = middy()
  .use(extensionSecrets({ ...common, cacheExpiry: 50 }))
  .handler(async (_event, context) => [context.plain, context.password, context.url, context.key])

// Typed loosely, as in the tests: Middy types a handler's context with what its middlewares add.
const lambdaContext = (remainingMs: number): any => {
  const end = Date.now() + remainingMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'soak',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:soak',
    memoryLimitInMB: '128',
    awsRequestId: 'soak',
    logGroupName: '/aws/lambda/soak',
    logStreamName: 'soak',
    getRemainingTimeInMillis: () => end - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

const expectedFor = (generation: number) => [
  secretValue(generation),
  passwordValue(generation),
  urlValue(generation),
  secretValue(generation),
]

// --- the run ----------------------------------------------------------------------------------------

const problems: string[] = []
const problem = (text: string) => {
  if (problems.length < 20) problems.push(text)
}
const outcomes: Record<string, number> = { value: 0 }
let unhandled = 0
process.on('unhandledRejection', () => {
  unhandled++
})

const settle = () => new Promise((resolve) => setImmediate(resolve))
const heapAfterGc = async () => {
  await settle()
  for (let round = 0; round < 4; round++) {
    gc()
    await settle()
  }
  return process.memoryUsage().heapUsed
}

interface Sample {
  invocations: number
  heapUsedMB: number
  rssMB: number
  handles: number
  timers: number
  sockets: number
}
const samples: Sample[] = []
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100
const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length

await tell({ type: 'setValues', values: valuesFor(0) })
let generation = 0
const samplingMs = 10
const loopDelay = monitorEventLoopDelay({ resolution: samplingMs })
const startedAt = performance.now()
let heapAtStart = 0
let timersBaseline = activeTimers()
let maxSockets = 0
let maxHandles = 0
loopDelay.enable()

for (let done = 0; done < total; done += concurrency) {
  // Each rotation, and each fault halfway between two rotations, happens once per rotateEvery.
  const crossed = (offset: number) =>
    done > 0 &&
    Math.floor((done + offset) / rotateEvery) !== Math.floor((done + offset - concurrency) / rotateEvery)
  if (crossed(0)) {
    generation++
    await tell({ type: 'setValues', values: valuesFor(generation) })
  }
  if (crossed(rotateEvery / 2)) {
    const faults = faultCycle[Math.floor(done / rotateEvery) % faultCycle.length]
    await tell({ type: 'setFaults', faults })
  }
  const current = generation
  const results = await Promise.all(
    Array.from({ length: concurrency }, (_, index) => {
      const handler = index % 2 === 0 ? uncached : cached
      return handler({}, lambdaContext(5_000)).then(
        (values) => ({ values: values as string[], cachedHandler: handler === cached }),
        (error: unknown) => ({ error }),
      )
    }),
  )
  for (const result of results) {
    if ('error' in result) {
      const { error } = result
      const codes =
        error instanceof ExtensionSecretsError ? (error.errors ?? [error]).map((item) => item.code) : []
      const text = inspect(error, { depth: 5 })
      if (text.includes(marker) || text.includes(token)) problem('an error contains a secret or the token')
      for (const code of codes) {
        outcomes[code] = (outcomes[code] ?? 0) + 1
        if (!expectedCodes.has(code))
          problem(`unexpected ${code}: ${error instanceof Error ? error.message : ''}`)
      }
      if (codes.length === 0) problem(`not an ExtensionSecretsError: ${String(error)}`)
      continue
    }
    outcomes.value!++
    const exact = JSON.stringify(result.values) === JSON.stringify(expectedFor(current))
    // A 50 ms cache may still hold the previous generation, whole or per key.
    const previous =
      result.cachedHandler &&
      current > 0 &&
      result.values.every((value, index) =>
        [expectedFor(current)[index], expectedFor(current - 1)[index]].includes(value),
      )
    if (!exact && !previous)
      problem(`wrong values at generation ${current}: ${result.values.map((v) => v.length)}`)
  }
  const invocations = done + concurrency
  // Between invocations the client must hold no timer; sockets stay within the free-socket limit.
  const timers = activeTimers()
  if (timers > timersBaseline)
    problem(`${timers - timersBaseline} timer(s) left after invocation ${invocations}`)
  const sockets = clientSockets(port)
  maxSockets = Math.max(maxSockets, sockets)
  if (sockets > maxFreeSockets) problem(`${sockets} sockets open after invocation ${invocations}`)
  if (invocations % 10_000 === 0 || invocations === heapFrom) {
    const heap = await heapAfterGc()
    const activeHandles = handles()
    maxHandles = Math.max(maxHandles, activeHandles)
    samples.push({
      invocations,
      heapUsedMB: mb(heap),
      rssMB: mb(process.memoryUsage().rss),
      handles: activeHandles,
      timers: activeTimers(),
      sockets,
    })
    if (invocations === heapFrom) {
      heapAtStart = heap
      timersBaseline = Math.min(timersBaseline, activeTimers())
    }
    console.log(
      `${invocations} invocations, ${Math.round((performance.now() - startedAt) / 1000)} s, heap ${mb(heap)} MB, rss ${mb(process.memoryUsage().rss)} MB, handles ${activeHandles}, sockets ${sockets}`,
    )
  }
}
loopDelay.disable()
const durationS = (performance.now() - startedAt) / 1000
const heapAtEnd = await heapAfterGc()
const growth = heapAtEnd - heapAtStart
if (growth >= maxHeapGrowthBytes) problem(`heap grew by ${mb(growth)} MB between ${heapFrom} and ${total}`)
if (unhandled > 0) problem(`${unhandled} unhandled rejection(s)`)
if (maxHandles > maxFreeSockets + 16) problem(`${maxHandles} active handles`)
const { requests, byOutcome } = (await tell({ type: 'stats' })) as {
  requests: number
  byOutcome: Record<string, number>
}
if (Object.keys(byOutcome).filter((outcome) => outcome !== 'served').length < 4)
  problem(`the emulator scripted too few kinds of fault: ${JSON.stringify(byOutcome)}`)
await tell({ type: 'close' })

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  invocations: total,
  concurrency,
  requests,
  emulatorOutcomes: byOutcome,
  durationS: Math.round(durationS),
  invocationsPerS: Math.round(total / durationS),
  outcomes,
  rotations: generation,
  heapGrowthMB: { from: heapFrom, to: total, growth: mb(growth), limit: mb(maxHeapGrowthBytes) },
  maxRssMB: Math.max(...samples.map((sample) => sample.rssMB)),
  maxSockets,
  maxHandles,
  // Each figure includes the sampling interval: an idle loop reads about samplingMs.
  eventLoopDelayMs: {
    samplingMs,
    p50: Math.round(loopDelay.percentile(50) / 1e4) / 100,
    p99: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    max: Math.round(loopDelay.max / 1e4) / 100,
  },
  samples,
  problems,
}
console.log(JSON.stringify(report, null, 2))
process.exit(problems.length === 0 ? 0 : 1)
