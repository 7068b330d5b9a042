import { inspect } from 'node:util'
import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { afterEach, describe, expect, test } from 'vitest'
import { type Emulator, startEmulator } from '../src/emulator/index.js'
import { type ExtensionSecretsError, extensionSecrets, parameter, secret } from '../src/index.js'
import { type FaultCase, faultMatrix } from './fault-matrix.js'
import { fixtureValues, lambdaContext, secretMarker, testToken } from './helpers.js'
import { activeTimers, clientSockets, maxFreeSockets } from './leaks.js'
import { capturingLogs, expectNothingLeaked, type Observed } from './secrecy-scan.js'

// Every fault the emulator can script, through a real middy() chain: the outcome is the value or the
// documented code, within the invocation's time, with nothing leaked, no unhandled rejection, no timer
// left behind, and the next invocation of the same handler healthy.

/**
 * retry.maxRetryTime: short for the rows that must exhaust it, so the suite stays fast; long for the
 * others, which end at their first final answer, so that a loaded machine cannot turn them into TIMEOUT.
 */
const exhausts = (row: FaultCase) =>
  row.outcome !== 'value' && (row.requests === 'several' || row.outcome === 'TIMEOUT')
const budgetFor = (row: FaultCase) => (exhausts(row) ? 400 : 5_000)
/** The invocation's remaining time: the middleware promises to finish before it (minus its margin). */
const remainingMs = 8_000

const expected = { secret: `${secretMarker}-plain`, parameter: `${secretMarker}-signing-key` }

const running: Emulator[] = []
afterEach(async () => {
  clearCache()
  await Promise.all(running.splice(0).map((emulator) => emulator.close()))
})

const withoutSessionToken = async <T>(run: () => Promise<T>): Promise<T> => {
  const saved = process.env.AWS_SESSION_TOKEN
  delete process.env.AWS_SESSION_TOKEN
  try {
    return await run()
  } finally {
    if (saved !== undefined) process.env.AWS_SESSION_TOKEN = saved
  }
}

const handlerFor = (row: FaultCase, port: number, events: unknown[] = [], printed: string[] = []) => {
  const name = row.name ?? (row.source === 'secret' ? 'prod/plain' : '/app/signing-key')
  return middy()
    .use(
      extensionSecrets({
        fetchData: { value: row.source === 'secret' ? secret(name) : parameter(name) },
        port,
        ...(row.noToken ? {} : { token: testToken }),
        retry: { maxRetryTime: budgetFor(row) },
        ...(row.requestTimeout === undefined ? {} : { requestTimeout: row.requestTimeout }),
        onEvent: (event) => {
          events.push(event)
        },
      }),
    )
    .handler(async (_event, context) => {
      // A handler that logs its whole context, as many do (kept, not printed): a hidden secret must not show.
      printed.push(inspect(context))
      return context.value
    })
}

describe('fault matrix', () => {
  test.each(faultMatrix.map((row) => [row.fault, row] as const))('%s', async (_name, row) => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const timersBefore = activeTimers()
      const emulator = await startEmulator({
        values: fixtureValues as never,
        token: testToken,
        faults: row.faults,
      })
      running.push(emulator)
      const events: unknown[] = []
      const printed: string[] = []
      const handler = handlerFor(row, emulator.port, events, printed)
      const context = lambdaContext(remainingMs)
      const invoke = () => handler({}, context)

      const startedAt = performance.now()
      const { result, logs } = await capturingLogs(() =>
        (row.noToken ? withoutSessionToken(invoke) : invoke()).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
      )
      const elapsedMs = performance.now() - startedAt
      expect(elapsedMs).toBeLessThan(remainingMs)

      if (row.outcome === 'value') {
        expect(result).toEqual({ value: expected[row.source] })
      } else {
        expect(result).toHaveProperty('error')
        const error = (result as { error: ExtensionSecretsError }).error
        expect(error.code).toBe('FETCH_FAILED')
        const codes = error.errors?.map((item) => item.code)
        // A row that exhausts the wait may end with TIMEOUT instead, when a loaded machine makes its last
        // attempt hang until p-retry's maxRetryTime or the deadline ends it.
        if (exhausts(row) && codes?.[0] === 'TIMEOUT') expect(codes).toEqual(['TIMEOUT'])
        else expect(codes).toEqual([row.outcome])
        const attempts = error.errors?.[0]?.attempts
        if (row.noToken) expect(attempts).toBe(0)
        else if (row.requests === 'one') expect(attempts).toBe(1)
        else expect(attempts).toBeGreaterThan(1)
      }
      const recorded = emulator.requests.length
      if (row.noToken) expect(recorded).toBe(0)
      else if (row.requests === 'one') expect(recorded).toBe(1)
      // Refused connections reach no server, so only the other retried rows can be counted.
      else if (!row.faults.some((rule) => rule.action === 'refuse')) expect(recorded).toBeGreaterThan(1)

      const observed: Observed = {
        context,
        logs: [...logs, ...printed],
        requests: emulator.requests,
        events,
        ...('error' in result ? { error: result.error } : {}),
      }
      // Every row reports its key through onEvent, so that channel is scanned with something in it.
      expect(events.length).toBeGreaterThan(0)
      await expectNothingLeaked(observed, [secretMarker], [testToken])

      // The same handler, once the fault is gone, serves the value.
      emulator.setFaults([])
      if (row.name !== undefined) {
        emulator.setValues({
          ...fixtureValues,
          secrets: { ...fixtureValues.secrets, [row.name]: expected.secret },
        } as never)
      }
      const next = await (row.noToken ? withoutSessionToken(invoke) : invoke()).catch(
        (error: unknown) => error,
      )
      if (row.noToken) expect((next as ExtensionSecretsError).errors?.[0]?.code).toBe('TOKEN_MISSING')
      else expect(next).toBe(expected[row.source])
      expect(clientSockets(emulator.port)).toBeLessThanOrEqual(maxFreeSockets)

      await emulator.close()
      await new Promise((resolve) => setImmediate(resolve))
      expect(activeTimers()).toBeLessThanOrEqual(timersBefore)
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  test('after many invocations through recovering faults, no timer is left between invocations and sockets stay within the free-socket limit', async () => {
    // Rows the emulator serves without timers of its own, so every timer counted is the client's.
    const rows = faultMatrix.filter(
      (row) =>
        row.outcome === 'value' &&
        row.faults.every((rule) => rule.action !== 'refuse' && rule.action !== 'delay') &&
        row.faults.every((rule) => rule.action !== 'reset-mid-body' && rule.forMs === undefined),
    )
    expect(rows.length).toBeGreaterThan(5)
    const emulator = await startEmulator({ values: fixtureValues as never, token: testToken })
    running.push(emulator)
    const handler = handlerFor(faultMatrix[0]!, emulator.port)
    const baseline = activeTimers()
    const concurrent = 8
    let invocations = 0
    let mostSockets = 0
    for (let round = 0; round < 40; round++) {
      const row = rows[round % rows.length]!
      if (row.source !== 'secret') continue
      emulator.setFaults(row.faults)
      const values = await capturingLogs(() =>
        Promise.all(Array.from({ length: concurrent }, () => handler({}, lambdaContext(remainingMs)))),
      )
      invocations += concurrent
      expect(values.result).toEqual(Array(concurrent).fill(expected.secret))
      expect(activeTimers()).toBeLessThanOrEqual(baseline)
      const sockets = clientSockets(emulator.port)
      mostSockets = Math.max(mostSockets, sockets)
      expect(sockets).toBeLessThanOrEqual(maxFreeSockets)
    }
    expect(invocations).toBeGreaterThanOrEqual(200)
    // Concurrent invocations open several sockets, kept for reuse: the count sees them.
    expect(mostSockets).toBeGreaterThan(1)
  })
})
