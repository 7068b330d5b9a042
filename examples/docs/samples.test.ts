// The samples of docs/options.md, docs/errors.md and docs/migrating.md, run against the emulator.
import middy, { type MiddlewareObj } from '@middy/core'
import { clearCache } from '@middy/util'
import {
  ExtensionSecretsError,
  extensionSecrets,
  extensionSecretsValidateOptions,
} from 'middy-extension-secrets'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, afterEach, expect, test } from 'vitest'

const password = 'docs-sample-password'
const emulator = await startEmulator({
  values: {
    parameters: {
      '/app/api-url': 'https://api.example.com',
      '/app/hosts': { type: 'StringList', value: ['a.example.com', 'b.example.com'] },
      '/app/flags': { versions: ['{"v":1}', '{"v":2}', '{"v":3}'], labels: { Prod: 2 } },
      '/app/signing-key': { type: 'SecureString', value: 'signing-key-in-clear' },
    },
    secrets: {
      'prod/db': { json: { username: 'app', password } },
      'prod/api-key': {
        versions: [
          { stages: ['AWSPREVIOUS'], string: 'old-key' },
          { stages: ['AWSCURRENT'], string: 'new-key', versionId: 'a1b2c3d4-0000-4000-8000-000000000001' },
        ],
      },
      'prod/cert': { binary: Buffer.from([1, 2, 3]).toString('base64') },
    },
  },
})
// Lambda sets these two; the middleware reads them at each invocation.
process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
process.env.AWS_SESSION_TOKEN ??= 'local-test-token'
const { logFailedKeys } = await import('./errors.js')
const { from01, fromExtensionAlpha, fromPowertools, fromSecretsManager, fromSsm } = await import(
  './migrating.js'
)
const { entries, handler: defaultsHandler } = await import('./options.js')
const context = () => ({ getRemainingTimeInMillis: () => 3_000 }) as never

afterEach(() => {
  clearCache()
  emulator.setFaults([])
})
afterAll(() => emulator.close())

test('options.md: every option written out with its default is accepted and works', async () => {
  expect(await defaultsHandler({}, context())).toBe('https://api.example.com')
})

test('options.md: each fetchData entry produces what its comment says', async () => {
  extensionSecretsValidateOptions({ fetchData: entries })
  const handler = middy()
    .use(extensionSecrets({ fetchData: entries }))
    .handler(async (_event: unknown, ctx) => ctx)
  const values = (await handler({}, context())) as Record<string, unknown>
  expect(values.plain).toBe('https://api.example.com')
  expect(values.hosts).toEqual(['a.example.com', 'b.example.com'])
  expect(values.flags).toEqual({ v: 3 })
  expect(values.prodFlags).toEqual({ v: 2 })
  expect(values.cipher).toBeTypeOf('string')
  expect(values.cipher).not.toBe('signing-key-in-clear')
  expect(values.viaStore).toBe('app')
  expect(values.db).toEqual({ username: 'app', password })
  expect(values.password).toBe(password)
  expect(values.previous).toBe('old-key')
  expect(values.pinned).toBe('new-key')
  expect(values.cert).toEqual(new Uint8Array([1, 2, 3]))
  expect(values.pending).toBeUndefined()
})

test('errors.md: logFailedKeys logs one line per failed key, with no value in it', async () => {
  const lines: string[] = []
  emulator.setFaults([
    {
      action: 'respond',
      status: 400,
      body: 'an unexpected error occurred while executing request',
      match: { service: 'secret' },
    },
  ])
  const handler = middy()
    .use(extensionSecrets({ fetchData: { db: entries.db, apiUrl: entries.plain } }))
    .use(logFailedKeys((line) => lines.push(line)))
    .handler(async () => 'unreachable')
  await expect(handler({}, context())).rejects.toBeInstanceOf(ExtensionSecretsError)
  expect(lines).toHaveLength(1)
  expect(JSON.parse(lines[0]!)).toMatchObject({
    key: 'db',
    code: 'UPSTREAM_ERROR',
    source: 'secret',
    name: 'prod/db',
    status: 400,
    attempts: 1,
  })
  expect(lines.join()).not.toContain(password)
})

test('migrating.md: each replacement reads the values the old middleware read', async () => {
  const run = async (middleware: MiddlewareObj<unknown, any, Error, any, any>) => {
    const handler = middy()
      .use(middleware)
      .handler(async (_event: unknown, ctx) => ctx)
    return (await handler({}, context())) as Record<string, unknown>
  }
  const fromSsmValues = await run(fromSsm)
  expect(fromSsmValues.apiUrl).toBe('https://api.example.com')
  expect(fromSsmValues.hosts).toEqual(['a.example.com', 'b.example.com'])
  expect((await run(fromSecretsManager)).db).toEqual({ username: 'app', password })
  expect(await run(fromExtensionAlpha)).toMatchObject({ apiUrl: 'https://api.example.com' })
  expect((await run(fromExtensionAlpha)).db).toEqual({ username: 'app', password })
  expect(await fromPowertools({}, context())).toEqual({ apiUrl: 'https://api.example.com', user: 'app' })
})

test('migrating.md: from 0.1, the previous version is an optional key of its own', async () => {
  // prod/db has no AWSPREVIOUS version in the emulator: the optional key is undefined, not a failure.
  expect(await from01({}, context())).toEqual({ user: 'app', previousUser: undefined })
})
