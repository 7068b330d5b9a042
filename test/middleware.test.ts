import { inspect } from 'node:util'
import middy from '@middy/core'
import { clearCache, getInternal } from '@middy/util'
import { afterEach, describe, expect, test } from 'vitest'
import type { Emulator } from '../src/emulator/index.js'
import { ExtensionSecretsError, extensionSecrets, parameter, secret } from '../src/index.js'
import { emulatorWith, fixtureValues, lambdaContext, secretMarker, testToken } from './helpers.js'

type DbCredentials = { username: string; password: string }

let emulator: Emulator | undefined
afterEach(async () => {
  clearCache()
  await emulator?.close()
  emulator = undefined
})

const start = async (options: Parameters<typeof emulatorWith>[0] = {}) => {
  emulator = await emulatorWith(options)
  return emulator
}

/** Runs a handler and returns its error, failing the test if it succeeded. */
const failureOf = async (run: () => Promise<unknown>): Promise<ExtensionSecretsError> => {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(ExtensionSecretsError)
    return error as ExtensionSecretsError
  }
  throw new Error('expected the invocation to fail')
}

describe('a handler written like the README example', () => {
  test('receives every value with its documented runtime shape', async () => {
    const { port } = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret<DbCredentials>('prod/db'),
            dbPassword: secret('prod/db', { field: 'password' }),
            apiUrl: parameter('/app/api-url', { parse: 'text' }),
            hosts: parameter('/app/hosts', { parse: 'list' }),
            signingKey: parameter('/app/signing-key', { parse: 'text' }),
            previous: secret('prod/api-key', { versionStage: 'AWSPREVIOUS' }),
            flags: parameter('/app/flags', { version: 3, parse: 'json' }),
            cert: secret('prod/cert', { parse: 'binary' }),
          },
          cacheExpiry: 60_000,
          port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => ({
        db: context.db,
        dbPassword: context.dbPassword,
        apiUrl: context.apiUrl,
        hosts: context.hosts,
        signingKey: context.signingKey,
        previous: context.previous,
        flags: context.flags,
        cert: context.cert,
      }))

    const result = await handler({}, lambdaContext())
    expect(result.db).toEqual({ username: 'app', password: `${secretMarker}-db-password` })
    expect(result.dbPassword).toBe(`${secretMarker}-db-password`)
    expect(result.apiUrl).toBe('https://api.example.com')
    expect(result.hosts).toEqual(['a.example.com', 'b.example.com'])
    expect(result.signingKey).toBe(`${secretMarker}-signing-key`)
    expect(result.previous).toBe(`${secretMarker}-old-key`)
    expect(result.flags).toEqual({ beta: true, dark: true })
    expect(result.cert).toBeInstanceOf(Uint8Array)
    expect([...(result.cert as Uint8Array)]).toEqual([0, 1, 2, 3, 254, 255])
  })

  test('auto parsing follows the value: StringList to array, JSON to objects, the rest as text', async () => {
    const { port } = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            hosts: parameter('/app/hosts'),
            flags: parameter('/app/flags'),
            url: parameter('/app/api-url'),
            notJson: parameter('/app/json-looking'),
            db: secret('prod/db'),
            plain: secret('prod/plain'),
            cert: secret('prod/cert'),
            labelled: parameter('/app/flags', { label: 'Prod' }),
          },
          port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => ({ ...context }))
    const context = lambdaContext()
    await handler({}, context)
    const values = context as unknown as Record<string, unknown>
    expect(values.hosts).toEqual(['a.example.com', 'b.example.com'])
    expect(values.flags).toEqual({ beta: true, dark: true })
    expect(values.url).toBe('https://api.example.com')
    expect(values.notJson).toBe('[not json')
    expect(values.db).toEqual({ username: 'app', password: `${secretMarker}-db-password` })
    expect(values.plain).toBe(`${secretMarker}-plain`)
    expect(values.cert).toBeInstanceOf(Uint8Array)
    expect(values.labelled).toEqual({ beta: true })
  })
})

describe('where values go', () => {
  test('values are on request.internal too, so getInternal works in a later middleware', async () => {
    const { port } = await start()
    let seen: Record<string, unknown> | undefined
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { db: secret('prod/db', { field: 'username' }), url: parameter('/app/api-url') },
          port,
          token: testToken,
        }),
      )
      .use({
        before: async (request) => {
          seen = await getInternal(['db', 'url'], request)
        },
      })
      .handler(async () => 'ok')
    await handler({}, lambdaContext())
    expect(seen).toEqual({ db: 'app', url: 'https://api.example.com' })
  })

  test('setToContext: false leaves the context alone', async () => {
    const { port } = await start()
    let internal: Record<string, unknown> = {}
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          setToContext: false,
          port,
          token: testToken,
        }),
      )
      .use({
        before: (request) => {
          internal = { ...request.internal }
        },
      })
      .handler(async (_event, context) => Object.hasOwn(context, 'url'))
    expect(await handler({}, lambdaContext())).toBe(false)
    expect(internal.url).toBe('https://api.example.com')
  })

  test('secrets and SecureString values are readable but kept out of JSON.stringify and util.inspect', async () => {
    const { port } = await start()
    const context = lambdaContext()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db'),
            key: parameter('/app/signing-key'),
            url: parameter('/app/api-url'),
          },
          port,
          token: testToken,
        }),
      )
      .handler(async (_event, ctx) => [(ctx.db as DbCredentials).password, ctx.key, ctx.url])
    const [password, key, url] = await handler({}, context)
    expect(password).toBe(`${secretMarker}-db-password`)
    expect(key).toBe(`${secretMarker}-signing-key`)
    expect(url).toBe('https://api.example.com')
    expect(JSON.stringify(context)).not.toContain(secretMarker)
    expect(inspect(context, { depth: 10 })).not.toContain(secretMarker)
    expect(JSON.stringify(context)).toContain('https://api.example.com')
    expect(Object.keys(context)).toContain('url')
    expect(Object.keys(context)).not.toContain('db')
  })

  test('hideSecrets: false puts every value on the context as an ordinary property', async () => {
    const { port } = await start()
    const context = lambdaContext()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { plain: secret('prod/plain') },
          hideSecrets: false,
          port,
          token: testToken,
        }),
      )
      .handler(async () => 'ok')
    await handler({}, context)
    expect(Object.keys(context)).toContain('plain')
  })
})

describe('when the extension is contacted', () => {
  test('never before the first invocation: creating the handler sends nothing', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.url)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(server.requests).toHaveLength(0)
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(1)
  })

  test('the first invocation waits through refused connections and not-ready answers', async () => {
    const server = await start({
      faults: [
        { action: 'refuse', forMs: 300 },
        { action: 'not-ready', afterMs: 300, forMs: 300 },
      ],
    })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { db: secret('prod/db', { field: 'password' }) },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.db)
    expect(await handler({}, lambdaContext(5_000))).toBe(`${secretMarker}-db-password`)
    const outcomes = server.requests.map((request) => request.outcome)
    expect(outcomes).toContain('not-ready')
    expect(outcomes.at(-1)).toBe('served')
  })

  test('identical sources referenced by several keys are fetched once per invocation', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db'),
            user: secret('prod/db', { field: 'username' }),
            password: secret('prod/db', { field: 'password' }),
            previous: secret('prod/db', { versionStage: 'AWSCURRENT' }),
          },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => [context.user, context.password])
    expect(await handler({}, lambdaContext())).toEqual(['app', `${secretMarker}-db-password`])
    // The explicit stage is another request; the three others share one.
    expect(server.requests).toHaveLength(2)
  })

  test('names with reserved URL characters and non-ASCII reach the extension exactly', async () => {
    const name = '/app/a+b&c=d#e%f g/ü€'
    const server = await start({ values: { parameters: { [name]: 'found' } } })
    const handler = middy()
      .use(extensionSecrets({ fetchData: { value: parameter(name) }, port: server.port, token: testToken }))
      .handler(async (_event, context) => context.value)
    expect(await handler({}, lambdaContext())).toBe('found')
    expect(server.requests[0]?.query.name).toBe(name)
  })
})

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
    const server = await start({ faults: [{ action: 'not-ready', forMs: 400 }] })
    const handler = cachedHandler(server.port, -1, { deadlineMargin: 0 })
    const short = handler({}, lambdaContext(150))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const long = handler({}, lambdaContext(5_000))
    const shortError = await failureOf(() => short)
    expect(shortError.errors?.map((e) => e.code)).toEqual(['EXTENSION_NOT_READY', 'EXTENSION_NOT_READY'])
    expect(await long).toBe('https://api.example.com')
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
    expect(keyError?.message).toMatch(/CloudWatch/)
    server.setValues({
      ...fixtureValues,
      secrets: { ...fixtureValues.secrets, 'prod/missing': 'arrived' },
    } as never)
    expect(await handler({}, lambdaContext())).toBe('arrived')
  })

  test('a token the extension refuses is TOKEN_REJECTED, and not retried', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: 'another-token',
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]).toMatchObject({ code: 'TOKEN_REJECTED', status: 403, attempts: 1 })
  })

  test('without AWS_SESSION_TOKEN no request is sent: TOKEN_MISSING', async () => {
    const server = await start()
    const saved = process.env.AWS_SESSION_TOKEN
    delete process.env.AWS_SESSION_TOKEN
    try {
      const handler = middy()
        .use(extensionSecrets({ fetchData: { url: parameter('/app/api-url') }, port: server.port }))
        .handler(async () => 'ok')
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
      const handler = middy()
        .use(extensionSecrets({ fetchData: { url: parameter('/app/api-url') }, port: server.port }))
        .handler(async (_event, context) => context.url)
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
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: testToken,
          deadlineMargin: 100,
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext(500)))
    const keyError = error.errors?.[0]
    expect(keyError).toMatchObject({
      code: 'EXTENSION_NOT_READY',
      status: 400,
      body: 'not ready to serve traffic, please wait',
    })
    expect(keyError?.attempts).toBeGreaterThan(1)
    expect(keyError?.elapsedMs).toBeLessThan(500)
  })

  test('no extension listening is EXTENSION_UNREACHABLE within retry.maxRetryTime', async () => {
    const server = await start()
    const { port } = server
    await server.close()
    emulator = undefined
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port,
          token: testToken,
          retry: { maxRetryTime: 200 },
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext(60_000)))
    expect(error.errors?.[0]?.code).toBe('EXTENSION_UNREACHABLE')
    expect(error.errors?.[0]?.message).toMatch(/layer attached/)
  })

  test("a hanging extension is TIMEOUT, cut to the invocation's remaining time", async () => {
    const server = await start({ faults: [{ action: 'hang' }] })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: testToken,
          deadlineMargin: 100,
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext(400)))
    expect(error.errors?.[0]?.code).toBe('TIMEOUT')
    expect(error.errors?.[0]?.elapsedMs).toBeLessThan(400)
  })

  test('retryable statuses (429, 5xx) are retried, then reported as UPSTREAM_ERROR with the status', async () => {
    const server = await start({ faults: [{ action: 'respond', status: 503, body: 'busy' }] })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: testToken,
          retry: { maxRetryTime: 150 },
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]).toMatchObject({ code: 'UPSTREAM_ERROR', status: 503, body: 'busy' })
    expect(error.errors?.[0]?.attempts).toBeGreaterThan(1)
  })

  test('a 429 for the first two requests is retried to success', async () => {
    const server = await start({
      faults: [{ action: 'respond', status: 429, body: 'Connection limit exceeded', times: 2 }],
    })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.url)
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(3)
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
    expect(error.message).toMatch(/UPSTREAM_ERROR a: /)
    expect(error.message).toMatch(/UPSTREAM_ERROR b: /)
    expect(error.message).toMatch(/PARSE_ERROR `c`/)
    expect(error.errors?.map((e) => e.key)).toEqual(['a', 'b', 'c'])
  })

  test('the deadline comes from context.lambdaContext in Middy 7 durable mode', async () => {
    const server = await start({ faults: [{ action: 'hang' }] })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: testToken,
          deadlineMargin: 50,
        }),
      )
      .handler(async () => 'ok')
    const durable = { lambdaContext: lambdaContext(300) }
    const error = await failureOf(() => handler({}, durable as never))
    expect(error.errors?.[0]?.code).toBe('TIMEOUT')
    expect(error.errors?.[0]?.elapsedMs).toBeLessThan(300)
  })
})
