import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, beforeEach, describe, test, vi } from 'vitest'
import type { Answer, Connection } from '../src/extension.js'
import {
  type Command,
  commandArbitrary,
  defaultEmulatorSchedules,
  defaultSchedules,
  runSchedule,
} from './model/model.js'
import { runEmulatorSchedule } from './model/with-emulator.js'

// Model-based concurrency test (issue 11): random interleavings, chosen by fast-check's scheduler, of
// concurrent invocations, invalidate(), clearCache(), time passing, wall-clock steps and faults. After each
// schedule: no value served past its bound, no invalidated value served, one request per source per round,
// every invocation ended by its deadline, no unhandled rejection.
//
// MODEL_SCHEDULES (default 1,000) and MODEL_EMULATOR_SCHEDULES (default 25) set how many schedules run:
// `npm run test:stress` runs more.

const schedules = Number(process.env.MODEL_SCHEDULES ?? defaultSchedules)
const emulatorSchedules = Number(process.env.MODEL_EMULATOR_SCHEDULES ?? defaultEmulatorSchedules)

// The extension's client, replaced by the scheduler-driven fake while a model schedule runs.
const fake = vi.hoisted(() => ({
  get: undefined as
    | undefined
    | ((connection: Connection, path: string, signal?: AbortSignal) => Promise<Answer>),
}))
vi.mock('../src/extension.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/extension.js')>()
  return {
    ...original,
    getFromExtension: (...args: Parameters<typeof original.getFromExtension>) =>
      fake.get === undefined ? original.getFromExtension(...args) : fake.get(args[0], args[1], args[2]),
  }
})

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled)
})
afterAll(() => {
  process.off('unhandledRejection', onUnhandled)
})

describe('with an in-process extension, every interleaving the scheduler picks', () => {
  const wall = { offset: 0 }
  beforeEach(() => {
    // Durations run on performance.now() and deadlines on setTimeout: both move only when the model
    // says time passes. The wall clock is real plus the model's steps.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
    const realDateNow = Date.now
    vi.spyOn(Date, 'now').mockImplementation(() => realDateNow() + wall.offset)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
    fake.get = undefined
  })

  test(
    `${schedules} schedules keep every bound`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(commandArbitrary, { minLength: 1, maxLength: 14 }),
          async (scheduler, commands: Command[]) => {
            wall.offset = 0
            unhandled.length = 0
            const problems = await runSchedule(
              scheduler,
              commands,
              (get) => {
                fake.get = get
              },
              wall,
            )
            await new Promise((resolve) => setImmediate(resolve))
            if (unhandled.length > 0) problems.push(`unhandled rejection: ${String(unhandled[0])}`)
            if (problems.length > 0)
              throw new Error(`${problems.join('\n')}\n${scheduler.report().length} tasks`)
          },
        ),
        {
          numRuns: schedules,
          // To replay a failure: MODEL_SEED and MODEL_PATH from fast-check's report.
          ...(process.env.MODEL_SEED === undefined
            ? {}
            : { seed: Number(process.env.MODEL_SEED), path: process.env.MODEL_PATH }),
        },
      )
    },
    Math.max(120_000, schedules * 5),
  )
})

describe('against the real emulator, over HTTP', () => {
  test(
    `${emulatorSchedules} schedules keep every bound`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.scheduler(),
          fc.array(commandArbitrary, { minLength: 1, maxLength: 10 }),
          async (scheduler, commands: Command[]) => {
            unhandled.length = 0
            const problems = await runEmulatorSchedule(scheduler, commands)
            if (unhandled.length > 0) problems.push(`unhandled rejection: ${String(unhandled[0])}`)
            if (problems.length > 0) throw new Error(problems.join('\n'))
          },
        ),
        { numRuns: emulatorSchedules },
      )
    },
    Math.max(120_000, emulatorSchedules * 500),
  )
})
