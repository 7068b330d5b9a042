// Runs the zod-validated handler through its real Middy chain against the emulator on loopback.
import { ExtensionSecretsError } from 'middy-extension-secrets'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'

const password = 'db-password-only-in-tests'
const values = {
  parameters: { '/app/limits': '{"maxItems":50}' },
  secrets: {
    'prod/db': { json: { host: 'db.internal', port: 5432, username: 'app', password } },
  },
}

const emulator = await startEmulator({ values, cacheEnabled: false })

let handler: typeof import('./handler.js').handler
beforeAll(async () => {
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
  process.env.AWS_SESSION_TOKEN ??= 'local-test-token'
  ;({ handler } = await import('./handler.js'))
})

afterEach(() => emulator.setValues(values))

afterAll(async () => {
  await emulator.close()
})

const invoke = () => handler({}, { getRemainingTimeInMillis: () => 3_000 } as never)

test('values that match the schemas reach the handler as the schemas output them', async () => {
  expect(await invoke()).toEqual({
    connection: 'app@db.internal:5432',
    samePort: true,
    maxItems: 50,
    timeoutMs: 2_000, // the schema's default
  })
})

test('a value that breaks its schema fails the invocation with VALIDATION_ERROR, never quoting it', async () => {
  // A rotation gone wrong: the port became a string and the password is too short.
  emulator.setValues({
    ...values,
    secrets: {
      'prod/db': { json: { host: 'db.internal', port: '5432', username: 'app', password: 'short-pw' } },
    },
  })
  const failure = await invoke().then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(failure).toBeInstanceOf(ExtensionSecretsError)
  const error = failure as ExtensionSecretsError
  expect(error.code).toBe('FETCH_FAILED')
  const byKey = Object.fromEntries(error.errors!.map((keyError) => [keyError.key, keyError]))
  expect(Object.keys(byKey).sort()).toEqual(['db', 'dbPort'])
  expect(byKey.db!.code).toBe('VALIDATION_ERROR')
  // zod's messages are kept; the issue paths are redacted, since keys of a value may be secret too.
  expect(byKey.db!.message).toContain('[redacted]: Invalid input: expected number, received string')
  expect(byKey.db!.message).toContain('[redacted]: Too small: expected string to have >=12 characters')
  expect(byKey.dbPort!.code).toBe('VALIDATION_ERROR')
  expect(error.message).not.toContain('short-pw')
  expect(error.message).not.toContain('5432')
})
