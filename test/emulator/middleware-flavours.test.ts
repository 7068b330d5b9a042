import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createAccount, type EmulatorValues } from '../../src/emulator/index.js'
import { extensionSecrets, secret } from '../../src/index.js'
import { fixtureValues, lambdaContext, testToken } from '../helpers.js'
import { emulate } from './helpers.js'

// The middleware end to end against each flavour: the README example, and the refreshNow bypass that
// only the agent understands.

afterEach(() => {
  clearCache()
  // The example reads the port when its module loads: each flavour gets a fresh module.
  vi.resetModules()
  delete process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
})

const readmeValues: EmulatorValues = {
  parameters: {
    '/app/api-url': 'https://api.example.com',
    '/app/hosts': { type: 'StringList' as const, value: ['a.example.com', 'b.example.com'] },
    '/app/signing-key': { type: 'SecureString' as const, value: 'signing-key' },
    '/app/flags': { versions: ['{"beta":false}', '{"beta":true}', '{"beta":true,"dark":true}'] },
  },
  secrets: {
    ...(fixtureValues.secrets as EmulatorValues['secrets']),
    'prod/db': { json: { username: 'app', password: 'test-only' } },
  },
}

describe('the README example', () => {
  it('runs against the layer flavour', async () => {
    const emulator = await emulate({ values: readmeValues, token: testToken })
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
    const saved = process.env.AWS_SESSION_TOKEN
    process.env.AWS_SESSION_TOKEN = testToken
    try {
      const { handler } = await import('../../examples/handler.js')
      expect(await handler({}, lambdaContext())).toMatchObject({
        user: 'app',
        apiUrl: 'https://api.example.com',
      })
    } finally {
      restoreToken(saved)
    }
  })

  it('against the agent flavour, reads its secrets and fails only its parameters, which the agent does not serve', async () => {
    const emulator = await emulate({ flavour: 'agent', values: readmeValues, token: testToken })
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
    const saved = process.env.AWS_SESSION_TOKEN
    process.env.AWS_SESSION_TOKEN = testToken
    try {
      const { handler } = await import('../../examples/handler.js')
      const error = (await handler({}, lambdaContext()).catch((caught: unknown) => caught)) as {
        errors?: { key: string; status?: number }[]
      }
      const failed = error.errors?.map((inner) => inner.key).sort()
      expect(failed).toEqual(['apiUrl', 'flags', 'hosts', 'signingKey'])
      expect(new Set(error.errors?.map((inner) => inner.status))).toEqual(new Set([404]))
      const served = emulator.requests
        .filter((request) => request.status === 200)
        .map((request) => request.query.secretId)
      expect(new Set(served)).toEqual(new Set(['prod/db', 'prod/api-key', 'prod/cert']))
    } finally {
      restoreToken(saved)
    }
  })
})

describe("the middleware's refreshNow bypass against the agent", () => {
  it('gets the rotated secret past the agent cache after invalidate()', async () => {
    const emulator = await emulate({
      flavour: 'agent',
      token: testToken,
      values: { secrets: { key: 'first' } },
    })
    const middleware = extensionSecrets({
      fetchData: { key: secret('key') },
      cacheExpiry: -1,
      port: emulator.port,
      token: testToken,
    })
    const handler = middy()
      .use(middleware)
      .handler(async (_event, context) => context.key)
    expect(await handler({}, lambdaContext())).toBe('first')
    emulator.setValues({ secrets: { key: 'second' } }, { keepCache: true })
    // A plain invalidate() asks again, and the agent's cache still answers the old value.
    middleware.invalidate()
    expect(await handler({}, lambdaContext())).toBe('first')
    middleware.invalidate(['key'], { refreshNow: true })
    expect(await handler({}, lambdaContext())).toBe('second')
    // The bypass is sent once: the next fetch after a plain invalidate() is an ordinary one.
    middleware.invalidate()
    expect(await handler({}, lambdaContext())).toBe('second')
    expect(emulator.requests.map((request) => [request.query.refreshNow, request.diagnosis])).toEqual([
      [undefined, 'miss'],
      [undefined, 'hit'],
      ['true', 'miss'],
      [undefined, 'hit'],
    ])
  })
})

function restoreToken(saved: string | undefined): void {
  if (saved === undefined) delete process.env.AWS_SESSION_TOKEN
  else process.env.AWS_SESSION_TOKEN = saved
}

describe("the middleware reads the agent's own errors", () => {
  it('names the upstream error type from its JSON body, and does not retry it', async () => {
    const emulator = await emulate({ flavour: 'agent', token: testToken, values: { secrets: {} } })
    const handler = middy()
      .use(
        extensionSecrets({ fetchData: { key: secret('prod/gone') }, port: emulator.port, token: testToken }),
      )
      .handler(async (_event, context) => context.key)
    const error = await handler({}, lambdaContext()).catch((failure: unknown) => failure)
    expect((error as { errors?: unknown[] }).errors?.[0]).toMatchObject({
      code: 'UPSTREAM_ERROR',
      status: 400,
      attempts: 1,
      message: expect.stringContaining('upstream ResourceNotFoundException (400)'),
    })
  })

  it('retries a throttled miss within the wait, and gets the value once the quota refills', async () => {
    const account = createAccount({ getSecretValuePerSecond: 2 })
    // The agent's own SDK retries briefly here, so that some misses reach the middleware as throttled.
    const emulator = await emulate({
      flavour: 'agent',
      token: testToken,
      account,
      upstream: { retryBackoffMs: 1 },
      values: { secrets: { a: '1', b: '2', c: '3', d: '4', e: '5', f: '6', g: '7' } },
    })
    const fetchData = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => [name, secret(name)]),
    )
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData,
          port: emulator.port,
          token: testToken,
          retry: { minTimeout: 50, maxTimeout: 200 },
        }),
      )
      .handler(async (_event, context) => {
        const values = context as unknown as Record<string, unknown>
        return Object.keys(fetchData)
          .map((key) => values[key])
          .join('')
      })
    expect(await handler({}, lambdaContext(10_000))).toBe('1234567')
    // Some answers were the agent's throttling status: retried, not failed.
    expect(emulator.requests.some((request) => request.diagnosis === 'throttled')).toBe(true)
  })
})
