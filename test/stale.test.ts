import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { describe, expect, test } from 'vitest'
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
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const plain = `${secretMarker}-plain`

const staleHandler = (
  port: number,
  events: ExtensionSecretsEvent[],
  extra: Partial<ExtensionSecretsOptions> = {},
) => {
  const middleware = extensionSecrets({
    fetchData: { key: secret('prod/plain') },
    cacheExpiry: 50,
    staleIfError: { maxStale: 1_500 },
    // Failures come fast, so the test does not wait through the default 10 s budget.
    retry: { maxRetryTime: 60 },
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
    expect(await handler({}, lambdaContext())).toBe(plain)
    await sleep(70)
    server.setFaults([{ action: 'respond', status: 503, body: 'Service Unavailable' }])
    expect(await handler({}, lambdaContext())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'stale', key: 'key', code: 'UPSTREAM_ERROR', status: 503 })
    const stale = events.at(-1) as Extract<ExtensionSecretsEvent, { type: 'stale' }>
    expect(stale.ageMs).toBeGreaterThanOrEqual(50)
    expect(stale.ageMs).toBeLessThanOrEqual(1_500)
    // The stale value is not cached as fresh: the next invocation asks again.
    server.setFaults([{ action: 'refuse', forMs: 100 }])
    const before = server.requests.length
    expect(await handler({}, lambdaContext())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'stale', code: 'EXTENSION_UNREACHABLE' })
    await sleep(120)
    server.setFaults([])
    expect(await handler({}, lambdaContext())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'fetched', cache: 'expired' })
    expect(server.requests.length).toBeGreaterThan(before)
  })

  test('never serves a value older than maxStale, counted from its arrival', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const { handler } = staleHandler(server.port, events, { staleIfError: { maxStale: 200 } })
    await handler({}, lambdaContext())
    await sleep(230)
    server.setFaults([{ action: 'not-ready' }])
    const error = await failureOf(() => handler({}, lambdaContext()))
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
        maxStale: 1_500,
        when: (error) => {
          masked.push(error.code)
          return isTransientError(error) || error.code === 'UPSTREAM_ERROR'
        },
      },
    })
    await strict.handler({}, lambdaContext())
    await lenient.handler({}, lambdaContext())
    await sleep(70)
    server.setValues({ secrets: {} } as never)
    server.clearCache()
    const error = await failureOf(() => strict.handler({}, lambdaContext()))
    expect(error.errors?.[0]).toMatchObject({ code: 'UPSTREAM_ERROR', status: 400 })
    expect(await lenient.handler({}, lambdaContext())).toBe(plain)
    expect(masked).toEqual(['UPSTREAM_ERROR'])
  })

  test('a `when` that throws masks nothing', async () => {
    const server = await start()
    const { handler } = staleHandler(server.port, [], {
      staleIfError: {
        maxStale: 1_500,
        when: () => {
          throw new Error('broken predicate')
        },
      },
    })
    await handler({}, lambdaContext())
    await sleep(70)
    server.setFaults([{ action: 'respond', status: 503 }])
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]?.code).toBe('UPSTREAM_ERROR')
  })

  test('off by default: an expired value is never served when its refresh fails', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { key: secret('prod/plain') },
          cacheExpiry: 50,
          retry: { maxRetryTime: 60 },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.key)
    await handler({}, lambdaContext())
    await sleep(70)
    server.setFaults([{ action: 'respond', status: 503 }])
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]?.code).toBe('UPSTREAM_ERROR')
  })

  test('clearCache() and invalidate() drop the last good value too', async () => {
    const server = await start()
    const { handler, middleware } = staleHandler(server.port, [])
    for (const drop of [() => clearCache(), () => middleware.invalidate()]) {
      server.setFaults([])
      await handler({}, lambdaContext())
      await sleep(70)
      drop()
      server.setFaults([{ action: 'respond', status: 503 }])
      const error = await failureOf(() => handler({}, lambdaContext()))
      expect(error.errors?.[0]?.code).toBe('UPSTREAM_ERROR')
    }
  })

  test('concurrent invocations that share a failed refresh each get the stale value', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const { handler } = staleHandler(server.port, events)
    await handler({}, lambdaContext())
    await sleep(70)
    server.setFaults([{ action: 'respond', status: 503 }])
    const results = await Promise.all([1, 2, 3].map(() => handler({}, lambdaContext())))
    expect(results).toEqual([plain, plain, plain])
    expect(events.filter((event) => event.type === 'stale')).toHaveLength(3)
  })
})
