import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import inputOutputLogger from '@middy/input-output-logger'
import { afterEach, expect, test, vi } from 'vitest'
import { extensionSecrets, parameter, secret } from '../src/index.js'
import { lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// The middleware in the same chains as Middy's official middlewares.

const start = useEmulator()
afterEach(() => {
  vi.restoreAllMocks()
})

test('works between input-output-logger and http-error-handler, and nothing logged holds a secret', async () => {
  const emulator = await start()
  const logged: unknown[] = []
  const consoleSpy = vi.spyOn(console, 'log')
  const handler = middy()
    .use(inputOutputLogger({ logger: (message: unknown) => logged.push(message), awsContext: true }))
    .use(httpErrorHandler())
    .use(
      extensionSecrets({
        fetchData: { db: secret('prod/db', { field: 'password' }), url: parameter('/app/api-url') },
        port: emulator.port,
        token: testToken,
      }),
    )
    .handler(async (_event, context) => ({
      statusCode: 200,
      body: `password length ${String(context.db).length}, url ${context.url}`,
    }))
  const response = await handler({ path: '/' }, lambdaContext())
  expect(response).toEqual({
    statusCode: 200,
    body: `password length ${`${secretMarker}-db-password`.length}, url https://api.example.com`,
  })
  expect(JSON.stringify(logged)).not.toContain(secretMarker)
  expect(logged).toHaveLength(2)
  // The package itself never writes to the console.
  expect(consoleSpy).not.toHaveBeenCalled()
})

test('a failed fetch becomes a 500 through http-error-handler, without details in the response', async () => {
  const emulator = await start()
  const handler = middy()
    .use(httpErrorHandler({ logger: false }))
    .use(
      extensionSecrets({
        fetchData: { missing: secret('prod/missing') },
        port: emulator.port,
        token: testToken,
      }),
    )
    .handler(async () => ({ statusCode: 200, body: 'unreachable' }))
  const response = (await handler({}, lambdaContext())) as { statusCode: number; body?: string }
  expect(response.statusCode).toBe(500)
  expect(response.body ?? '').not.toContain('prod/missing')
})

test('two instances in one chain each set their own keys', async () => {
  const emulator = await start()
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData: { url: parameter('/app/api-url') },
        port: emulator.port,
        token: testToken,
      }),
    )
    .use(
      extensionSecrets({
        fetchData: { hosts: parameter('/app/hosts') },
        port: emulator.port,
        token: testToken,
        cacheExpiry: -1,
      }),
    )
    .handler(async (_event, context) => [context.url, context.hosts])
  expect(await handler({}, lambdaContext())).toEqual([
    'https://api.example.com',
    ['a.example.com', 'b.example.com'],
  ])
})
