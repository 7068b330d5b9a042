// docs/rotation.md shows these.
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import { extensionSecrets, powertoolsEvents, type StandardSchemaV1, secret } from 'middy-extension-secrets'

type DbCredentials = { username: string; password: string }
declare const dbCredentials: StandardSchemaV1<unknown, DbCredentials>
declare const refreshOn: (error: unknown) => boolean
const fetchData = { db: secret('prod/db', { parse: 'json' }) }

// #region refresh-on
export const refreshing = extensionSecrets({
  fetchData: { db: secret('prod/db', { parse: 'json' }) },
  cacheExpiry: 300_000,
  // true: drop every cached key; a list: only those; false: nothing
  refreshOn: (error) => ((error as { code?: string }).code === '28P01' ? ['db'] : false),
})
// #endregion refresh-on

// #region order
export const handler = middy()
  .use(httpErrorHandler()) // onError runs last
  .use(extensionSecrets({ fetchData, cacheExpiry: 300_000, refreshOn })) // onError runs first: sees the original error
  .handler(async () => ({ statusCode: 204 }))
// #endregion order

// #region stages
export const staged = extensionSecrets({
  fetchData: { db: secret('prod/db', { stages: ['previous', 'pending'], schema: dbCredentials }) },
  cacheExpiry: 300_000,
})
// context.db: { current: DbCredentials; previous?: DbCredentials; pending?: DbCredentials }
// #endregion stages

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
