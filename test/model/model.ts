import middy from '@middy/core'
import { clearCache } from '@middy/util'
import fc from 'fast-check'
import { vi } from 'vitest'
import { ExtensionSecretsError, extensionSecrets, parameter, secret } from '../../src/index.js'
import { createFakeExtension, type Fault, type Source, sourceOf } from './fake-extension.js'

// The model of one schedule: commands (invocations, invalidate(), clearCache(), time passing, wall-clock
// steps, faults) run in an order the fast-check scheduler picks, interleaved with the extension's answers.
// After the schedule, every invocation is checked against what the model knows.

export const cacheExpiry = 50
export const maxStale = 120
const keys = ['p', 's', 't'] as const
type Key = (typeof keys)[number]
const sourceOfKey: Record<Key, Source> = { p: 'P', s: 'S', t: 'S' }

export type Command =
  | { kind: 'invoke'; remainingMs: number }
  | { kind: 'invalidate'; keys: Key[] | undefined }
  | { kind: 'clearCache' }
  | { kind: 'tick'; ms: number }
  | { kind: 'stepWall'; ms: number }
  | { kind: 'fault'; source: Source; fault: Fault }

export const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('invoke' as const),
      remainingMs: fc.integer({ min: 1, max: 200 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('invalidate' as const),
      keys: fc.option(fc.subarray([...keys], { minLength: 1 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'clearCache' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 80 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('stepWall' as const),
      ms: fc.constantFrom(-3_600_000, 3_600_000, -1_000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      source: fc.constantFrom<Source>('P', 'S'),
      fault: fc.constantFrom<Fault>('none', 'none', '503', '400', 'not-ready', 'hang'),
    }),
  },
)

interface Invocation {
  id: number
  startSeq: number
  startAt: number
  deadline: number
  /** The last invalidate()/clearCache() of each key before the invocation started (logical time). */
  droppedBefore: Record<Key, number>
  settled: boolean
  settledAt?: number
  servedAt?: number
  values?: Record<Key, unknown>
  error?: unknown
}

/** Runs one schedule and returns what went wrong, in words; empty when every check holds. */
export const runSchedule = async (
  scheduler: fc.Scheduler,
  commands: Command[],
  install: (get: ReturnType<typeof createFakeExtension>['get'] | undefined) => void,
  wall: { offset: number },
): Promise<string[]> => {
  const problems: string[] = []
  let seq = 0
  const nextSeq = () => ++seq
  const fake = createFakeExtension(scheduler, nextSeq)
  install(fake.get)
  clearCache()
  const dropped: Record<Key, number> = { p: 0, s: 0, t: 0 }
  const invocations: Invocation[] = []

  const middleware = extensionSecrets({
    fetchData: {
      p: parameter('/model/p', { parse: 'text' }),
      s: secret('model/s', { parse: 'text' }),
      t: secret('model/s', { parse: 'text' }),
    },
    cacheExpiry,
    staleIfError: { maxStale },
    deadlineMargin: 0,
    token: 'model-token',
  })
  // Middy's own early timeout would race the handler on the faked timers: off, the handler is instant.
  const handler = middy({ timeoutEarlyInMillis: 0 } as never)
    .use(middleware)
    .handler(async (_event, context) => ({
      values: { p: context.p, s: context.s, t: context.t },
      at: performance.now(),
    }))

  // In Lambda the middleware is made at INIT and its `@middy/util` import has settled by the first
  // invocation; here the schedule starts at once, so let the import settle first.
  await import('@middy/util')
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve))

  const invoke = (remainingMs: number) => {
    const startAt = performance.now()
    const invocation: Invocation = {
      id: invocations.length,
      startSeq: nextSeq(),
      startAt,
      deadline: startAt + remainingMs,
      droppedBefore: { ...dropped },
      settled: false,
    }
    invocations.push(invocation)
    // Lambda's remaining time is not the wall clock's: a step of the wall clock does not change it.
    const context = { getRemainingTimeInMillis: () => invocation.deadline - performance.now() }
    ;(handler as (event: unknown, context: unknown) => Promise<{ values: Record<Key, unknown>; at: number }>)(
      {},
      context,
    ).then(
      (result) => {
        invocation.settled = true
        invocation.settledAt = performance.now()
        invocation.values = result.values
        invocation.servedAt = result.at
      },
      (error: unknown) => {
        invocation.settled = true
        invocation.settledAt = performance.now()
        invocation.error = error
      },
    )
  }

  const apply = async (command: Command) => {
    switch (command.kind) {
      case 'invoke':
        invoke(command.remainingMs)
        break
      case 'invalidate': {
        const at = nextSeq()
        for (const key of command.keys ?? keys) dropped[key] = at
        middleware.invalidate(command.keys)
        break
      }
      case 'clearCache': {
        const at = nextSeq()
        for (const key of keys) dropped[key] = at
        clearCache()
        break
      }
      case 'tick':
        // Async: what a timer set off (a deadline) runs to its end before the clock moves on.
        await vi.advanceTimersByTimeAsync(command.ms)
        break
      case 'stepWall':
        wall.offset += command.ms
        break
      case 'fault':
        fake.faults[command.source] = command.fault
        break
    }
  }

  const sequence = scheduler.scheduleSequence(
    commands.map((command) => ({ label: JSON.stringify(command), builder: () => apply(command) })),
  )
  const realTurn = () => new Promise((resolve) => setImmediate(resolve))
  const overdue = () =>
    invocations.filter((invocation) => !invocation.settled && invocation.deadline <= performance.now())

  for (let turns = 0; turns < 10_000; turns++) {
    await scheduler.waitAll()
    // Real turns of the event loop: a dynamic import settles on its own time, not the scheduler's.
    await realTurn()
    await realTurn()
    for (const invocation of overdue())
      problems.push(`invocation ${invocation.id} still running past its deadline`)
    if (problems.length > 0) break
    if (scheduler.count() > 0) continue
    const open = invocations.filter((invocation) => !invocation.settled)
    if (open.length === 0 && sequence.done) break
    if (open.length > 0) {
      // Nothing left to release: only time can end what is still waiting (a hang, a deadline).
      const next = Math.min(...open.map((invocation) => invocation.deadline))
      await vi.advanceTimersByTimeAsync(Math.max(1, Math.ceil(next - performance.now())))
    }
  }
  if (!sequence.done) problems.push('the schedule never finished')

  // --- checks -------------------------------------------------------------------------------------
  for (const invocation of invocations) {
    if (!invocation.settled) {
      problems.push(`invocation ${invocation.id} never ended`)
      continue
    }
    if (invocation.settledAt! > invocation.deadline + 1e-6)
      problems.push(
        `invocation ${invocation.id} ended at ${invocation.settledAt} after its deadline ${invocation.deadline}`,
      )
    if (invocation.error !== undefined) {
      const error = invocation.error
      if (!(error instanceof ExtensionSecretsError) || error.code !== 'FETCH_FAILED')
        problems.push(`invocation ${invocation.id} failed with ${String(error)}`)
      continue
    }
    const values = invocation.values!
    if (values.s !== values.t)
      problems.push(`invocation ${invocation.id}: keys of one source disagree (${values.s}, ${values.t})`)
    for (const key of keys) {
      const value = values[key] as string
      const answer = fake.answers.get(value)
      if (answer === undefined) {
        problems.push(
          `invocation ${invocation.id}: ${key} is ${JSON.stringify(value)}, no answer of the extension`,
        )
        continue
      }
      if (sourceOf(answer.request.path) !== sourceOfKey[key])
        problems.push(`invocation ${invocation.id}: ${key} got an answer for another source`)
      if (answer.arrivedAt > invocation.settledAt!)
        problems.push(`invocation ${invocation.id}: ${key} served an answer from the future`)
      if (answer.request.sentSeq < invocation.droppedBefore[key])
        problems.push(`invocation ${invocation.id}: ${key} served a value invalidated before it started`)
      // Older than cacheExpiry when the invocation began: only a refresh that failed in its time excuses
      // it, either a transient failure, or a fetch (its own or one it shared) still running at its
      // deadline; and then only if the value was at most maxStale old at that moment.
      if (invocation.startAt - answer.arrivedAt > cacheExpiry) {
        const excuses = fake.requests.flatMap((request) => {
          if (request.source !== sourceOfKey[key]) return []
          const failedInTime =
            request.outcome !== 'ok' &&
            request.transient === true &&
            request.endedAt !== undefined &&
            request.endedAt >= invocation.startAt &&
            request.endedAt <= invocation.settledAt!
          const runningAtDeadline =
            invocation.settledAt! >= invocation.deadline &&
            request.sentAt <= invocation.deadline &&
            (request.endedAt === undefined || request.endedAt >= invocation.deadline)
          return [
            ...(failedInTime ? [request.endedAt!] : []),
            ...(runningAtDeadline ? [invocation.deadline] : []),
          ]
        })
        if (excuses.length > 0 && excuses.every((at) => at - answer.arrivedAt > maxStale))
          problems.push(`invocation ${invocation.id}: ${key} served stale past maxStale`)
        const excused = excuses.length > 0
        if (!excused)
          problems.push(`invocation ${invocation.id}: ${key} served expired without a failed refresh`)
      }
    }
  }
  // One request per source per round: an invocation's round is its deadline's signal.
  const perRound = new Map<AbortSignal | undefined, Set<string>>()
  for (const request of fake.requests) {
    const paths = perRound.get(request.signal) ?? new Set<string>()
    if (paths.has(request.path)) problems.push(`two requests for ${request.path} in one round`)
    paths.add(request.path)
    perRound.set(request.signal, paths)
  }
  install(undefined)
  return problems
}

/** Schedules per `npm test`: against the in-process fake, and against the emulator over HTTP. */
export const defaultSchedules = 1_000
export const defaultEmulatorSchedules = 25

/** What the model-based test generates and checks, for docs/reliability.md (test/reliability-doc.test.ts). */
export const modelTable = (): string =>
  [
    '| part | what |',
    '| --- | --- |',
    `| keys | ${keys.map((key) => `\`${key}\` (${sourceOfKey[key] === 'P' ? 'a parameter' : 'a secret'})`).join(', ')}; two keys share one secret |`,
    `| settings | \`cacheExpiry\` ${cacheExpiry} ms, \`staleIfError.maxStale\` ${maxStale} ms |`,
    '| commands, in an order fast-check’s scheduler picks, interleaved with the answers | invocations (1–200 ms left), `invalidate()` of some or all keys, `clearCache()`, time passing, wall-clock steps, a fault per source (503, the generic 400, not ready, a hang) |',
    '| checked after each schedule | every invocation ended, by its deadline; failures are `FETCH_FAILED` only; keys of one source agree; every value is an answer the extension gave for that source, before the invocation ended; no value invalidated before the invocation started; none older than `cacheExpiry` unless a refresh failed in its time, and then none older than `maxStale`; one request per source per invocation; no unhandled rejection |',
    `| schedules per \`npm test\` | ${defaultSchedules} against an in-process fake of the extension, ${defaultEmulatorSchedules} against the emulator over HTTP; \`npm run test:stress\` runs 50,000 and 500 |`,
  ].join('\n')
