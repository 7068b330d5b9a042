// Runs the HTTP API handler through its real Middy chain against the emulator on loopback.
import { clearCache } from '@middy/util'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest'

const partnerKey = 'partner-key-only-in-tests'

const emulator = await startEmulator({
  values: {
    parameters: {
      '/shop/prices': '{"book":12,"pen":2}',
      '/shop/partner-url': 'https://partner.example.com/orders',
    },
    secrets: { 'prod/partner-api': { json: { apiKey: partnerKey, accountId: 'acct-42' } } },
  },
})

// Middy's error handler logs with the console.error it found when the handler module loaded, so the
// spy is in place before the import; the tests read what it logged.
const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)

let handler: typeof import('./handler.js').handler
beforeAll(async () => {
  // Read by the middleware at each invocation; set here, before the first one.
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
  process.env.AWS_SESSION_TOKEN ??= 'local-test-token'
  ;({ handler } = await import('./handler.js'))
})

afterEach(() => {
  clearCache()
  emulator.setFaults([])
  logged.mockClear()
})

afterAll(async () => {
  logged.mockRestore()
  await emulator.close()
})

const post = (body: string, contentType = 'application/json') =>
  ({
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    rawQueryString: '',
    headers: { 'content-type': contentType },
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/orders' } },
  }) as unknown as APIGatewayProxyEventV2

const invoke = async (event: APIGatewayProxyEventV2) =>
  (await handler(
    event as never,
    {
      getRemainingTimeInMillis: () => 3_000,
    } as never,
  )) as APIGatewayProxyStructuredResultV2

test('a valid order is priced with the values read through the extension', async () => {
  const response = await invoke(post('{"item":"book","quantity":3}'))
  expect(response.statusCode).toBe(201)
  expect(JSON.parse(response.body!)).toEqual({
    item: 'book',
    quantity: 3,
    total: 36,
    partnerAccount: 'acct-42',
    submitTo: 'https://partner.example.com/orders',
  })
})

test('a bad body is a 4xx from the error handler, and the secret never reaches the response', async () => {
  const invalid = await invoke(post('{"item":"book","quantity":0}'))
  expect(invalid.statusCode).toBe(400)
  expect(invalid.body).toContain('quantity')
  const unknown = await invoke(post('{"item":"lamp","quantity":1}'))
  expect(unknown.statusCode).toBe(404)
  const notJson = await invoke(post('item=book', 'application/x-www-form-urlencoded'))
  expect(notJson.statusCode).toBe(415)
  for (const response of [invalid, unknown, notJson])
    expect(JSON.stringify(response)).not.toContain(partnerKey)
  expect(logged).toHaveBeenCalledTimes(3)
})

test('when the extension cannot serve, the client gets a bare 500 and the log names the failed key', async () => {
  emulator.setFaults([
    {
      action: 'respond',
      status: 400,
      body: 'an unexpected error occurred while executing request',
      match: { service: 'secret' },
    },
  ])
  const response = await invoke(post('{"item":"book","quantity":1}'))
  expect(response.statusCode).toBe(500)
  expect(response.body).toBeUndefined()
  expect(logged).toHaveBeenCalledTimes(1)
  const error = logged.mock.calls[0]![0] as { code: string; message: string }
  expect(error.code).toBe('FETCH_FAILED')
  expect(error.message).toContain('UPSTREAM_ERROR partner')
  expect(error.message).not.toContain(partnerKey)
})
