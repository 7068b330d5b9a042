import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import {
  type ExtensionSecretsEvent,
  type ExtensionSecretsOptions,
  extensionSecrets,
  isTransientError,
  secret,
} from '../src/index.js'
import { failureOf, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// staleIfError: the last good value stands in for a failed refresh, within maxStale; see docs/rotation.md.

const start = useEmulator()
const plain = `${secretMarker}-plain`

// Expiry and staleness follow Date.now(), which these tests move by hand: a busy machine cannot make a
// value expire early or late. Request budgets follow performance.now(), which stays real.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
})
afterEach(() => {
  vi.useRealTimers()
})
const passes = (ms: number) => vi.setSystemTime(Date.now() + ms)

/** An invocation with a second left: fetches that should succeed have plenty of time. */
const roomy = () => lambdaContext(1_250)
/** An invocation with 150 ms left after deadlineMargin: a transient failure ends that fast. */
const hurried = () => lambdaContext(400)

const staleHandler = (
  port: number,
  events: ExtensionSecretsEvent[],
  extra: Partial<ExtensionSecretsOptions> = {},
) => {
  const middleware = extensionSecrets({
    fetchData: { key: secret('prod/plain') },
    cacheExpiry: 60_000,
    staleIfError: { maxStale: 300_000 },
    port,
    token: testToken,
    onEvent: (event) => {
      events.push(event)
    },
    ...extra,
  })
  return {
    middleware,
    handler: middy()
      .use(middleware)
      .handler(async (_event, context) => context.key),
  }
}

describe('staleIfError', () => {
  test('serves the last good value when the refresh fails transiently, then fresh values again', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const { handler } = staleHandler(server.port, events)
    expect(await handler({}, roomy())).toBe(plain)
    passes(60_001)
    server.setFaults([{ action: 'respond', status: 503, body: 'Service Unavailable' }])
    expect(await handler({}, hurried())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'stale', key: 'key', code: 'UPSTREAM_ERROR', status: 503 })
    expect(events.at(-1)).toMatchObject({ ageMs: 60_001 })
    // The stale value is not cached as fresh: the next invocation asks again.
    server.setFaults([{ action: 'refuse' }])
    passes(1_000)
    expect(await handler({}, hurried())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'stale', code: 'EXTENSION_UNREACHABLE', ageMs: 61_001 })
    server.setFaults([])
    const before = server.requests.length
    expect(await handler({}, roomy())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'fetched', cache: 'expired' })
    expect(server.requests.length).toBe(before + 1)
    expect(await handler({}, roomy())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'hit', ageMs: 0 })
  })

  test('never serves a value older than maxStale, counted from its arrival', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const { handler } = staleHandler(server.port, events, { staleIfError: { maxStale: 90_000 } })
    await handler({}, roomy())
    passes(90_000)
    server.setFaults([{ action: 'not-ready' }])
    expect(await handler({}, hurried())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'stale', ageMs: 90_000 })
    passes(1)
    const error = await failureOf(() => handler({}, hurried()))
    expect(error.errors?.[0]?.code).toBe('EXTENSION_NOT_READY')
    expect(events.at(-1)).toMatchObject({ type: 'failed', code: 'EXTENSION_NOT_READY', cache: 'expired' })
  })

  test('the generic 400 (a deleted secret or revoked access) is not masked unless `when` says so', async () => {
    const server = await start()
    const masked: string[] = []
    const strict = staleHandler(server.port, [], { cacheKey: 'strict' })
    const lenient = staleHandler(server.port, [], {
      cacheKey: 'lenient',
      staleIfError: {
        maxStale: 300_000,
        when: (error) => {
          masked.push(error.code)
          return isTransientError(error) || error.code === 'UPSTREAM_ERROR'
        },
      },
    })
    await strict.handler({}, roomy())
    await lenient.handler({}, roomy())
    passes(60_001)
    server.setValues({ secrets: {} } as never)
    server.clearCache()
    const error = await failureOf(() => strict.handler({}, roomy()))
    expect(error.errors?.[0]).toMatchObject({ code: 'UPSTREAM_ERROR', status: 400 })
    expect(await lenient.handler({}, roomy())).toBe(plain)
    expect(masked).toEqual(['UPSTREAM_ERROR'])
  })

  test('a `when` that throws masks nothing', async () => {
    const server = await start()
    const { handler } = staleHandler(server.port, [], {
      staleIfError: {
        maxStale: 300_000,
        when: () => {
          throw new Error('broken predicate')
        },
      },
    })
    await handler({}, roomy())
    passes(60_001)
    server.setFaults([{ action: 'respond', status: 503 }])
    const error = await failureOf(() => handler({}, hurried()))
    expect(error.errors?.[0]?.code).toMatch(/UPSTREAM_ERROR|TIMEOUT/)
  })

  test('off by default: an expired value is never served when its refresh fails', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { key: secret('prod/plain') },
          cacheExpiry: 60_000,
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.key)
    await handler({}, roomy())
    passes(60_001)
    server.setFaults([{ action: 'respond', status: 503 }])
    const error = await failureOf(() => handler({}, hurried()))
    expect(error.errors?.[0]?.code).toMatch(/UPSTREAM_ERROR|TIMEOUT/)
  })

  test('clearCache() and invalidate() drop the last good value too, even while a refresh runs', async () => {
    const server = await start()
    const { handler, middleware } = staleHandler(server.port, [])
    for (const drop of [() => clearCache(), () => middleware.invalidate()]) {
      for (const during of [false, true]) {
        server.setFaults([])
        await handler({}, roomy())
        passes(60_001)
        if (!during) drop()
        server.setFaults([
          { action: 'delay', ms: 100 },
          { action: 'respond', status: 503 },
        ])
        const failing = failureOf(() => handler({}, lambdaContext(600)))
        if (during) setTimeout(drop, 30)
        expect((await failing).errors?.[0]?.code).toMatch(/UPSTREAM_ERROR|TIMEOUT/)
      }
    }
  })

  test('concurrent invocations that share a failed refresh each get the stale value', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const { handler } = staleHandler(server.port, events)
    await handler({}, roomy())
    passes(60_001)
    server.setFaults([{ action: 'respond', status: 503 }])
    const results = await Promise.all([1, 2, 3].map(() => handler({}, hurried())))
    expect(results).toEqual([plain, plain, plain])
    expect(events.filter((event) => event.type === 'stale')).toHaveLength(3)
  })
})
