import middy from '@middy/core'
import { clearCache, getCache, processCache } from '@middy/util'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { type ExtensionSecretsEvent, extensionSecrets, parameter, secret } from '../src/index.js'
import type { Slot } from '../src/load.js'
import {
  failureOf,
  fixtureValues,
  lambdaContext,
  secretMarker,
  testToken,
  useClocks,
  useEmulator,
} from './helpers.js'

// cacheExpiry, clearCache(), shared in-flight fetches; see docs/decisions/0003-cache.md.

const start = useEmulator()
// Real clocks, unless a test steps one.
const clocks = useClocks()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** This package's store in @middy/util's cache, under its own prefix. */
const storeIn = (cacheKey = 'default') =>
  getCache(`middy-extension-secrets:${cacheKey}`).value as Map<string, Slot> | undefined

describe('caching', () => {
  const cachedHandler = (port: number, cacheExpiry: number, extra: Record<string, unknown> = {}) =>
    middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url'), key: secret('prod/plain') },
          cacheExpiry,
          port,
          token: testToken,
          ...extra,
        }),
      )
      .handler(async (_event, context) => context.url)

  test('cacheExpiry 0 (the default) asks the extension on every invocation', async () => {
    const server = await start()
    const handler = cachedHandler(server.port, 0)
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
  })

  test('a cached value is served without a request until clearCache() from @middy/util', async () => {
    const server = await start()
    const handler = cachedHandler(server.port, -1)
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(2)
    clearCache()
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
  })

  test('a value is fetched again once its cacheExpiry has passed', async () => {
    const server = await start()
    const handler = cachedHandler(server.port, 40)
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(2)
    await new Promise((resolve) => setTimeout(resolve, 60))
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
  })

  test('a cacheExpiry above 24 h is an absolute Unix-ms time, on the wall clock', async () => {
    const server = await start()
    const until = Date.now() + 3_600_000
    const future = cachedHandler(server.port, until, { cacheKey: 'absolute-future' })
    await future({}, lambdaContext())
    await future({}, lambdaContext())
    expect(server.requests).toHaveLength(2)
    // An absolute time is a point on the wall clock: once the wall clock reaches it, the value is refetched.
    clocks.stepWall(3_600_000)
    await future({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
    // One already past would silently turn caching off: refused at creation instead.
    expect(() => cachedHandler(server.port, Date.now() - 1)).toThrow(TypeError)
  })

  test('no refresh runs between invocations', async () => {
    const server = await start()
    const handler = cachedHandler(server.port, 20)
    await handler({}, lambdaContext())
    await new Promise((resolve) => setTimeout(resolve, 80))
    expect(server.requests).toHaveLength(2)
  })

  test('two instances with different fetchData never share cached values', async () => {
    const server = await start()
    const first = middy()
      .use(
        extensionSecrets({
          fetchData: { value: parameter('/app/api-url') },
          cacheExpiry: -1,
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.value)
    const second = middy()
      .use(
        extensionSecrets({
          fetchData: { value: secret('prod/plain') },
          cacheExpiry: -1,
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.value)
    expect(await first({}, lambdaContext())).toBe('https://api.example.com')
    expect(await second({}, lambdaContext())).toBe(`${secretMarker}-plain`)
  })

  test('concurrent invocations share one in-flight fetch per source', async () => {
    const server = await start({ faults: [{ action: 'delay', ms: 100 }] })
    const handler = cachedHandler(server.port, -1)
    const results = await Promise.all(Array.from({ length: 10 }, () => handler({}, lambdaContext())))
    expect(new Set(results)).toEqual(new Set(['https://api.example.com']))
    expect(server.requests).toHaveLength(2)
  })

  test('a waiting invocation gives up at its own deadline, without failing the one that fetches', async () => {
    const server = await start({ faults: [{ action: 'delay', ms: 700 }] })
    const handler = cachedHandler(server.port, -1, { deadlineMargin: 0 })
    const fetching = handler({}, lambdaContext(5_000))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const error = await failureOf(() => handler({}, lambdaContext(200)))
    expect(error.code).toBe('FETCH_FAILED')
    expect(error.errors?.map((e) => e.code)).toEqual(['TIMEOUT', 'TIMEOUT'])
    expect(await fetching).toBe('https://api.example.com')
  })

  test("a fetch that hangs ends at the invocation's deadline, not at requestTimeout", async () => {
    const server = await start({ faults: [{ action: 'hang', match: { name: '/app/api-url' } }] })
    const handler = cachedHandler(server.port, -1, { deadlineMargin: 0, requestTimeout: 5_000 })
    const started = performance.now()
    const error = await failureOf(() => handler({}, lambdaContext(150)))
    expect(error.errors?.map((each) => [each.key, each.code])).toEqual([['url', 'TIMEOUT']])
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  test('an invocation with time left does not inherit the budget failure of a shorter one it waited on', async () => {
    // Wide margins: on a busy machine the short invocation must still see not-ready answers, not silence.
    const server = await start({ faults: [{ action: 'not-ready', forMs: 900 }] })
    const handler = cachedHandler(server.port, -1, { deadlineMargin: 0 })
    const short = handler({}, lambdaContext(300))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const long = handler({}, lambdaContext(5_000))
    const shortError = await failureOf(() => short)
    expect(shortError.errors?.map((e) => e.code)).toEqual(['EXTENSION_NOT_READY', 'EXTENSION_NOT_READY'])
    expect(await long).toBe('https://api.example.com')
  })

  test("when the fetch they share runs out of its invocation's time, the others fetch again once between them, not once each", async () => {
    // Not ready for 600 ms: the first invocation's budget (150 ms) ends before; the others' do not.
    const emulator = await start({ faults: [{ action: 'not-ready', forMs: 600 }] })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: emulator.port,
          token: testToken,
          cacheExpiry: -1,
          deadlineMargin: 0,
          // A fixed 10 ms between retries, so that one retry loop's answers can be counted.
          retry: { minTimeout: 10, maxTimeout: 10, randomize: false },
        }),
      )
      .handler(async (_event, context) => context.url)
    const short = handler({}, lambdaContext(150)).catch((error: unknown) => error)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const others = Array.from({ length: 200 }, () => handler({}, lambdaContext(20_000)))
    expect(await Promise.all(others)).toEqual(Array(200).fill(fixtureValues.parameters['/app/api-url']))
    expect(await short).toMatchObject({ code: 'FETCH_FAILED' })
    // One retry loop, not one per waiting invocation: a single 200, and the not-ready answers of at
    // most two loops (the short one's and the shared one that followed it).
    expect(emulator.requests.filter((request) => request.status === 200)).toHaveLength(1)
    const backoffsIn600Ms = 600 / 10 + 1
    expect(emulator.requests.length).toBeLessThan(2 * backoffsIn600Ms)
  })

  test("instances sharing a cacheKey never see each other's values for the same key name", async () => {
    const server = await start()
    const asParameter = middy()
      .use(
        extensionSecrets({
          fetchData: { value: parameter('/app/api-url') },
          cacheExpiry: -1,
          cacheKey: 'shared',
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.value)
    const asSecret = middy()
      .use(
        extensionSecrets({
          fetchData: { value: secret('prod/plain') },
          cacheExpiry: -1,
          cacheKey: 'shared',
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.value)
    expect(await asSecret({}, lambdaContext())).toBe(`${secretMarker}-plain`)
    expect(await asParameter({}, lambdaContext())).toBe('https://api.example.com')
  })

  test('instances with different cacheExpiry share answers, each within its own expiry', async () => {
    const server = await start()
    const forever = cachedHandler(server.port, -1)
    const short = cachedHandler(server.port, 30)
    await forever({}, lambdaContext())
    // Fresh for both: the short one reuses the answer the other fetched.
    await short({}, lambdaContext())
    expect(server.requests).toHaveLength(2)
    // Older than 30 ms: the short one never serves it, however long the other keeps it.
    await sleep(50)
    await short({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
    await forever({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
  })

  test("cacheExpiry counts from the value's arrival, and a slow fetch is shared whatever the expiry", async () => {
    const server = await start({ faults: [{ action: 'delay', ms: 150 }] })
    const handler = cachedHandler(server.port, 150)
    const first = handler({}, lambdaContext())
    await new Promise((resolve) => setTimeout(resolve, 120))
    const second = handler({}, lambdaContext())
    await Promise.all([first, second])
    expect(server.requests).toHaveLength(2)
    // Fetched after ~150 ms, so fresh until ~300 ms; counted from the fetch's start it would have
    // expired at 150 ms.
    await new Promise((resolve) => setTimeout(resolve, 40))
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(2)
  })

  test('a failure is never cached: only the failed key is fetched again', async () => {
    const server = await start({
      values: { parameters: { '/app/api-url': 'https://api.example.com' }, secrets: {} },
    })
    const handler = cachedHandler(server.port, -1)
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.map((e) => [e.key, e.code])).toEqual([['key', 'UPSTREAM_ERROR']])
    server.setValues({
      parameters: { '/app/api-url': 'https://api.example.com' },
      secrets: { 'prod/plain': 'now-here' },
    })
    const before = server.requests.length
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(
      server.requests.slice(before).map((request) => request.query.secretId ?? request.query.name),
    ).toEqual(['prod/plain'])
  })

  test('a middleware built per invocation with an inline schema makes no new store and shares cached answers', async () => {
    // The anti-pattern: extensionSecrets() inside the handler, a new schema object each time.
    const server = await start()
    const invocation = () =>
      middy()
        .use(
          extensionSecrets({
            fetchData: {
              url: parameter('/app/api-url', { schema: z.string().url() }),
              key: secret('prod/plain', { schema: z.string().min(1) }),
            },
            cacheExpiry: 60_000,
            port: server.port,
            token: testToken,
          }),
        )
        .handler(async (_event, context) => context.url)
    expect(await invocation()({}, lambdaContext())).toBe('https://api.example.com')
    const store = storeIn()
    expect(store).toBeInstanceOf(Map)
    expect(store?.size).toBe(2)
    for (let round = 0; round < 300; round++) {
      expect(await invocation()({}, lambdaContext())).toBe('https://api.example.com')
    }
    // Every build found the same store and the same answers: no request, no new slot.
    expect(storeIn()).toBe(store)
    expect(store?.size).toBe(2)
    expect(server.requests).toHaveLength(2)
    // Across expiries too: a refresh replaces a slot's answer, it does not add a slot.
    for (let round = 0; round < 3; round++) {
      clocks.passes(60_001)
      for (let build = 0; build < 20; build++) await invocation()({}, lambdaContext())
    }
    expect(storeIn()).toBe(store)
    expect(store?.size).toBe(2)
    expect(server.requests).toHaveLength(8)
  })

  test('failed and missing values leave no slot behind, however many invocations ask', async () => {
    const server = await start()
    const invocation = () =>
      middy()
        .use(
          extensionSecrets({
            fetchData: {
              url: parameter('/app/api-url'),
              maybe: secret('prod/not-created-yet', { optional: true }),
            },
            cacheExpiry: 60_000,
            port: server.port,
            token: testToken,
          }),
        )
        .handler(async (_event, context) => [context.url, context.maybe])
    const broken = middy()
      .use(
        extensionSecrets({
          fetchData: { gone: secret('prod/deleted') },
          cacheExpiry: 60_000,
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async () => 'unreachable')
    for (let round = 0; round < 50; round++) {
      expect(await invocation()({}, lambdaContext())).toEqual(['https://api.example.com', undefined])
      await failureOf(() => broken({}, lambdaContext()))
    }
    expect([...(storeIn()?.keys() ?? [])]).toEqual([
      expect.stringMatching(/\/systemsmanager\/parameters\/get\?name=%2Fapp%2Fapi-url/),
    ])
  })
})

describe("cacheKey in @middy/util's shared cache", () => {
  const handlerWith = (port: number, cacheKey: string) =>
    middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          cacheExpiry: -1,
          cacheKey,
          port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.url)

  test("'ssm', @middy/ssm's default, lives beside @middy/ssm's own entry without touching it", async () => {
    const server = await start()
    // What @middy/ssm keeps under its default cacheKey: an object of promises by fetchData key.
    const ssmValues = { fromSsm: Promise.resolve('ssm-value') }
    processCache({ cacheKey: 'ssm', cacheExpiry: -1 }, () => ssmValues)
    const handler = handlerWith(server.port, 'ssm')
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(1)
    expect(getCache('ssm').value).toBe(ssmValues)
    expect(Object.keys(getCache('ssm').value)).toEqual(['fromSsm'])
    expect(storeIn('ssm')?.size).toBe(1)
    // clearCache() empties both, as users expect.
    clearCache()
    expect(getCache('ssm').value).toBeUndefined()
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(2)
  })

  test("'__proto__' is an ordinary name: cached, cleared by clearCache(), no prototype touched", async () => {
    const server = await start()
    const handler = handlerWith(server.port, '__proto__')
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(1)
    expect(storeIn('__proto__')).toBeInstanceOf(Map)
    // Nothing of this package is reachable through a prototype, in the shared cache or anywhere else.
    expect(getCache('__proto__').value).not.toBeInstanceOf(Map)
    expect(getCache('some-other-middleware').value).toBeUndefined()
    expect(({} as { value?: unknown }).value).toBeUndefined()
    expect(Object.getPrototypeOf({})).toBe(Object.prototype)
    clearCache()
    expect(storeIn('__proto__')).toBeUndefined()
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(2)
  })
})

describe('durations on the monotonic clock', () => {
  const observedHandler = (port: number, events: ExtensionSecretsEvent[], extra: object = {}) =>
    middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          cacheExpiry: 200,
          port,
          token: testToken,
          onEvent: (event) => {
            events.push(event)
          },
          ...extra,
        }),
      )
      .handler(async (_event, context) => context.url)

  test('the wall clock stepped back an hour serves no value past cacheExpiry, and no age is negative', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const handler = observedHandler(server.port, events)
    await handler({}, lambdaContext())
    clocks.stepWall(-3_600_000)
    await handler({}, lambdaContext())
    expect(events.at(-1)).toMatchObject({ type: 'hit' })
    await sleep(250)
    server.setValues({ parameters: { '/app/api-url': 'https://rotated.example.com' }, secrets: {} })
    server.clearCache()
    expect(await handler({}, lambdaContext())).toBe('https://rotated.example.com')
    expect(events.at(-1)).toMatchObject({ type: 'fetched', cache: 'expired' })
    expect(server.requests).toHaveLength(2)
    for (const event of events) if ('ageMs' in event) expect(event.ageMs).toBeGreaterThanOrEqual(0)
  })

  test('the wall clock stepped forward an hour does not expire a duration', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const handler = observedHandler(server.port, events)
    await handler({}, lambdaContext())
    clocks.stepWall(3_600_000)
    await handler({}, lambdaContext())
    expect(events.at(-1)).toMatchObject({ type: 'hit' })
    expect((events.at(-1) as { ageMs: number }).ageMs).toBeLessThan(200)
    expect(server.requests).toHaveLength(1)
  })

  test('the wall clock stepped back an hour serves no stale value past maxStale', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const handler = observedHandler(server.port, events, {
      cacheExpiry: 100,
      staleIfError: { maxStale: 300 },
      deadlineMargin: 0,
    })
    await handler({}, lambdaContext())
    clocks.stepWall(-3_600_000)
    await sleep(150)
    server.setFaults([{ action: 'respond', status: 503, body: 'busy' }])
    // Within maxStale: stale, with its true age.
    expect(await handler({}, lambdaContext(100))).toBe('https://api.example.com')
    const stale = events.at(-1) as { type: string; ageMs: number }
    expect(stale.type).toBe('stale')
    expect(stale.ageMs).toBeGreaterThanOrEqual(150)
    await sleep(300)
    const error = await failureOf(() => handler({}, lambdaContext(100)))
    expect(error.errors?.[0]?.code).toMatch(/UPSTREAM_ERROR|TIMEOUT/)
    expect(events.at(-1)).toMatchObject({ type: 'failed' })
  })
})
