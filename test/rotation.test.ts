import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { type ExtensionSecretsEvent, extensionSecrets, parameter, secret } from '../src/index.js'
import { type RefreshOnAnswer, refreshOn } from '../src/refresh-on.js'
import { failureOf, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// invalidate(), the refreshOn middleware, invalidate(keys, { refreshNow }) and versions read through
// versionStage + optional; see docs/rotation.md.

const start = useEmulator()

const rotatedKey = `${secretMarker}-rotated-key`
const rotated = (
  server: { setValues(values: never, options: { keepCache: boolean }): void },
  key = rotatedKey,
) =>
  server.setValues(
    {
      parameters: { '/app/api-url': 'https://api.example.com' },
      secrets: { 'prod/plain': key, 'prod/db': { json: { username: 'app', password: key } } },
    } as never,
    { keepCache: true },
  )

/** An error a database client throws when the password it was given is no longer the right one. */
class AuthFailure extends Error {
  readonly code = '28P01'
}

/** Each request as path and re-encoded query, in the order the emulator saw them. */
const servedPaths = (server: { requests: { path: string; query: Record<string, string> }[] }) =>
  server.requests.map((request) => `${request.path}?${new URLSearchParams(request.query)}`)

afterEach(() => {
  vi.restoreAllMocks()
})

/**
 * Invokes a handler whose secret is cached forever three times (ok, an authentication failure, ok) and
 * returns how many requests the extension got: 2 when the failure made refreshOn drop the value.
 */
const fetchesAroundAuthFailure = async (
  server: { port: number; requests: unknown[] },
  predicate: (error: unknown) => RefreshOnAnswer | Promise<RefreshOnAnswer>,
  cacheKey: string,
) => {
  const secrets = extensionSecrets({
    fetchData: { key: secret('prod/plain') },
    cacheExpiry: -1,
    cacheKey,
    port: server.port,
    token: testToken,
  })
  const handler = middy()
    .use(secrets)
    // Typed loosely: one test names a key not in fetchData, as JavaScript could.
    .use(refreshOn(secrets, predicate as (error: unknown) => RefreshOnAnswer<'key'>))
    .handler(async (event) => {
      if ((event as { fail?: boolean }).fail) throw new AuthFailure('denied')
      return 'ok'
    })
  const before = server.requests.length
  await handler({}, lambdaContext())
  // The handler's own error is what the caller gets, never the predicate's.
  await expect(handler({ fail: true }, lambdaContext())).rejects.toBeInstanceOf(AuthFailure)
  await handler({}, lambdaContext())
  return server.requests.length - before
}

describe('refresh on demand', () => {
  test('refreshOn fires on the handler error and the next invocation gets the rotated secret', async () => {
    const server = await start({ cacheEnabled: false })
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain'), url: parameter('/app/api-url') },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    let accepted = `${secretMarker}-plain`
    const handler = middy()
      .use(middleware)
      .use(refreshOn(middleware, (error) => (error instanceof AuthFailure ? ['key'] : false)))
      .handler(async (_event, context) => {
        if (context.key !== accepted) throw new AuthFailure('password authentication failed')
        return context.key
      })
    expect(await handler({}, lambdaContext())).toBe(accepted)
    rotated(server)
    accepted = rotatedKey
    // Still cached: the handler fails once with the old value, which triggers the refresh.
    await expect(handler({}, lambdaContext())).rejects.toBeInstanceOf(AuthFailure)
    expect(await handler({}, lambdaContext())).toBe(rotatedKey)
    // Only the listed key was fetched again; the parameter stayed cached.
    expect(servedPaths(server).filter((path) => path.includes('parameters'))).toHaveLength(1)
    expect(servedPaths(server).filter((path) => path.includes('secretsmanager'))).toHaveLength(2)
  })

  test('refreshOn answering true drops every key; false or another error drops nothing', async () => {
    const server = await start()
    const secrets = extensionSecrets({
      fetchData: { key: secret('prod/plain'), url: parameter('/app/api-url') },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(secrets)
      .use(refreshOn(secrets, (error) => error instanceof AuthFailure))
      .handler(async (input) => {
        const event = input as { fail?: 'auth' | 'other' }
        if (event.fail === 'auth') throw new AuthFailure('denied')
        if (event.fail === 'other') throw new Error('unrelated')
        return 'ok'
      })
    await handler({}, lambdaContext())
    await expect(handler({ fail: 'other' }, lambdaContext())).rejects.toThrow('unrelated')
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(2)
    await expect(handler({ fail: 'auth' }, lambdaContext())).rejects.toBeInstanceOf(AuthFailure)
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(4)
  })

  test('refreshOn must run before @middy/http-error-handler turns the error into a response', async () => {
    const server = await start()
    const seen: unknown[] = []
    const make = (order: 'secrets-last' | 'secrets-first') => {
      const secrets = extensionSecrets({
        fetchData: { key: secret('prod/plain') },
        cacheExpiry: -1,
        cacheKey: order,
        port: server.port,
        token: testToken,
      })
      const refresh = refreshOn(secrets, (error) => {
        seen.push(error)
        return error instanceof AuthFailure
      })
      const errors = httpErrorHandler({ logger: false })
      // onError hooks run in reverse order of use(): the middleware used last sees the error first.
      const chain =
        order === 'secrets-last'
          ? middy().use(errors).use(secrets).use(refresh)
          : middy().use(secrets).use(refresh).use(errors)
      return chain.handler(async (event) => {
        if ((event as { fail?: boolean }).fail) throw new AuthFailure('denied')
        return { statusCode: 200 }
      })
    }
    for (const order of ['secrets-last', 'secrets-first'] as const) {
      const handler = make(order)
      const before = server.requests.length
      await handler({}, lambdaContext())
      const response = await handler({ fail: true }, lambdaContext())
      expect(response).toMatchObject({ statusCode: 500 })
      await handler({}, lambdaContext())
      const fetches = server.requests.length - before
      if (order === 'secrets-last') {
        expect(seen.at(-1)).toBeInstanceOf(AuthFailure)
        expect(fetches).toBe(2)
      } else {
        // The error handler replaced the error with a plain { statusCode: 500 } object: no refresh.
        expect(seen.at(-1)).not.toBeInstanceOf(AuthFailure)
        expect(fetches).toBe(1)
      }
    }
  })

  test('a refreshOn that throws or names an unknown key refreshes every key, with a warning', async () => {
    const server = await start()
    const warnings: string[] = []
    vi.spyOn(process, 'emitWarning').mockImplementation(((message: string) => {
      warnings.push(message)
    }) as never)
    for (const predicate of [
      () => {
        throw new Error('bug in the predicate')
      },
      () => ['nope'],
    ]) {
      expect(await fetchesAroundAuthFailure(server, predicate, `refresh-${warnings.length}`)).toBe(2)
    }
    expect(warnings).toEqual([
      expect.stringContaining("refreshOn's predicate failed (Error); every key is refreshed"),
      expect.stringContaining('refreshOn answered a key not in fetchData; every key is refreshed'),
    ])
    // Neither message carries what the predicate said or threw.
    expect(warnings.join(' ')).not.toMatch(/bug in the predicate|nope/)
  })

  test('an async refreshOn is awaited; one that rejects refreshes every key, with a warning', async () => {
    const server = await start()
    const warnings: string[] = []
    vi.spyOn(process, 'emitWarning').mockImplementation(((message: string) => {
      warnings.push(message)
    }) as never)
    for (const [round, predicate] of [
      async (error: unknown) => (error instanceof AuthFailure ? ['key'] : false),
      async () => {
        throw new Error('lookup failed')
      },
    ].entries()) {
      expect(await fetchesAroundAuthFailure(server, predicate, `async-${round}`)).toBe(2)
    }
    expect(warnings).toEqual([
      expect.stringContaining("refreshOn's predicate failed (Error); every key is refreshed"),
    ])
  })

  test("this package's own failures are not the handler's: refreshOn leaves the cache alone", async () => {
    const server = await start()
    const seen: unknown[] = []
    const secrets = extensionSecrets({
      fetchData: { key: secret('prod/plain'), gone: secret('prod/deleted', { optional: true }) },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(secrets)
      .use(
        refreshOn(secrets, (error) => {
          seen.push(error)
          return true
        }),
      )
      .handler(async () => 'ok')
    await handler({}, lambdaContext())
    server.setValues({ parameters: {}, secrets: {} } as never)
    server.clearCache()
    secrets.invalidate(['key'])
    await failureOf(() => handler({}, lambdaContext()))
    expect(seen).toEqual([])
  })

  test('refreshOn refuses what is not a middleware or a predicate, at creation', () => {
    const secrets = extensionSecrets({ fetchData: { key: secret('prod/plain') }, token: testToken })
    expect(() => refreshOn({} as never, () => true)).toThrow(TypeError)
    expect(() => refreshOn(secrets, ['key'] as never)).toThrow(TypeError)
  })

  test('invalidate(keys) from the handler drops those keys; invalidate() drops all', async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain'), url: parameter('/app/api-url') },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async (input) => {
        const event = input as { drop?: 'key' | 'all' }
        if (event.drop === 'key') middleware.invalidate(['key'])
        if (event.drop === 'all') middleware.invalidate()
        return 'ok'
      })
    await handler({ drop: 'key' }, lambdaContext())
    await handler({}, lambdaContext())
    expect(servedPaths(server)).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain',
      '/systemsmanager/parameters/get?name=%2Fapp%2Fapi-url&withDecryption=true',
      '/secretsmanager/get?secretId=prod%2Fplain',
    ])
    await handler({ drop: 'all' }, lambdaContext())
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(5)
  })

  test('invalidate() right after creation, before any invocation, drops nothing and throws nothing', async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain') },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    // Called in the same turn as the creation: the cache's module has not loaded yet.
    expect(() => middleware.invalidate(['key'], { refreshNow: true })).not.toThrow()
    const handler = middy()
      .use(middleware)
      .handler(async (_event, context) => context.key)
    expect(await handler({}, lambdaContext())).toBe(`${secretMarker}-plain`)
    expect(servedPaths(server)).toEqual(['/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true'])
  })

  test('invalidate() rejects a key that is not in fetchData', () => {
    const middleware = extensionSecrets({ fetchData: { key: secret('prod/plain') }, token: testToken })
    expect(() => middleware.invalidate(['nope' as never])).toThrow(
      new TypeError('middy-extension-secrets: `invalidate(keys)` names "nope", not a fetchData key (key)'),
    )
    expect(() => middleware.invalidate('key' as never)).toThrow(TypeError)
  })

  test('a fetch in flight when invalidate() is called does not put its value back in the cache', async () => {
    const server = await start({ faults: [{ action: 'delay', ms: 100, times: 1 }] })
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain') },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, context) => context.key)
    const first = handler({}, lambdaContext())
    await new Promise((resolve) => setTimeout(resolve, 20))
    middleware.invalidate()
    await first
    await handler({}, lambdaContext())
    expect(server.requests).toHaveLength(2)
  })
})

describe("past the extension's own cache", () => {
  test('by default a refresh after rotation still gets the value the layer cached', async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain') },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, context) => context.key)
    await handler({}, lambdaContext())
    rotated(server)
    middleware.invalidate()
    expect(await handler({}, lambdaContext())).toBe(`${secretMarker}-plain`)
    expect(server.requests.at(-1)?.cached).toBe(true)
    expect(server.requests.at(-1)?.query).not.toHaveProperty('refreshNow')
  })

  test('invalidate(keys, { refreshNow: true }) sends refreshNow=true once, on the next fetch of those secrets', async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: {
        key: secret('prod/plain'),
        other: secret('prod/db'),
        url: parameter('/app/api-url'),
      },
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, context) => context.key)
    await handler({}, lambdaContext())
    middleware.invalidate(['key', 'url'], { refreshNow: true })
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    const keyPaths = servedPaths(server).filter((path) => path.includes('prod%2Fplain'))
    expect(keyPaths).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain',
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain',
    ])
    // Only the secrets named: not the other secret, and parameters have no such switch.
    expect(servedPaths(server).filter((path) => path.includes('refreshNow'))).toHaveLength(1)
  })

  test('reaches versions read by stage, not one pinned by version id', async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: {
        key: secret('prod/api-key'),
        previous: secret('prod/api-key', { versionStage: 'AWSPREVIOUS', optional: true }),
        pending: secret('prod/api-key', { versionStage: 'AWSPENDING', optional: true }),
        pinned: secret('prod/api-key', { versionId: 'no-such-version', optional: true }),
      },
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async () => 'ok')
    middleware.invalidate(undefined, { refreshNow: true })
    await handler({}, lambdaContext())
    expect(servedPaths(server).sort()).toEqual([
      '/secretsmanager/get?secretId=prod%2Fapi-key&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fapi-key&versionId=no-such-version',
      '/secretsmanager/get?secretId=prod%2Fapi-key&versionStage=AWSPENDING&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fapi-key&versionStage=AWSPREVIOUS&refreshNow=true',
    ])
  })

  test('the bypass stays until a fetch succeeds', async () => {
    const server = await start({
      faults: [{ action: 'respond', status: 403, body: 'Bad Token', times: 1 }],
    })
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain') },
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async () => 'ok')
    middleware.invalidate(['key'], { refreshNow: true })
    await failureOf(() => handler({}, lambdaContext()))
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(servedPaths(server)).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain',
    ])
  })

  test('an invalidate(…, { refreshNow }) during the bypassing fetch keeps the bypass for the next one', async () => {
    const server = await start({ faults: [{ action: 'delay', ms: 100, times: 1 }] })
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain') },
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async () => 'ok')
    middleware.invalidate(undefined, { refreshNow: true })
    const first = handler({}, lambdaContext())
    await new Promise((resolve) => setTimeout(resolve, 30))
    middleware.invalidate(undefined, { refreshNow: true })
    await first
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(servedPaths(server)).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain',
    ])
  })

  test('refreshOn(…, { refreshNow: true }) makes the refresh it triggers skip the agent’s cache', async () => {
    const server = await start()
    const secrets = extensionSecrets({
      fetchData: { key: secret('prod/plain') },
      cacheExpiry: -1,
      port: server.port,
      token: testToken,
    })
    const handler = middy()
      .use(secrets)
      .use(refreshOn(secrets, (error) => error instanceof AuthFailure, { refreshNow: true }))
      .handler(async (event) => {
        if ((event as { fail?: boolean }).fail) throw new AuthFailure('denied')
        return 'ok'
      })
    await handler({}, lambdaContext())
    await expect(handler({ fail: true }, lambdaContext())).rejects.toBeInstanceOf(AuthFailure)
    await handler({}, lambdaContext())
    expect(servedPaths(server)).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain',
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
    ])
  })
})

describe('versions by stage, each an optional key', () => {
  const stagedValues = (pending: boolean) => ({
    secrets: {
      'prod/db': {
        versions: [
          { stages: ['AWSPREVIOUS'], json: { username: 'app', password: `${secretMarker}-old` } },
          { stages: ['AWSCURRENT'], json: { username: 'app', password: `${secretMarker}-new` } },
          ...(pending
            ? [{ stages: ['AWSPENDING'], json: { username: 'app', password: `${secretMarker}-next` } }]
            : []),
        ],
      },
    },
  })

  const stagedHandler = (port: number, events: ExtensionSecretsEvent[]) =>
    middy()
      .use(
        extensionSecrets({
          fetchData: {
            current: secret('prod/db', { field: 'password' }),
            previous: secret('prod/db', { versionStage: 'AWSPREVIOUS', field: 'password', optional: true }),
            pending: secret('prod/db', { versionStage: 'AWSPENDING', field: 'password', optional: true }),
          },
          port,
          token: testToken,
          onEvent: (event) => {
            events.push(event)
          },
        }),
      )
      .handler(async (_event, context) => ({
        current: context.current,
        previous: context.previous,
        pending: context.pending,
      }))

  test('current, previous and pending mid-rotation, one request each', async () => {
    const server = await start({ values: stagedValues(true) as never })
    const value = await stagedHandler(server.port, [])({}, lambdaContext())
    expect(value).toEqual({
      current: `${secretMarker}-new`,
      previous: `${secretMarker}-old`,
      pending: `${secretMarker}-next`,
    })
    expect(servedPaths(server).sort()).toEqual([
      '/secretsmanager/get?secretId=prod%2Fdb',
      '/secretsmanager/get?secretId=prod%2Fdb&versionStage=AWSPENDING',
      '/secretsmanager/get?secretId=prod%2Fdb&versionStage=AWSPREVIOUS',
    ])
  })

  test('a stage that does not exist is undefined, with a missing event, not a failure; and is asked again', async () => {
    const server = await start({ values: stagedValues(false) as never })
    const events: ExtensionSecretsEvent[] = []
    const handler = stagedHandler(server.port, events)
    const value = await handler({}, lambdaContext())
    expect(value).toEqual({
      current: `${secretMarker}-new`,
      previous: `${secretMarker}-old`,
      pending: undefined,
    })
    expect(events).toContainEqual({
      type: 'missing',
      key: 'pending',
      source: 'secret',
      name: 'prod/db',
      code: 'UPSTREAM_ERROR',
      status: 400,
      attempts: 1,
      elapsedMs: expect.any(Number),
    })
    // A missing value is not cached: once rotation stages it, the next invocation has it.
    server.setValues(stagedValues(true) as never)
    expect(await handler({}, lambdaContext())).toMatchObject({ pending: `${secretMarker}-next` })
  })

  test('a refused token fails every version, optional ones included: it is not a missing value', async () => {
    const server = await start({
      values: stagedValues(true) as never,
      faults: [{ action: 'respond', status: 403, body: 'Bad Token', match: { name: 'prod/db' } }],
    })
    const events: ExtensionSecretsEvent[] = []
    const error = await failureOf(() => stagedHandler(server.port, events)({}, lambdaContext()))
    expect(error.code).toBe('FETCH_FAILED')
    expect(error.errors?.map((each) => [each.key, each.code]).sort()).toEqual([
      ['current', 'TOKEN_REJECTED'],
      ['pending', 'TOKEN_REJECTED'],
      ['previous', 'TOKEN_REJECTED'],
    ])
    expect(events.filter((event) => event.type === 'missing')).toEqual([])
  })

  test('a 429 or a 5xx on an optional version is a failure, not a missing value', async () => {
    for (const status of [429, 503]) {
      const server = await start({
        values: stagedValues(true) as never,
        faults: [{ action: 'respond', status, body: 'busy', match: { name: 'prod/db' } }],
      })
      const events: ExtensionSecretsEvent[] = []
      await failureOf(() => stagedHandler(server.port, events)({}, lambdaContext(500)))
      expect(events.filter((event) => event.type === 'missing')).toEqual([])
      expect(events.filter((event) => event.type === 'failed')).toHaveLength(3)
    }
  })

  test('an optional parameter (a flag not created yet) is undefined until it exists', async () => {
    const server = await start()
    const events: ExtensionSecretsEvent[] = []
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { flag: parameter('/app/new-flag', { parse: 'text', optional: true }) },
          cacheExpiry: 60_000,
          port: server.port,
          token: testToken,
          onEvent: (event) => {
            events.push(event)
          },
        }),
      )
      .handler(async (_event, context) => context.flag)
    expect(await handler({}, lambdaContext())).toBeUndefined()
    expect(events.at(-1)).toMatchObject({ type: 'missing', key: 'flag', source: 'parameter', status: 400 })
    server.setValues({ parameters: { '/app/new-flag': 'on' }, secrets: {} })
    expect(await handler({}, lambdaContext())).toBe('on')
    expect(await handler({}, lambdaContext())).toBe('on')
    expect(events.map((event) => event.type)).toEqual(['missing', 'fetched', 'hit'])
  })

  test('keys for the same version share one request', async () => {
    const server = await start({ values: stagedValues(true) as never })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db'),
            username: secret('prod/db', { field: 'username' }),
            previous: secret('prod/db', { versionStage: 'AWSPREVIOUS', optional: true }),
          },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => [context.db, context.previous, context.username])
    const [current, previous, username] = (await handler({}, lambdaContext())) as unknown[]
    expect(current).toEqual({ username: 'app', password: `${secretMarker}-new` })
    expect(previous).toEqual({ username: 'app', password: `${secretMarker}-old` })
    expect(username).toBe('app')
    expect(server.requests).toHaveLength(2)
  })
})
