// The rotation example against the emulator: an alternating-users rotation, then a password changed in
// place, picked up one invocation after the authentication failure; and the EMF lines it writes.
import { clearCache } from '@middy/util'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, expect, test } from 'vitest'
import { AuthenticationFailed, createHandler, type Database } from './rotation.js'

const emulator = await startEmulator({
  values: { secrets: { 'prod/db': { json: { username: 'app_a', password: 'password-a1-0123456789' } } } },
  token: 'local-test-token',
  // The extension's own cache, shortened so that the test does not wait 300 s for it.
  secretsManagerTtl: 0.1,
})
process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
process.env.AWS_SESSION_TOKEN = 'local-test-token'

afterAll(async () => {
  clearCache()
  await emulator.close()
})

/** A database that knows a set of user/password pairs. */
const database = (accepted: Map<string, string>): Database => ({
  connect: async (user, password) => {
    if (accepted.get(user) !== password)
      throw new AuthenticationFailed(`password authentication failed for ${user}`)
    return `connected as ${user}`
  },
})

const context = () => ({ getRemainingTimeInMillis: () => 3_000 }) as never
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('a rotated database password is picked up one invocation after the authentication failure', async () => {
  const accepted = new Map([['app_a', 'password-a1-0123456789']])
  const lines: string[] = []
  const handler = createHandler(database(accepted), (line) => lines.push(line))
  expect(await handler({}, context())).toBe('connected as app_a')

  // Alternating users: user B gets a new password and becomes current; A stays valid as AWSPREVIOUS.
  emulator.setValues({
    secrets: {
      'prod/db': {
        versions: [
          { stages: ['AWSPREVIOUS'], json: { username: 'app_a', password: 'password-a1-0123456789' } },
          { stages: ['AWSCURRENT'], json: { username: 'app_b', password: 'password-b1-0123456789' } },
        ],
      },
    },
  })
  accepted.set('app_b', 'password-b1-0123456789')
  // The cached credentials (A) still work: the rotation costs nothing.
  expect(await handler({}, context())).toBe('connected as app_a')

  // A's password changes in place (a single-user rotation, or the next alternating one).
  accepted.set('app_a', 'password-a2-0123456789')
  await expect(handler({}, context())).rejects.toBeInstanceOf(AuthenticationFailed)
  await sleep(120) // the extension's TTL, shortened above
  expect(await handler({}, context())).toBe('connected as app_b')

  const emf = lines.map((line) => JSON.parse(line))
  expect(emf[0]).toMatchObject({
    _aws: { CloudWatchMetrics: [{ Namespace: 'MyApp', Dimensions: [['Key']] }] },
    Key: 'db',
    'ExtensionSecrets.fetched': 1,
  })
  // fetched, then served from the cache twice, dropped by refreshOn, fetched again.
  expect(emf.map((line) => line.event.type)).toEqual(['fetched', 'hit', 'hit', 'fetched'])
  expect(lines.join('\n')).not.toMatch(/password-/)
})
