import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { type ExtensionSecretsEvent, extensionSecrets, parameter, secret } from '../src/index.js'
import { lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// invalidate(), refreshOn, bypassExtensionCache and stages; see docs/rotation.md.

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
  refreshOn: (error: unknown) => unknown,
  cacheKey: string,
) => {
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData: { key: secret('prod/plain') },
        cacheExpiry: -1,
        cacheKey,
        port: server.port,
        token: testToken,
        refreshOn: refreshOn as never,
      }),
    )
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
      refreshOn: (error) => (error instanceof AuthFailure ? ['key'] : false),
    })
    let accepted = `${secretMarker}-plain`
    const handler = middy()
      .use(middleware)
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
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { key: secret('prod/plain'), url: parameter('/app/api-url') },
          cacheExpiry: -1,
          port: server.port,
          token: testToken,
          refreshOn: (error) => error instanceof AuthFailure,
        }),
      )
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
        refreshOn: (error) => {
          seen.push(error)
          return error instanceof AuthFailure
        },
      })
      const errors = httpErrorHandler({ logger: false })
      // onError hooks run in reverse order of use(): the middleware used last sees the error first.
      const chain =
        order === 'secrets-last' ? middy().use(errors).use(secrets) : middy().use(secrets).use(errors)
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
    for (const refreshOn of [
      () => {
        throw new Error('bug in the predicate')
      },
      () => ['nope'] as never,
    ]) {
      expect(await fetchesAroundAuthFailure(server, refreshOn, `refresh-${warnings.length}`)).toBe(2)
    }
    expect(warnings).toEqual([
      expect.stringContaining('refreshOn threw (Error); every key is refreshed'),
      expect.stringContaining('refreshOn named a key that is not in fetchData'),
    ])
  })

  test('an async refreshOn is awaited; one that rejects refreshes every key, with a warning', async () => {
    const server = await start()
    const warnings: string[] = []
    vi.spyOn(process, 'emitWarning').mockImplementation(((message: string) => {
      warnings.push(message)
    }) as never)
    for (const [round, refreshOn] of [
      async (error: unknown) => (error instanceof AuthFailure ? ['key'] : false),
      async () => {
        throw new Error('lookup failed')
      },
    ].entries()) {
      expect(await fetchesAroundAuthFailure(server, refreshOn, `async-${round}`)).toBe(2)
    }
    expect(warnings).toEqual([expect.stringContaining('refreshOn threw (Error); every key is refreshed')])
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

  test('invalidate() rejects a key that is not in fetchData', () => {
    const middleware = extensionSecrets({ fetchData: { key: secret('prod/plain') }, token: testToken })
    expect(() => middleware.invalidate(['nope' as never])).toThrow(
      new TypeError(
        'middy-extension-secrets: `invalidate(keys)` names "nope", which is not a fetchData key; keys: key',
      ),
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
  })

  test("bypassExtensionCache 'versionStage' asks for AWSCURRENT explicitly from the first refresh on", async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain'), url: parameter('/app/api-url') },
      cacheExpiry: 50,
      port: server.port,
      token: testToken,
      bypassExtensionCache: 'versionStage',
    })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, context) => context.key)
    await handler({}, lambdaContext())
    rotated(server)
    middleware.invalidate()
    expect(await handler({}, lambdaContext())).toBe(rotatedKey)
    // Later fetches keep the explicit form: going back would meet the layer's older cached answer.
    await new Promise((resolve) => setTimeout(resolve, 70))
    expect(await handler({}, lambdaContext())).toBe(rotatedKey)
    const secretPaths = servedPaths(server).filter((path) => path.includes('secretsmanager'))
    expect(secretPaths).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain',
      '/secretsmanager/get?secretId=prod%2Fplain&versionStage=AWSCURRENT',
      '/secretsmanager/get?secretId=prod%2Fplain&versionStage=AWSCURRENT',
    ])
    // Parameters have no such selector: asked for as before.
    expect(
      servedPaths(server)
        .filter((path) => path.includes('parameters'))
        .every((path) => !path.includes('Stage')),
    ).toBe(true)
  })

  test("bypassExtensionCache 'refreshNow' sends refreshNow=true once, on the fetch after invalidate()", async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: {
        key: secret('prod/plain'),
        pinned: secret('prod/api-key', { versionStage: 'AWSPREVIOUS' }),
      },
      port: server.port,
      token: testToken,
      bypassExtensionCache: 'refreshNow',
    })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, context) => context.key)
    await handler({}, lambdaContext())
    middleware.invalidate()
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    const keyPaths = servedPaths(server).filter((path) => path.includes('prod%2Fplain'))
    expect(keyPaths).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain',
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain',
    ])
    // A secret pinned to a version or stage is never sent a bypass.
    expect(servedPaths(server).filter((path) => path.includes('refreshNow'))).toHaveLength(1)
  })
})

describe('the refreshNow bypass, more', () => {
  test('reaches every stage of a staged secret', async () => {
    const server = await start()
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/api-key', { stages: ['previous'] }) },
      port: server.port,
      token: testToken,
      bypassExtensionCache: 'refreshNow',
    })
    const handler = middy()
      .use(middleware)
      .handler(async () => 'ok')
    middleware.invalidate()
    await handler({}, lambdaContext())
    expect(servedPaths(server).sort()).toEqual([
      '/secretsmanager/get?secretId=prod%2Fapi-key&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fapi-key&versionStage=AWSPREVIOUS&refreshNow=true',
    ])
  })

  test('an invalidate() during the bypassing fetch keeps the bypass for the next one', async () => {
    const server = await start({ faults: [{ action: 'delay', ms: 100, times: 1 }] })
    const middleware = extensionSecrets({
      fetchData: { key: secret('prod/plain') },
      port: server.port,
      token: testToken,
      bypassExtensionCache: 'refreshNow',
    })
    const handler = middy()
      .use(middleware)
      .handler(async () => 'ok')
    middleware.invalidate()
    const first = handler({}, lambdaContext())
    await new Promise((resolve) => setTimeout(resolve, 30))
    middleware.invalidate()
    await first
    await handler({}, lambdaContext())
    await handler({}, lambdaContext())
    expect(servedPaths(server)).toEqual([
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain&refreshNow=true',
      '/secretsmanager/get?secretId=prod%2Fplain',
    ])
  })
})

describe('stages', () => {
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
          fetchData: { db: secret('prod/db', { stages: ['previous', 'pending'], field: 'password' }) },
          port,
          token: testToken,
          onEvent: (event) => {
            events.push(event)
          },
        }),
      )
      .handler(async (_event, context) => context.db)

  test('a secret with stages yields { current, previous, pending } mid-rotation', async () => {
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

  test('a stage that does not exist is left out, with an event, not a failure', async () => {
    const server = await start({ values: stagedValues(false) as never })
    const events: ExtensionSecretsEvent[] = []
    const value = await stagedHandler(server.port, events)({}, lambdaContext())
    expect(value).toEqual({ current: `${secretMarker}-new`, previous: `${secretMarker}-old` })
    expect(Object.hasOwn(value as object, 'pending')).toBe(false)
    expect(events).toContainEqual({
      type: 'stage-missing',
      key: 'db',
      source: 'secret',
      name: 'prod/db',
      stage: 'pending',
      status: 400,
    })
  })

  test('a current version that fails still fails the key, and so does a stage that is not merely absent', async () => {
    const server = await start({
      values: stagedValues(true) as never,
      faults: [{ action: 'respond', status: 403, body: 'Bad Token', match: { name: 'prod/db' }, times: 1 }],
    })
    await expect(stagedHandler(server.port, [])({}, lambdaContext())).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      errors: [expect.objectContaining({ code: 'TOKEN_REJECTED', key: 'db' })],
    })
  })

  test('stages share the current request with a plain entry for the same secret', async () => {
    const server = await start({ values: stagedValues(true) as never })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db', { stages: ['previous'] }),
            plain: secret('prod/db', { field: 'username' }),
          },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => [context.db.current, context.db.previous, context.plain])
    const [current, previous, username] = (await handler({}, lambdaContext())) as unknown[]
    expect(current).toEqual({ username: 'app', password: `${secretMarker}-new` })
    expect(previous).toEqual({ username: 'app', password: `${secretMarker}-old` })
    expect(username).toBe('app')
    expect(server.requests).toHaveLength(2)
  })
})
