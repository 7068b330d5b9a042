import middy from '@middy/core'
import { expect, test } from 'vitest'
import type { FaultRule } from '../src/emulator/index.js'
import { extensionSecrets, parameter } from '../src/index.js'
import { lambdaContext, testToken, useEmulator } from './helpers.js'

// The shared readiness gate (src/extension.ts): while the extension is not ready, one key probes and the
// others wait for it; when it answers, every waiting key goes at once. Counted at the server, against
// what one key alone makes the extension answer in the same schedule.

const start = useEmulator()

/** Refusing for 300 ms, then the layer's not-ready 400 for 300 ms, then serving. */
const cold: FaultRule[] = [
  { action: 'refuse', forMs: 300 },
  { action: 'not-ready', afterMs: 300, forMs: 300 },
]

const coldStart = async (keys: number) => {
  const names = Array.from({ length: keys }, (_, index) => `/app/key-${index}`)
  const emulator = await start({
    values: { parameters: Object.fromEntries(names.map((name) => [name, `value of ${name}`])) },
    faults: cold,
  })
  const fetchData = Object.fromEntries(names.map((name, index) => [`key${index}`, parameter(name)]))
  const handler = middy()
    .use(extensionSecrets({ fetchData, port: emulator.port, token: testToken }))
    .handler(async (_event, context) => names.map((_name, index) => context[`key${index}`]))
  const values = await handler({}, lambdaContext(10_000))
  expect(values).toEqual(names.map((name) => `value of ${name}`))
  const outcomes = emulator.requests.map((request) => request.outcome)
  return {
    notReady: outcomes.filter((outcome) => outcome === 'not-ready').length,
    outcomes,
    served: emulator.requests
      .filter((request) => request.outcome === 'served')
      .map((request) => request.query.name),
  }
}

test('five keys waiting for a cold extension poll it as one key does, then are all served at once', async () => {
  const alone = await coldStart(1)
  const five = await coldStart(5)
  // The schedule reached the not-ready phase, for one key and for five.
  expect(alone.notReady).toBeGreaterThan(2)
  expect(five.notReady).toBeGreaterThan(2)
  // Five independent pollers would make about five times the not-ready answers of one; the gate keeps
  // five keys near one key's count.
  expect(five.notReady).toBeLessThan(5 * alone.notReady)
  expect(five.notReady).toBeLessThan(2 * alone.notReady + 3)
  // Once the extension serves, nothing more is polled: the first 200 is followed by exactly the other
  // four keys, each asked once, and nothing else.
  const firstServed = five.outcomes.indexOf('served')
  expect(five.outcomes.slice(0, firstServed).every((outcome) => outcome === 'not-ready')).toBe(true)
  expect(five.outcomes.slice(firstServed)).toEqual(Array(5).fill('served'))
  expect([...five.served].sort()).toEqual([
    '/app/key-0',
    '/app/key-1',
    '/app/key-2',
    '/app/key-3',
    '/app/key-4',
  ])
})

test('the keys of concurrent invocations share the gate too', async () => {
  const names = ['/app/a', '/app/b', '/app/c']
  const emulator = await start({
    values: { parameters: Object.fromEntries(names.map((name) => [name, name])) },
    faults: [{ action: 'not-ready', forMs: 300 }],
  })
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData: { a: parameter('/app/a'), b: parameter('/app/b'), c: parameter('/app/c') },
        port: emulator.port,
        token: testToken,
      }),
    )
    .handler(async (_event, context) => [context.a, context.b, context.c])
  const results = await Promise.all(Array.from({ length: 4 }, () => handler({}, lambdaContext(10_000))))
  expect(results).toEqual(Array(4).fill(names))
  const outcomes = emulator.requests.map((request) => request.outcome)
  const firstServed = outcomes.indexOf('served')
  // 4 invocations × 3 keys, caching off: 12 requests once ready, and polling only before.
  expect(outcomes.slice(firstServed)).toEqual(Array(12).fill('served'))
  // One poller for the 12 keys: its backoff (5-8 ms, randomized ×1-2) allows at most ~60 in 300 ms,
  // where twelve independent pollers would make hundreds.
  expect(firstServed).toBeGreaterThan(2)
  expect(firstServed).toBeLessThan(80)
})
