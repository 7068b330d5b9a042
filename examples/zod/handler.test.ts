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

const failure = async (): Promise<ExtensionSecretsError> => {
  const error = await invoke().then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(ExtensionSecretsError)
  return error as ExtensionSecretsError
}

test('values that match the schemas reach the handler as the schemas output them', async () => {
  expect(await invoke()).toEqual({
    connection: 'app@db.internal:5432',
    samePort: true,
    maxItems: 50,
    timeoutMs: 2_000, // the schema's default
  })
})

test('a secret that breaks its schema fails with VALIDATION_ERROR, giving only the number of issues', async () => {
  // A rotation gone wrong: the port became a string and the password is too short.
  emulator.setValues({
    ...values,
    secrets: {
      'prod/db': { json: { host: 'db.internal', port: '5432', username: 'app', password: 'short-pw' } },
    },
  })
  const error = await failure()
  expect(error.code).toBe('FETCH_FAILED')
  const byKey = Object.fromEntries(error.errors!.map((keyError) => [keyError.key, keyError]))
  expect(Object.keys(byKey).sort()).toEqual(['db', 'dbPort'])
  expect(byKey.db!.code).toBe('VALIDATION_ERROR')
  // zod's messages and paths may quote the value: for a secret they are withheld whole.
  expect(byKey.db!.reason).toBe(
    'db (secret "prod/db"): the schema rejected the value (2 issues; messages withheld: the value is secret)',
  )
  expect(byKey.dbPort!.code).toBe('VALIDATION_ERROR')
  expect(byKey.dbPort!.reason).toContain('(1 issue; messages withheld: the value is secret)')
  expect(error.message).not.toContain('short-pw')
  expect(error.message).not.toContain('5432')
})

test("a String parameter that breaks its schema keeps zod's paths and messages", async () => {
  emulator.setValues({ ...values, parameters: { '/app/limits': '{"maxItems":"fifty"}' } })
  const error = await failure()
  expect(error.errors!.map((keyError) => keyError.key)).toEqual(['limits'])
  expect(error.errors![0]!.reason).toBe(
    'limits (parameter "/app/limits"): the schema rejected the value: maxItems: Invalid input: expected number, received string',
  )
})
