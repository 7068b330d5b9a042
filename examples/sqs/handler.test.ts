// Runs the SQS handler through its real Middy chain against the emulator on loopback.
import { createHmac } from 'node:crypto'
import type { SQSEvent, SQSRecord } from 'aws-lambda'
import { ExtensionSecretsError } from 'middy-extension-secrets'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'

const signingKey = 'webhook-signing-key-only-in-tests'

const emulator = await startEmulator({
  values: {
    parameters: {
      '/webhooks/destinations': {
        type: 'StringList',
        value: ['https://hooks.example.com/acme', 'https://hooks.example.com/globex'],
      },
    },
    secrets: { 'prod/webhook-signing-key': signingKey },
  },
})

let module: typeof import('./handler.js')
beforeAll(async () => {
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
  process.env.AWS_SESSION_TOKEN ??= 'local-test-token'
  module = await import('./handler.js')
})

afterEach(() => {
  emulator.setFaults([])
  module.delivered.length = 0
})

afterAll(async () => {
  await emulator.close()
})

const record = (messageId: string, body: string) => ({ messageId, body }) as SQSRecord
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records })
const context = () => ({ getRemainingTimeInMillis: () => 3_000 }) as never

test('records are signed with the secret; the ones that cannot be processed are reported', async () => {
  // The first invocation of a cold start: the extension is not ready for its first requests.
  emulator.setFaults([{ action: 'not-ready', times: 2 }])
  const response = await module.handler(
    batch(
      record('m1', '{"tenant":"acme","payload":{"n":1}}'),
      record('m2', '{"tenant":"initech","payload":{}}'),
      record('m3', 'not json'),
      record('m4', '{"tenant":"globex","payload":[1,2]}'),
    ),
    context(),
  )
  expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }] })
  expect(module.delivered).toEqual([
    {
      messageId: 'm1',
      destination: 'https://hooks.example.com/acme',
      signature: createHmac('sha256', signingKey).update('{"n":1}').digest('hex'),
    },
    {
      messageId: 'm4',
      destination: 'https://hooks.example.com/globex',
      signature: createHmac('sha256', signingKey).update('[1,2]').digest('hex'),
    },
  ])
  expect(emulator.requests.filter((request) => request.outcome === 'not-ready')).toHaveLength(2)
})

test('without the values the whole batch fails, so SQS delivers it again', async () => {
  emulator.setFaults([{ action: 'respond', status: 403, body: 'Bad Token' }])
  const failure = await module.handler(batch(record('m1', '{"tenant":"acme","payload":{}}')), context()).then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(failure).toBeInstanceOf(ExtensionSecretsError)
  const error = failure as ExtensionSecretsError
  expect(error.code).toBe('FETCH_FAILED')
  expect(error.errors?.map((keyError) => keyError.code)).toEqual(['TOKEN_REJECTED', 'TOKEN_REJECTED'])
  expect(module.delivered).toEqual([])
})
