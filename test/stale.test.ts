import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  type ExtensionSecretsEvent,
  type ExtensionSecretsOptions,
  extensionSecrets,
  isTransientError,
  secret,
} from '../src/index.js'
import { failureOf, lambdaContext, secretMarker, testToken, useClocks, useEmulator } from './helpers.js'

// staleIfError: the last good value stands in for a failed refresh, within maxStale; see docs/rotation.md.

const start = useEmulator()
const plain = `${secretMarker}-plain`

// Expiry and staleness follow the monotonic clock, which these tests move by hand (and which does not
// move on its own): a busy machine cannot make a value expire early or late. Timers stay real, so
// deadlines still end the waits.
const { passes } = useClocks({ frozen: true })

// A `when` that rejects must never become an unhandled rejection.
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

/** Real elapsed time, which the mocked clocks do not show. */
const realMs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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

  test('a new answer that fails its schema is not kept; with `when` allowing it, the last good value stands in', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const onlyMarked = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) =>
          typeof value === 'string' && value.startsWith(secretMarker)
            ? { value }
            : { issues: [{ message: 'unmarked' }] },
      },
    }
    const { handler } = staleHandler(server.port, events, {
      fetchData: { key: secret('prod/plain', { schema: onlyMarked }) },
      staleIfError: { maxStale: 300_000, when: (error) => error.code === 'VALIDATION_ERROR' },
    })
    expect(await handler({}, roomy())).toBe(plain)
    passes(60_001)
    server.setValues({ secrets: { 'prod/plain': 'rotated without the marker' } } as never)
    expect(await handler({}, roomy())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'stale', code: 'VALIDATION_ERROR' })
    // The bad answer was not cached as fresh: the next invocation asks the extension again.
    const before = server.requests.length
    expect(await handler({}, roomy())).toBe(plain)
    expect(server.requests.length).toBe(before + 1)
    expect(unhandled).toEqual([])
  })

  test('an async `when` still answers for a refresh that ran until the deadline', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const { handler } = staleHandler(server.port, events, {
      staleIfError: {
        maxStale: 300_000,
        when: async (error) => {
          await null
          await new Promise((resolve) => setTimeout(resolve, 5))
          return isTransientError(error)
        },
      },
    })
    expect(await handler({}, roomy())).toBe(plain)
    passes(60_001)
    server.setFaults([{ action: 'hang' }])
    expect(await handler({}, hurried())).toBe(plain)
    expect(events.at(-1)).toMatchObject({ type: 'stale', code: 'TIMEOUT' })
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
    expect(events.at(-1)).toMatchObject({ type: 'failed', code: 'EXTENSION_NOT_READY' })
    expect(events.at(-1)).not.toHaveProperty('ageMs')
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

  describe('an async `when`', () => {
    /** Cached, then expired, then the extension refuses the token: an answer that is never retried. */
    const expiredThenRefused = async (
      when: NonNullable<ExtensionSecretsOptions['staleIfError']>['when'],
      events: ExtensionSecretsEvent[] = [],
    ) => {
      const server = await start()
      const { handler } = staleHandler(server.port, events, { staleIfError: { maxStale: 300_000, when } })
      expect(await handler({}, roomy())).toBe(plain)
      passes(60_001)
      server.setFaults([{ action: 'respond', status: 403, body: 'Bad Token' }])
      return handler
    }

    test('is awaited: resolving true serves the stale value', async () => {
      const events: ExtensionSecretsEvent[] = []
      const seen: string[] = []
      const handler = await expiredThenRefused(async (error) => {
        seen.push(error.code)
        await sleep(20)
        return true
      }, events)
      expect(await handler({}, roomy())).toBe(plain)
      expect(seen).toEqual(['TOKEN_REJECTED'])
      expect(events.at(-1)).toMatchObject({
        type: 'stale',
        code: 'TOKEN_REJECTED',
        status: 403,
        ageMs: 60_001,
      })
    })

    test('resolving false, or a thenable resolving true, are followed as answered', async () => {
      const refusing = await expiredThenRefused(async () => false)
      expect((await failureOf(() => refusing({}, roomy()))).errors?.[0]?.code).toBe('TOKEN_REJECTED')
      clearCache()
      const thenable = await expiredThenRefused(
        () =>
          ({
            // biome-ignore lint/suspicious/noThenProperty: a PromiseLike that is not a Promise, on purpose
            then: (resolve: (allowed: boolean) => void) => setTimeout(() => resolve(true), 5),
          }) as unknown as PromiseLike<boolean>,
      )
      expect(await thenable({}, roomy())).toBe(plain)
    })

    test('a rejection allows nothing and is not an unhandled rejection', async () => {
      const events: ExtensionSecretsEvent[] = []
      const handler = await expiredThenRefused(async () => {
        await sleep(5)
        throw new Error('lookup failed')
      }, events)
      const error = await failureOf(() => handler({}, roomy()))
      expect(error.errors?.[0]).toMatchObject({ code: 'TOKEN_REJECTED', status: 403 })
      expect(events.at(-1)).toMatchObject({ type: 'failed', code: 'TOKEN_REJECTED' })
      await sleep(20)
      expect(unhandled).toEqual([])
    })

    test('one that never settles is cut at the deadline: the failure is reported, not a hang', async () => {
      const handler = await expiredThenRefused(() => new Promise<boolean>(() => undefined))
      const started = process.hrtime.bigint()
      // 150 ms after the 250 ms deadlineMargin.
      const error = await failureOf(() => handler({}, hurried()))
      expect(error.errors?.[0]?.code).toBe('TOKEN_REJECTED')
      expect(realMs(started)).toBeGreaterThanOrEqual(140)
      expect(realMs(started)).toBeLessThan(1_000)
    })

    test('one that resolves true only after the deadline allows nothing, and its late rejection is handled', async () => {
      for (const late of [true, 'reject'] as const) {
        clearCache()
        const handler = await expiredThenRefused(async () => {
          await sleep(400)
          if (late === 'reject') throw new Error('too late and broken')
          return late
        })
        const started = process.hrtime.bigint()
        expect((await failureOf(() => handler({}, hurried()))).errors?.[0]?.code).toBe('TOKEN_REJECTED')
        expect(realMs(started)).toBeLessThan(390)
      }
      await sleep(450)
      expect(unhandled).toEqual([])
    })
  })
})
