// Run with `npx vitest run`: the emulator stands in for the extension on loopback.
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { handler } from './handler.js'

const emulator = await startEmulator({
  values: {
    parameters: { '/app/api-url': 'https://api.example.com' },
    secrets: { 'prod/db': { json: { username: 'app', password: 'local-only' } } },
  },
})

beforeAll(() => {
  // Lambda sets these two; here the emulator's port and any non-empty token. The middleware reads
  // them at each invocation.
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
  process.env.AWS_SESSION_TOKEN ??= 'local-test-token'
})

afterAll(() => emulator.close())

test('the handler gets the secret and the parameter', async () => {
  // getRemainingTimeInMillis bounds the wait for the extension, as in Lambda.
  const context = { getRemainingTimeInMillis: () => 3_000 }
  const result = await handler({}, context as never)
  expect(result).toEqual({ user: 'app', apiUrl: 'https://api.example.com' })
})
