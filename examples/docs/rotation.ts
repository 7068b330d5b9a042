// docs/rotation.md shows these.
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import { extensionSecrets, type StandardSchemaV1, secret } from 'middy-extension-secrets'
import { powertoolsEvents } from 'middy-extension-secrets/powertools'
import { refreshOn } from 'middy-extension-secrets/refresh-on'

type DbCredentials = { username: string; password: string }
declare const dbCredentials: StandardSchemaV1<unknown, DbCredentials>
declare const isAuthError: (error: unknown) => boolean
const fetchData = { db: secret('prod/db', { parse: 'json' }) }

// #region refresh-on
const secrets = extensionSecrets({
  fetchData: { db: secret('prod/db', { parse: 'json' }) },
  cacheExpiry: 300_000,
})
export const refreshing = middy()
  .use(secrets)
  // true: drop every cached key; a list: only those; false: nothing
  .use(refreshOn(secrets, (error) => ((error as { code?: string }).code === '28P01' ? ['db'] : false)))
  .handler(async () => ({ statusCode: 204 }))
// #endregion refresh-on

// #region refresh-now
// Only where the AWS Secrets Manager Agent listens on the port, not the Lambda layer.
export const throughAgent = middy()
  .use(secrets)
  .use(refreshOn(secrets, isAuthError, { refreshNow: true }))
  .handler(async () => ({ statusCode: 204 }))

// The same from anywhere else, such as a connection pool's error listener:
export const onPoolAuthError = () => secrets.invalidate(['db'], { refreshNow: true })
// #endregion refresh-now

// #region order
const ordered = extensionSecrets({ fetchData, cacheExpiry: 300_000 })
export const handler = middy()
  .use(httpErrorHandler()) // onError runs last
  .use(ordered)
  .use(refreshOn(ordered, isAuthError)) // onError runs first: sees the handler's own error
  .handler(async () => ({ statusCode: 204 }))
// #endregion order

// #region versions
export const both = extensionSecrets({
  fetchData: {
    db: secret('prod/db', { schema: dbCredentials }),
    // Absent outside a rotation: undefined, with a `missing` event, instead of a failure.
    previousDb: secret('prod/db', { versionStage: 'AWSPREVIOUS', schema: dbCredentials, optional: true }),
  },
  cacheExpiry: 300_000,
})
// context.db: DbCredentials; context.previousDb: DbCredentials | undefined
// #endregion versions

// #region stale-if-error
export const staleTolerant = extensionSecrets({
  fetchData,
  cacheExpiry: 60_000,
  staleIfError: { maxStale: 15 * 60_000 }, // when: isTransientError by default
})
// #endregion stale-if-error

// #region powertools
const logger = new Logger()
const metrics = new Metrics({ namespace: 'MyApp' })

export const observed = extensionSecrets({ fetchData, onEvent: powertoolsEvents({ logger, metrics }) })
// #endregion powertools
