// How to test a handler with the emulator: start it and point the middleware at it through the same
// environment variables Lambda sets. The middleware reads them when it asks the extension, so the
// handler is imported as usual.
import { clearCache } from '@middy/util'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, expect, test } from 'vitest'
import { handler } from './handler.js'

const emulator = await startEmulator({
  values: {
    parameters: {
      '/app/api-url': 'https://api.example.com',
      '/app/hosts': { type: 'StringList', value: ['a.example.com', 'b.example.com'] },
      '/app/signing-key': { type: 'SecureString', value: 'test-signing-key' },
      '/app/flags': { versions: ['{"beta":false}', '{"beta":true}', '{"beta":true,"dark":true}'] },
    },
    secrets: {
      'prod/db': { json: { username: 'app', password: 'test-password' } },
      'prod/api-key': {
        versions: [
          { stages: ['AWSPREVIOUS'], string: 'old-key' },
          { stages: ['AWSCURRENT'], string: 'new-key' },
        ],
      },
      'prod/cert': { binary: Buffer.from('certificate').toString('base64') },
    },
  },
  // Rehearse a cold start: the first requests get the extension's "not ready" answer.
  faults: [{ action: 'not-ready', times: 3 }],
})

process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
process.env.AWS_SESSION_TOKEN ??= 'local-test-token'

afterAll(async () => {
  clearCache()
  await emulator.close()
})

test('the handler receives every value, after waiting for the extension to be ready', async () => {
  // Middy types the context parameter with what the middleware adds; a test passes a plain one.
  const context = { getRemainingTimeInMillis: () => 3_000 } as never
  const result = await handler({}, context)
  expect(result).toEqual({
    user: 'app',
    passwordLength: 'test-password'.length,
    apiUrl: 'https://api.example.com',
    firstHost: 'a.example.com',
    signingKeyLength: 'test-signing-key'.length,
    hasPrevious: true,
    flags: { beta: true, dark: true },
    certBytes: 'certificate'.length,
  })
  expect(emulator.requests.some((request) => request.outcome === 'not-ready')).toBe(true)
})

test('a second invocation within cacheExpiry sends no request', async () => {
  const before = emulator.requests.length
  await handler({}, { getRemainingTimeInMillis: () => 3_000 } as never)
  expect(emulator.requests.length).toBe(before)
})
