// The README's "Features you import" section shows this region.
import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics } from '@aws-lambda-powertools/metrics'
import middy from '@middy/core'
import { extensionSecrets, type StandardSchemaV1, secret } from 'middy-extension-secrets'
import { powertoolsEvents } from 'middy-extension-secrets/powertools'
import { refreshOn } from 'middy-extension-secrets/refresh-on'

type DbCredentials = { username: string; password: string }
declare const dbCredentials: StandardSchemaV1<unknown, DbCredentials>
class AuthenticationFailed extends Error {}
const logger = new Logger()
const metrics = new Metrics({ namespace: 'MyApp' })

// #region features
const secrets = extensionSecrets({
  fetchData: { db: secret('prod/db', { schema: dbCredentials }) },
  cacheExpiry: 300_000,
  staleIfError: { maxStale: 900_000 }, // ride out extension hiccups, within a bound
  onEvent: powertoolsEvents({ logger, metrics }), // or any (event) => void
})

export const handler = middy()
  .use(secrets)
  // The handler's error says the cached password was rotated: the next invocation fetches it again.
  .use(refreshOn(secrets, (error) => error instanceof AuthenticationFailed))
  .handler(async (_event: unknown, context) => context.db.username)

// From anywhere, e.g. a connection pool's error listener. With the AWS Secrets Manager Agent,
// `{ refreshNow: true }` also skips the agent's own cache on that fetch.
secrets.invalidate(['db'])
// #endregion features
