import middy from '@middy/core'
import { clearCache } from '@middy/util'
import type fc from 'fast-check'
import { vi } from 'vitest'
import type { FaultRule } from '../../src/emulator/index.js'
import { ExtensionSecretsError, extensionSecrets, parameter, secret } from '../../src/index.js'
import { emulatorWith, testToken } from '../helpers.js'
import type { Fault, Source } from './fake-extension.js'
import type { Command } from './model.js'

// The same commands against the real emulator over loopback HTTP, with real timers: fewer schedules (each
// costs real time), fewer things known (no arrival times), so fewer checks: no invalidated value served,
// every invocation ended by its deadline (plus scheduling slack), only values the emulator held, the
// keys of one source agreeing, and (in the test) no unhandled rejection. Drops also rotate the values, so
// a value from before a drop is told apart by its version.

const slackMs = 150
const names: Record<Source, string> = { P: '/model/p', S: 'model/s' }
const keys = ['p', 's', 't'] as const
type Key = (typeof keys)[number]
const sourceOfKey: Record<Key, Source> = { p: 'P', s: 'S', t: 'S' }

const faultRule = (source: Source, fault: Fault): FaultRule[] => {
  const match = { name: names[source] }
  switch (fault) {
    case 'none':
      return []
    case '503':
      return [{ action: 'respond', status: 503, body: 'busy', match }]
    case '400':
      return [{ action: 'respond', status: 400, body: 'no such name', match }]
    case 'not-ready':
      return [{ action: 'not-ready', match }]
    case 'hang':
      return [{ action: 'hang', match }]
  }
}

export const runEmulatorSchedule = async (
  scheduler: fc.Scheduler,
  commands: Command[],
): Promise<string[]> => {
  const problems: string[] = []
  const versions: Record<Source, number> = { P: 0, S: 0 }
  const valuesFor = () => ({
    parameters: { [names.P]: `P@${versions.P}` },
    secrets: { [names.S]: `S@${versions.S}` },
  })
  const emulator = await emulatorWith({ values: valuesFor() as never })
  const faults: Record<Source, FaultRule[]> = { P: [], S: [] }
  const wall = { offset: 0 }
  const realDateNow = Date.now
  const dateNow = vi.spyOn(Date, 'now').mockImplementation(() => realDateNow() + wall.offset)
  clearCache()
  /** Per key, the version each source had at its last drop: nothing older may be served after it. */
  const floor: Record<Key, number> = { p: 0, s: 0, t: 0 }
  const running: Promise<void>[] = []
  const middleware = extensionSecrets({
    fetchData: {
      p: parameter(names.P, { parse: 'text' }),
      s: secret(names.S, { parse: 'text' }),
      t: secret(names.S, { parse: 'text' }),
    },
    cacheExpiry: 50,
    staleIfError: { maxStale: 120 },
    deadlineMargin: 0,
    retry: { minTimeout: 2, maxTimeout: 4 },
    port: emulator.port,
    token: testToken,
  })
  const handler = middy()
    .use(middleware)
    .handler(async (_event, context) => ({
      p: context.p,
      s: context.s,
      t: context.t,
    }))

  const rotate = (dropped: readonly Key[]) => {
    for (const source of new Set(dropped.map((key) => sourceOfKey[key]))) versions[source]++
    emulator.setValues(valuesFor() as never)
    emulator.clearCache()
    for (const key of dropped) floor[key] = versions[sourceOfKey[key]]
  }

  const invoke = (remainingMs: number) => {
    const id = running.length
    const started = performance.now()
    const limit = remainingMs + slackMs
    const atStart = { ...floor }
    const context = { getRemainingTimeInMillis: () => remainingMs - (performance.now() - started) }
    running.push(
      (handler as (event: unknown, context: unknown) => Promise<Record<Key, string>>)({}, context).then(
        (values) => {
          if (performance.now() - started > limit) problems.push(`invocation ${id} ended past its deadline`)
          if (values.s !== values.t) problems.push(`invocation ${id}: keys of one source disagree`)
          for (const key of keys) {
            const match = /^([PS])@(\d+)$/.exec(values[key])
            if (match === null || match[1] !== sourceOfKey[key]) {
              problems.push(`invocation ${id}: ${key} is ${JSON.stringify(values[key])}`)
              continue
            }
            if (Number(match[2]) < atStart[key])
              problems.push(
                `invocation ${id}: ${key} served version ${match[2]}, invalidated before it started`,
              )
          }
        },
        (error: unknown) => {
          if (performance.now() - started > limit) problems.push(`invocation ${id} failed past its deadline`)
          if (!(error instanceof ExtensionSecretsError) || error.code !== 'FETCH_FAILED')
            problems.push(`invocation ${id} failed with ${String(error)}`)
        },
      ),
    )
  }

  const apply = async (command: Command) => {
    switch (command.kind) {
      case 'invoke':
        invoke(command.remainingMs)
        break
      case 'invalidate':
        rotate(command.keys ?? keys)
        middleware.invalidate(command.keys)
        break
      case 'clearCache':
        rotate(keys)
        clearCache()
        break
      case 'tick':
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(command.ms / 8)))
        break
      case 'stepWall':
        wall.offset += command.ms
        break
      case 'fault':
        faults[command.source] = faultRule(command.source, command.fault)
        emulator.setFaults([...faults.P, ...faults.S])
        break
    }
  }

  try {
    const sequence = scheduler.scheduleSequence(
      commands.map((command) => ({
        label: JSON.stringify(command),
        builder: () =>
          apply(command).catch((error: unknown) => {
            problems.push(`${JSON.stringify(command)} threw ${String(error)}`)
          }),
      })),
    )
    while (!sequence.done && !sequence.faulty) {
      await scheduler.waitAll()
      await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(running)
  } finally {
    dateNow.mockRestore()
    await emulator.close()
    clearCache()
  }
  return problems
}
