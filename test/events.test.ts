import middy from '@middy/core'
import { afterEach, describe, expect, test, vi } from 'vitest'
import {
  type ExtensionSecretsEvent,
  type ExtensionSecretsOptions,
  extensionSecrets,
  parameter,
  secret,
} from '../src/index.js'
import { refreshOn } from '../src/refresh-on.js'
import { allText, lambdaContext, secretMarker, testToken, useClocks, useEmulator } from './helpers.js'

// onEvent: one event per key and invocation, on every path; never a value or the token.

const start = useEmulator()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Expiry follows the monotonic clock, moved by hand so that a busy machine cannot expire a value early.
const { passes } = useClocks({ frozen: true })
afterEach(() => {
  vi.restoreAllMocks()
})

const observed = (
  port: number,
  events: ExtensionSecretsEvent[],
  extra: Partial<ExtensionSecretsOptions> = {},
) => {
  const middleware = extensionSecrets({
    fetchData: {
      key: secret('prod/plain'),
      db: secret('prod/db', { field: 'password' }),
      // The fixtures have no AWSPENDING version: a value that does not exist yet.
      pending: secret('prod/db', { versionStage: 'AWSPENDING', field: 'password', optional: true }),
      signing: parameter('/app/signing-key'),
    },
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
      .use(refreshOn(middleware, () => ['signing']))
      .handler(async (event) => {
        if ((event as { fail?: boolean }).fail) throw new Error('handler failed')
        return 'ok'
      }),
  }
}

describe('onEvent', () => {
  test('reports fetches, readiness waits, hits, expiry, sharing, invalidation, missing values, staleness and failures', async () => {
    const server = await start({
      faults: [{ action: 'not-ready', times: 3, match: { name: 'prod/plain' } }],
    })
    const events: ExtensionSecretsEvent[] = []
    const { handler, middleware } = observed(server.port, events, {
      cacheExpiry: 60_000,
      staleIfError: { maxStale: 300_000 },
    })
    const invocations: ExtensionSecretsEvent[][] = []
    const run = async (event: object = {}, remainingMs = 3_000) => {
      const from = events.length
      await handler(event, lambdaContext(remainingMs)).catch(() => undefined)
      invocations.push(events.slice(from))
    }

    await run() // cold: misses, the secret waits through three not-ready answers
    await run() // warm: hits; the missing value is asked for again
    passes(60_001)
    // Expired, two invocations at once: one fetches, the other shares its fetch.
    const from = events.length
    await Promise.all([handler({}, lambdaContext()), handler({}, lambdaContext())])
    invocations.push(events.slice(from))
    middleware.invalidate(['key'])
    await run()
    await run({ fail: true }) // refreshOn drops `signing`
    await run()
    passes(60_001)
    server.setFaults([{ action: 'respond', status: 503, match: { name: '/app/signing-key' } }])
    await run({}, 500) // a short invocation: the 503s end when its time does

    const [cold, warm, concurrent, invalidated, failing, refreshed, stale] = invocations
    expect(cold).toContainEqual({
      type: 'fetched',
      key: 'key',
      source: 'secret',
      name: 'prod/plain',
      cache: 'miss',
      attempts: 4,
      elapsedMs: expect.any(Number),
    })
    expect(cold).toContainEqual(expect.objectContaining({ type: 'fetched', key: 'signing', attempts: 1 }))
    expect(cold).toContainEqual({
      type: 'missing',
      key: 'pending',
      source: 'secret',
      name: 'prod/db',
      code: 'UPSTREAM_ERROR',
      status: 400,
      attempts: 1,
      elapsedMs: expect.any(Number),
    })
    // One event per key and invocation.
    for (const invocation of [cold, warm, invalidated, failing, refreshed, stale])
      expect(invocation!.map((event) => event.key).sort()).toEqual(['db', 'key', 'pending', 'signing'])
    expect(warm!.map((event) => `${event.key} ${event.type}`).sort()).toEqual([
      'db hit',
      'key hit',
      'pending missing',
      'signing hit',
    ])
    expect(warm![0]).toMatchObject({ ageMs: 0 })
    const fetchedTogether = concurrent!.filter((event) => event.type === 'fetched')
    expect(fetchedTogether.map((event) => (event as { cache: string }).cache).sort()).toEqual([
      'expired',
      'expired',
      'expired',
      'shared',
      'shared',
      'shared',
    ])
    // The invocation that shared sent nothing itself.
    for (const event of fetchedTogether) {
      if ((event as { cache: string }).cache === 'shared') expect(event).toMatchObject({ attempts: 0 })
    }
    // An invalidated key's next fetch is a miss; the others stay hits.
    expect(invalidated).toContainEqual(
      expect.objectContaining({ type: 'fetched', key: 'key', cache: 'miss' }),
    )
    expect(invalidated).toContainEqual(expect.objectContaining({ type: 'hit', key: 'signing' }))
    expect(failing!.filter((event) => event.type === 'hit')).toHaveLength(3)
    expect(refreshed).toContainEqual(
      expect.objectContaining({ type: 'fetched', key: 'signing', cache: 'miss' }),
    )
    expect(refreshed).toContainEqual(expect.objectContaining({ type: 'hit', key: 'key' }))
    expect(stale).toContainEqual(
      expect.objectContaining({
        type: 'stale',
        key: 'signing',
        code: 'UPSTREAM_ERROR',
        status: 503,
        ageMs: 60_001,
      }),
    )
    // `failed` has its own test; no other type exists.
    expect(new Set(events.map((event) => event.type))).toEqual(
      new Set(['fetched', 'hit', 'missing', 'stale']),
    )

    // Every event, in every form a log line could take, holds no value and no token.
    const text = await allText(events)
    expect(text).not.toContain(secretMarker)
    expect(text).not.toContain(testToken)
    expect(text).not.toContain('https://api.example.com')
  })

  test("keys of one source share their invocation's request as their own: both a miss, not one shared", async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { db: secret('prod/db'), password: secret('prod/db', { field: 'password' }) },
          cacheExpiry: 60_000,
          port: server.port,
          token: testToken,
          onEvent: (event) => {
            events.push(event)
          },
        }),
      )
      .handler(async () => 'ok')
    await handler({}, lambdaContext())
    expect(events.map((event) => [event.key, event.type, (event as { cache?: string }).cache])).toEqual([
      ['db', 'fetched', 'miss'],
      ['password', 'fetched', 'miss'],
    ])
    expect(server.requests).toHaveLength(1)
  })

  test('a failing key is reported with its code, status and attempts', async () => {
    const server = await start({ faults: [{ action: 'respond', status: 403, body: 'Bad Token' }] })
    const events: ExtensionSecretsEvent[] = []
    const { handler } = observed(server.port, events)
    await expect(handler({}, lambdaContext())).rejects.toMatchObject({ code: 'FETCH_FAILED' })
    expect(events).toContainEqual({
      type: 'failed',
      key: 'signing',
      source: 'parameter',
      name: '/app/signing-key',
      code: 'TOKEN_REJECTED',
      status: 403,
      attempts: 1,
      elapsedMs: expect.any(Number),
    })
    // A refused token is not a missing value, even for an optional key.
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'failed', key: 'pending', code: 'TOKEN_REJECTED', status: 403 }),
    )
    expect(await allText(events)).not.toContain(testToken)
    // A fetch with caching off says so.
    server.setFaults([])
    events.length = 0
    expect(await handler({}, lambdaContext())).toBe('ok')
    expect(events.filter((event) => event.type === 'fetched')).toEqual(
      Array(3).fill(expect.objectContaining({ cache: 'off' })),
    )
  })

  test('a hook that throws or rejects never fails the invocation, and is reported once', async () => {
    const server = await start()
    const warnings: string[] = []
    vi.spyOn(process, 'emitWarning').mockImplementation(((message: string) => {
      warnings.push(message)
    }) as never)
    for (const onEvent of [
      () => {
        throw new Error('logger down')
      },
      async () => {
        throw new Error('metrics down')
      },
    ]) {
      const { handler } = observed(server.port, [], { onEvent })
      expect(await handler({}, lambdaContext())).toBe('ok')
      expect(await handler({}, lambdaContext())).toBe('ok')
    }
    await sleep(10)
    expect(warnings).toEqual([
      expect.stringContaining('onEvent failed and is ignored (Error)'),
      expect.stringContaining('onEvent failed and is ignored (Error)'),
    ])
  })
})
