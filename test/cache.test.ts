import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { describe, expect, test } from 'vitest'
import { extensionSecrets, parameter, secret } from '../src/index.js'
import { failureOf, fixtureValues, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// cacheExpiry, clearCache(), shared in-flight fetches; see docs/decisions/0003-cache.md.

const start = useEmulator()

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

  test('a cacheExpiry above 24 h is an absolute Unix-ms time', async () => {
    const server = await start()
    const past = cachedHandler(server.port, Date.now() - 1, { cacheKey: 'absolute-past' })
    await past({}, lambdaContext())
    await past({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
    const future = cachedHandler(server.port, Date.now() + 3_600_000, { cacheKey: 'absolute-future' })
    await future({}, lambdaContext())
    await future({}, lambdaContext())
    expect(server.requests).toHaveLength(6)
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

  test('an instance with a short cacheExpiry does not reuse the entries of one that caches forever', async () => {
    const server = await start()
    const forever = cachedHandler(server.port, -1)
    const short = cachedHandler(server.port, 30)
    await forever({}, lambdaContext())
    await short({}, lambdaContext())
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
})
