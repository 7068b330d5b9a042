import middy from '@middy/core'
import { describe, expect, test } from 'vitest'
import { extensionSecrets, parameter, secret } from '../src/index.js'
import { failureOf, fixtureValues, lambdaContext, testToken, urlHandler, useEmulator } from './helpers.js'

// Every error code the middleware reports, and the readiness budget.

const start = useEmulator()

describe('failures', () => {
  test('an unknown secret fails fast with FETCH_FAILED naming the key, and a later invocation succeeds once it exists', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url'), missing: secret('prod/missing') },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.missing)
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.code).toBe('FETCH_FAILED')
    expect(error.message).toContain('missing')
    expect(error.message).toContain('UPSTREAM_ERROR')
    const [keyError] = error.errors ?? []
    expect(keyError).toMatchObject({
      code: 'UPSTREAM_ERROR',
      key: 'missing',
      source: 'secret',
      sourceName: 'prod/missing',
      status: 400,
      attempts: 1,
    })
    expect(keyError?.body).toBe('an unexpected error occurred while executing request')
    // The layer's generic 400 hides the cause: the reason points to the function's logs.
    expect(keyError?.message).toMatch(/not found, denied or throttled upstream \(see the function's logs\)/)
    server.setValues({
      ...fixtureValues,
      secrets: { ...fixtureValues.secrets, 'prod/missing': 'arrived' },
    } as never)
    expect(await handler({}, lambdaContext())).toBe('arrived')
  })

  test.each([
    ['layer', 401, 'Bad session token or header key'],
    ['agent', 403, 'Bad Token'],
  ] as const)(
    'a token the %s refuses (%i) is TOKEN_REJECTED, and not retried',
    async (flavour, status, body) => {
      const server = await start({ flavour })
      const handler = middy()
        .use(
          extensionSecrets({
            fetchData: { key: secret('prod/plain') },
            port: server.port,
            token: 'another-token',
          }),
        )
        .handler(async (_event: unknown, context) => context.key)
      const error = await failureOf(() => handler({}, lambdaContext()))
      expect(error.errors?.[0]).toMatchObject({ code: 'TOKEN_REJECTED', status, body, attempts: 1 })
    },
  )

  test('without AWS_SESSION_TOKEN no request is sent: TOKEN_MISSING', async () => {
    const server = await start()
    const saved = process.env.AWS_SESSION_TOKEN
    delete process.env.AWS_SESSION_TOKEN
    try {
      const handler = urlHandler(server.port, { token: undefined })
      const error = await failureOf(() => handler({}, lambdaContext()))
      expect(error.errors?.[0]).toMatchObject({ code: 'TOKEN_MISSING', attempts: 0 })
      expect(server.requests).toHaveLength(0)
    } finally {
      if (saved !== undefined) process.env.AWS_SESSION_TOKEN = saved
    }
  })

  test('AWS_SESSION_TOKEN is read when the request is made', async () => {
    const server = await start()
    const saved = process.env.AWS_SESSION_TOKEN
    delete process.env.AWS_SESSION_TOKEN
    try {
      const handler = urlHandler(server.port, { token: undefined })
      process.env.AWS_SESSION_TOKEN = testToken
      expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
      expect(server.requests[0]?.tokenAccepted).toBe(true)
    } finally {
      if (saved === undefined) delete process.env.AWS_SESSION_TOKEN
      else process.env.AWS_SESSION_TOKEN = saved
    }
  })

  test('an extension that never gets ready fails with EXTENSION_NOT_READY before the function would time out', async () => {
    const server = await start({ faults: [{ action: 'not-ready' }] })
    const handler = urlHandler(server.port, { deadlineMargin: 100 })
    const error = await failureOf(() => handler({}, lambdaContext(500)))
    const keyError = error.errors?.[0]
    expect(keyError).toMatchObject({
      code: 'EXTENSION_NOT_READY',
      status: 400,
      body: 'not ready to serve traffic, please wait',
    })
    expect(keyError?.attempts).toBeGreaterThan(1)
    // Far below the 10 s retry budget: the invocation's deadline ended the wait. The exact time is not
    // asserted, since a busy machine fires timers late.
    expect(keyError?.elapsedMs).toBeLessThan(3_000)
  })

  test('no extension listening is EXTENSION_UNREACHABLE within retry.maxRetryTime', async () => {
    const server = await start()
    const { port } = server
    await server.close()
    const handler = urlHandler(port, { retry: { maxRetryTime: 200 } })
    const error = await failureOf(() => handler({}, lambdaContext(60_000)))
    expect(error.errors?.[0]?.code).toBe('EXTENSION_UNREACHABLE')
    expect(error.errors?.[0]?.message).toMatch(/layer attached/)
  })

  test("a hanging extension is TIMEOUT, cut to the invocation's remaining time", async () => {
    const server = await start({ faults: [{ action: 'hang' }] })
    const handler = urlHandler(server.port, { deadlineMargin: 100 })
    const error = await failureOf(() => handler({}, lambdaContext(400)))
    expect(error.errors?.[0]?.code).toBe('TIMEOUT')
    // Far below the 10 s retry budget: the invocation's deadline ended the wait. The exact time is not
    // asserted, since a busy machine fires timers late.
    expect(error.errors?.[0]?.elapsedMs).toBeLessThan(3_000)
  })

  test('retryable statuses (429, 5xx) are retried, then reported as UPSTREAM_ERROR with the status', async () => {
    const server = await start({ faults: [{ action: 'respond', status: 503, body: 'busy' }] })
    const handler = urlHandler(server.port, { retry: { maxRetryTime: 150 } })
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]).toMatchObject({ code: 'UPSTREAM_ERROR', status: 503, body: 'busy' })
    expect(error.errors?.[0]?.attempts).toBeGreaterThan(1)
  })

  test('a 429 for the first two requests is retried to success', async () => {
    const server = await start({
      faults: [{ action: 'respond', status: 429, body: 'Connection limit exceeded', times: 2 }],
    })
    const handler = urlHandler(server.port)
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(3)
  })

  test('a field of a binary secret is a PARSE_ERROR, not a byte', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { cert: secret('prod/cert', { field: '2' }) },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]).toMatchObject({ code: 'PARSE_ERROR', key: 'cert' })
    expect(error.errors?.[0]?.message).toContain("field '2' needs a JSON value")
  })

  test('every failed key is listed in the FETCH_FAILED message with its code', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            a: secret('prod/none'),
            b: parameter('/app/none'),
            c: parameter('/app/api-url', { parse: 'json' }),
            d: parameter('/app/api-url'),
          },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.message).toMatch(/failed to fetch 3 of 4 values/)
    expect(error.message).toContain('UPSTREAM_ERROR a (secret "prod/none"): ')
    expect(error.message).toContain('UPSTREAM_ERROR b (parameter "/app/none"): ')
    expect(error.message).toContain('PARSE_ERROR c (parameter "/app/api-url"): the value is not valid JSON')
    expect(error.errors?.map((e) => e.key)).toEqual(['a', 'b', 'c'])
  })

  test('the deadline comes from context.lambdaContext in Middy 7 durable mode', async () => {
    const server = await start({ faults: [{ action: 'hang' }] })
    const handler = urlHandler(server.port, { deadlineMargin: 50 })
    const durable = { lambdaContext: lambdaContext(300) }
    const error = await failureOf(() => handler({}, durable as never))
    expect(error.errors?.[0]?.code).toBe('TIMEOUT')
    // Far below the 10 s retry budget: the invocation's deadline ended the wait. The exact time is not
    // asserted, since a busy machine fires timers late.
    expect(error.errors?.[0]?.elapsedMs).toBeLessThan(3_000)
  })
})
