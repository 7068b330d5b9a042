import middy from '@middy/core'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import {
  type ExtensionSecretsEvent,
  type ExtensionSecretsOptions,
  extensionSecrets,
  parameter,
  secret,
} from '../src/index.js'
import { allText, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// onEvent: one event per key and invocation, on every path; never a value or the token.

const start = useEmulator()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Expiry follows Date.now(), moved by hand so that a busy machine cannot expire a value early.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
})
afterEach(() => {
  vi.useRealTimers()
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
      db: secret('prod/db', { stages: ['previous', 'pending'], field: 'password' }),
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
      .handler(async (event) => {
        if ((event as { fail?: boolean }).fail) throw new Error('handler failed')
        return 'ok'
      }),
  }
}

describe('onEvent', () => {
  test('reports fetches, waits for readiness, hits, expiry, sharing, invalidation, staleness and failures', async () => {
    const server = await start({
      faults: [{ action: 'not-ready', times: 3, match: { name: 'prod/plain' } }],
    })
    const events: ExtensionSecretsEvent[] = []
    const { handler, middleware } = observed(server.port, events, {
      cacheExpiry: 60_000,
      staleIfError: { maxStale: 300_000 },
      refreshOn: () => ['signing'],
    })
    const invocations: ExtensionSecretsEvent[][] = []
    const run = async (event: object = {}, remainingMs = 3_000) => {
      const from = events.length
      await handler(event, lambdaContext(remainingMs)).catch(() => undefined)
      invocations.push(events.slice(from))
    }

    await run() // cold: misses, the secret waits through three not-ready answers
    await run() // warm: hits
    vi.setSystemTime(Date.now() + 60_001)
    // Expired, two invocations at once: one fetches, the other shares its fetch.
    const from = events.length
    await Promise.all([handler({}, lambdaContext()), handler({}, lambdaContext())])
    invocations.push(events.slice(from))
    middleware.invalidate(['key'])
    await run()
    await run({ fail: true })
    await run()
    vi.setSystemTime(Date.now() + 60_001)
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
      readinessWaitMs: expect.any(Number),
    })
    const coldKey = cold!.find((event) => event.type === 'fetched' && event.key === 'key') as Extract<
      ExtensionSecretsEvent,
      { type: 'fetched' }
    >
    expect(coldKey.readinessWaitMs).toBeGreaterThan(0)
    expect(coldKey.readinessWaitMs).toBeLessThanOrEqual(coldKey.elapsedMs)
    expect(cold).toContainEqual(
      expect.objectContaining({ type: 'fetched', key: 'signing', attempts: 1, readinessWaitMs: 0 }),
    )
    expect(cold).toContainEqual(
      expect.objectContaining({ type: 'stage-missing', key: 'db', stage: 'pending', status: 400 }),
    )
    expect(warm!.map((event) => event.type)).toEqual(['hit', 'hit', 'hit'])
    expect(warm![0]).toMatchObject({ key: 'key', ageMs: expect.any(Number) })
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
    expect(events).toContainEqual({ type: 'invalidated', keys: ['key'], trigger: 'invalidate' })
    expect(invalidated).toContainEqual(
      expect.objectContaining({ type: 'fetched', key: 'key', cache: 'invalidated' }),
    )
    expect(failing).toContainEqual({ type: 'invalidated', keys: ['signing'], trigger: 'refreshOn' })
    expect(refreshed).toContainEqual(
      expect.objectContaining({ type: 'fetched', key: 'signing', cache: 'invalidated' }),
    )
    expect(stale).toContainEqual(
      expect.objectContaining({ type: 'stale', key: 'signing', code: 'UPSTREAM_ERROR', status: 503 }),
    )

    // Every event, in every form a log line could take, holds no value and no token.
    const text = await allText(events)
    expect(text).not.toContain(secretMarker)
    expect(text).not.toContain(testToken)
    expect(text).not.toContain('https://api.example.com')
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
      cache: 'off',
      code: 'TOKEN_REJECTED',
      status: 403,
      attempts: 1,
      elapsedMs: expect.any(Number),
    })
    expect(await allText(events)).not.toContain(testToken)
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
      expect.stringContaining('onEvent failed and is ignored (Error: logger down)'),
      expect.stringContaining('onEvent failed and is ignored (Error: metrics down)'),
    ])
  })
})
