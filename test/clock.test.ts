import { setTimeout as sleep } from 'node:timers/promises'
import middy from '@middy/core'
import { afterEach, expect, test, vi } from 'vitest'
import {
  type ExtensionSecretsEvent,
  type ExtensionSecretsOptions,
  extensionSecrets,
  parameter,
} from '../src/index.js'
import { failureOf, lambdaContext, testToken, useEmulator } from './helpers.js'

// Durations (cacheExpiry up to 24 h, maxStale, ages) are measured on the monotonic clock, so a step of
// the wall clock (NTP, a VM resumed) neither keeps a value past its bound nor expires it early (issue 11,
// finding 8). Only an absolute cacheExpiry is a wall-clock time.

const start = useEmulator()
const realNow = Date.now.bind(Date)
/** Moves Date.now() by `ms` from now on; performance.now() is untouched, as in a real clock step. */
const stepWallClock = (ms: number) => {
  const offset = (vi.isMockFunction(Date.now) ? Date.now() - realNow() : 0) + ms
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset)
}
afterEach(() => {
  vi.restoreAllMocks()
})

const observed = (port: number, events: ExtensionSecretsEvent[], options: Partial<ExtensionSecretsOptions>) =>
  middy()
    .use(
      extensionSecrets({
        fetchData: { url: parameter('/app/api-url') },
        port,
        token: testToken,
        onEvent: (event) => {
          events.push(event)
        },
        ...options,
      }),
    )
    .handler(async (_event, context) => context.url)

const rotate = (emulator: Awaited<ReturnType<typeof start>>) => {
  emulator.setValues({ parameters: { '/app/api-url': 'https://rotated.example.com' } })
  emulator.clearCache()
}

test('the wall clock stepped back an hour: no value is served past cacheExpiry, and no age is negative', async () => {
  const emulator = await start()
  const events: ExtensionSecretsEvent[] = []
  const handler = observed(emulator.port, events, { cacheExpiry: 200 })
  expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
  stepWallClock(-3_600_000)
  expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
  expect(events.at(-1)).toMatchObject({ type: 'hit' })
  rotate(emulator)
  await sleep(250)
  expect(await handler({}, lambdaContext())).toBe('https://rotated.example.com')
  expect(events.at(-1)).toMatchObject({ type: 'fetched', cache: 'expired' })
  for (const event of events) if ('ageMs' in event) expect(event.ageMs).toBeGreaterThanOrEqual(0)
})

test('the wall clock stepped forward a day does not expire a duration', async () => {
  const emulator = await start()
  const events: ExtensionSecretsEvent[] = []
  const handler = observed(emulator.port, events, { cacheExpiry: 60_000 })
  await handler({}, lambdaContext())
  stepWallClock(86_400_000)
  expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
  expect(events.at(-1)).toMatchObject({ type: 'hit' })
  expect((events.at(-1) as { ageMs: number }).ageMs).toBeLessThan(60_000)
  expect(emulator.requests).toHaveLength(1)
})

test('the wall clock stepped back an hour: no stale value past maxStale', async () => {
  const emulator = await start()
  const events: ExtensionSecretsEvent[] = []
  const handler = observed(emulator.port, events, {
    cacheExpiry: 100,
    staleIfError: { maxStale: 300 },
    retry: { maxRetryTime: 30 },
  })
  await handler({}, lambdaContext())
  stepWallClock(-3_600_000)
  emulator.setFaults([{ action: 'respond', status: 503, body: 'busy' }])
  await sleep(150)
  expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
  expect(events.at(-1)).toMatchObject({ type: 'stale' })
  expect((events.at(-1) as { ageMs: number }).ageMs).toBeGreaterThanOrEqual(150)
  await sleep(250)
  const error = await failureOf(() => handler({}, lambdaContext()))
  expect(error.errors?.[0]?.code).toBe('UPSTREAM_ERROR')
  expect(events.at(-1)).toMatchObject({ type: 'failed', code: 'UPSTREAM_ERROR', status: 503 })
})

test('an absolute cacheExpiry is a wall-clock time: stepping the wall clock past it expires the value', async () => {
  const emulator = await start()
  const events: ExtensionSecretsEvent[] = []
  const handler = observed(emulator.port, events, { cacheExpiry: realNow() + 3_600_000 })
  await handler({}, lambdaContext())
  expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
  expect(events.at(-1)).toMatchObject({ type: 'hit' })
  rotate(emulator)
  stepWallClock(3_600_001)
  expect(await handler({}, lambdaContext())).toBe('https://rotated.example.com')
  expect(events.at(-1)).toMatchObject({ type: 'fetched', cache: 'expired' })
})
