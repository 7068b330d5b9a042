// docs/options.md shows these. Every option with its default written out: leaving any of them out
// changes nothing.
import middy from '@middy/core'
import { extensionSecrets, isTransientError, parameter, secret } from 'middy-extension-secrets'

declare const outageDeclared: () => Promise<boolean>

// #region defaults
export const handler = middy()
  .use(
    extensionSecrets({
      fetchData: {
        db: secret('prod/db'),
        apiUrl: parameter('/app/api-url'),
      },
      setToContext: true,
      hideSecrets: true,
      cacheKey: 'default',
      cacheExpiry: 0,
      // staleIfError: off
      requestTimeout: 5_000,
      retry: {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: 3,
        maxTimeout: 4,
        factor: 2,
        randomize: true,
        maxRetryTime: 10_000,
      },
      // coldStartRetry: off
      deadlineMargin: 250,
      // port: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, read when a request is made, else 2773
      host: '127.0.0.1',
      // token: AWS_SESSION_TOKEN, read when a request is made
      // onEvent: none
    }),
  )
  .handler(async (_event: unknown, context) => context.apiUrl)
// #endregion defaults

// #region entries
export const entries = {
  // Parameter Store
  plain: parameter('/app/api-url'), // parse 'auto': a String stays a string
  hosts: parameter('/app/hosts', { parse: 'list' }), // a StringList as string[]
  flags: parameter('/app/flags', { version: 3, parse: 'json' }), // a version number...
  prodFlags: parameter('/app/flags', { label: 'Prod', parse: 'json' }), // ...or a label, not both
  cipher: parameter('/app/signing-key', { decrypt: false }), // a SecureString's ciphertext
  viaStore: parameter('/aws/reference/secretsmanager/prod/db', { field: 'username' }), // a secret
  // Secrets Manager
  db: secret('prod/db'), // parse 'auto': JSON text becomes an object
  password: secret('prod/db', { field: 'password' }), // one field of the JSON
  previous: secret('prod/api-key', { versionStage: 'AWSPREVIOUS' }), // a staging label...
  pinned: secret('prod/api-key', { versionId: 'a1b2c3d4-0000-4000-8000-000000000001' }), // ...or an id
  cert: secret('prod/cert', { parse: 'binary' }), // a SecretBinary as Uint8Array
  // Either service
  pending: secret('prod/api-key', { versionStage: 'AWSPENDING', optional: true }), // undefined if absent
}
// #endregion entries

// #region stale-when
export const tolerant = extensionSecrets({
  fetchData: { flags: parameter('/app/flags', { parse: 'json' }) },
  cacheExpiry: 60_000,
  staleIfError: {
    maxStale: 15 * 60_000,
    // Also hide the generic 400 while an outage is declared; awaited within the invocation's deadline.
    when: async (error) =>
      isTransientError(error) || (error.code === 'UPSTREAM_ERROR' && (await outageDeclared())),
  },
})
// #endregion stale-when

// #region cold-start-retry
export const stormReady = extensionSecrets({
  fetchData: { apiUrl: parameter('/app/api-url') },
  // For cold-start storms against Parameter Store's quota: docs/scaling.md.
  coldStartRetry: { retries: 5, minTimeout: 2_000, maxTimeout: 8_000 },
  // Above a throttled read's slowest answer, so no attempt is cut and sent again meanwhile.
  requestTimeout: 7_000,
})
// #endregion cold-start-retry
