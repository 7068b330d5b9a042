// docs/migrating.md shows these: the same values as the middleware each one replaces would read.
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'
import { refreshOn } from 'middy-extension-secrets/refresh-on'

type DbCredentials = { username: string; password: string }

/** PostgreSQL's code for a refused password. */
const isAuthError = (error: unknown) => (error as { code?: unknown } | null)?.code === '28P01'

// #region from-0-1
// Was (0.1):
//   extensionSecrets({
//     fetchData: { db: secret('prod/db', { stages: ['previous'] }) },
//     cacheExpiry: 300_000,
//     refreshOn: isAuthError,
//     bypassExtensionCache: 'refreshNow',
//   })
const secrets = extensionSecrets({
  fetchData: {
    db: secret<DbCredentials>('prod/db'),
    // Was `context.db.previous`: undefined when there is no previous version, so the type says so.
    previousDb: secret<DbCredentials | undefined>('prod/db', {
      versionStage: 'AWSPREVIOUS',
      optional: true,
    }),
  },
  cacheExpiry: 300_000,
})
export const from01 = middy()
  .use(secrets)
  .use(refreshOn(secrets, isAuthError, { refreshNow: true }))
  .handler(async (_event: unknown, context) => ({
    user: context.db.username,
    previousUser: context.previousDb?.username,
  }))
// #endregion from-0-1

// #region from-ssm
// Was: ssm({ fetchData: { apiUrl: '/app/api-url', hosts: '/app/hosts' }, setToContext: true,
//            cacheExpiry: 15 * 60 * 1000 })
export const fromSsm = extensionSecrets({
  fetchData: {
    apiUrl: parameter('/app/api-url'), // parse 'auto': JSON objects and arrays, as jsonSafeParse
    hosts: parameter('/app/hosts'), // a StringList arrives as string[], as with @middy/ssm
  },
  // The extension caches too (300 s by default): 0 here is usually enough.
  cacheExpiry: 15 * 60 * 1000,
})
// #endregion from-ssm

// #region from-secrets-manager
// Was: secretsManager({ fetchData: { db: 'prod/db' }, setToContext: true, cacheExpiry: -1 })
export const fromSecretsManager = extensionSecrets({
  fetchData: { db: secret<{ username: string; password: string }>('prod/db') },
  cacheExpiry: -1,
})
// #endregion from-secrets-manager

// #region from-powertools
// Was, inside the handler:
//   const apiUrl = await getParameter('/app/api-url', { maxAge: 60 })
//   const db = await getSecret('prod/db', { transform: 'json' })
export const fromPowertools = middy()
  .use(
    extensionSecrets({
      fetchData: {
        apiUrl: parameter('/app/api-url', { parse: 'text' }),
        db: secret<{ username: string; password: string }>('prod/db', { parse: 'json' }),
      },
      cacheExpiry: 60_000, // maxAge is in seconds, cacheExpiry in milliseconds
    }),
  )
  .handler(async (_event: unknown, context) => ({ apiUrl: context.apiUrl, user: context.db.username }))
// #endregion from-powertools

// #region from-extension-alpha
// Was: ssmExtension({ fetchData: { apiUrl: '/app/api-url' }, setToContext: true })
//  and secretsManagerExtension({ fetchData: { db: 'prod/db' }, setToContext: true })
export const fromExtensionAlpha = extensionSecrets({
  fetchData: {
    apiUrl: parameter('/app/api-url'),
    db: secret('prod/db'),
  },
})
// #endregion from-extension-alpha
