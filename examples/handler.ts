// The README's example, as a real file: the tests type-check it and run it against the emulator.
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'

type DbCredentials = { username: string; password: string }

export const handler = middy()
  .use(
    extensionSecrets({
      fetchData: {
        db: secret<DbCredentials>('prod/db'), // SecretString JSON, parsed
        dbPassword: secret('prod/db', { field: 'password' }), // one field of a JSON secret
        apiUrl: parameter('/app/api-url', { parse: 'text' }), // string
        hosts: parameter('/app/hosts', { parse: 'list' }), // StringList -> string[]
        signingKey: parameter('/app/signing-key', { parse: 'text' }), // SecureString, decrypted
        previous: secret('prod/api-key', { versionStage: 'AWSPREVIOUS', optional: true }), // absent: undefined
        flags: parameter('/app/flags', { version: 3, parse: 'json' }),
        cert: secret('prod/cert', { parse: 'binary' }), // SecretBinary -> Uint8Array
      },
      cacheExpiry: 60_000, // optional: keep values for a minute in this process
    }),
  )
  .handler(async (_event: unknown, context) => ({
    user: context.db.username,
    passwordLength: context.db.password.length + (typeof context.dbPassword === 'string' ? 0 : Number.NaN),
    apiUrl: context.apiUrl,
    firstHost: context.hosts[0],
    signingKeyLength: context.signingKey.length,
    hasPrevious: context.previous !== undefined,
    flags: context.flags,
    certBytes: context.cert.byteLength,
  }))
